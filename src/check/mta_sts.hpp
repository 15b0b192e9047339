// check/mta_sts.hpp: a hosted domain's MTA-STS policy, fetched the way a sending server
// fetches it (outbound/mta_sts_fetch.hpp: the same code the queue runner uses), and judged
// the way a sender uses it: the policy parses, its mode is enforce or testing, this server's
// hostname matches one of its mx patterns, and the _mta-sts TXT record's id is the id of the
// policy served now, so senders that cached an older policy fetch this one.
// The TXT record's presence and exact text are the records check's; this one judges only
// what senders do with it.
// STANDARDS: RFC 8461 §3.1 (TXT: exactly one v=STSv1 record), §3.2 (policy), §3.3 (fetch),
// §4.1 (mx patterns), §5 (policy ids and caching).
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "check/finding.hpp"
#include "check/lookup.hpp"
#include "check/records.hpp"
#include "dns/lookup.hpp"
#include "net/tls.hpp"
#include "outbound/mta_sts_fetch.hpp"

namespace mk::check {

// Pure: the verdict on a domain's published TXT RRset (_mta-sts.DOMAIN) and the fetch result.
std::vector<Finding> judge_mta_sts(const std::string& domain, const std::string& hostname, const PublishedRrset& txt,
                                   const Result<outbound::FetchedPolicy>& fetched);

// A fetch that fails is tried again (retry), as a sender would at its next delivery.
boost::asio::awaitable<std::vector<Finding>> check_mta_sts(dns::Lookup& dns, net::TlsContext& tls, std::string domain,
                                                           std::string hostname, outbound::StsFetch how,
                                                           RetryPolicy retry);

}  // namespace mk::check
