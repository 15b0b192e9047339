// outbound/mta_sts_fetch.hpp: fetching a domain's MTA-STS policy the way a sending server
// does, shared by the queue runner (which caches and applies it) and `mailkeep check` (which
// fetches its own domains' policies to see what senders see).
//
// STANDARDS: RFC 8461 §3.3: https://mta-sts.DOMAIN/.well-known/mta-sts.txt over HTTPS with a
// certificate valid for that name (WebPKI, no DANE), status 200 without following redirects,
// media type text/plain, at most 64 KiB (tlspolicy::kMaxPolicySize).
// SECURITY: the response is untrusted: read with a size bound and a deadline, parsed by the
// fuzzed pure parsers of tlspolicy/mta_sts.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"
#include "dns/lookup.hpp"
#include "net/tls.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::outbound {

struct StsFetch {
  std::uint16_t port = 443;  // the policy host's HTTPS port (other values: test rigs)
  std::chrono::milliseconds timeout{30000};  // connecting, the handshake, and reading, each
};

// The policy served at mta-sts.DOMAIN (its id is left empty: it comes from the TXT record).
// tls must verify against the trust store the sender uses (net::make_client_tls).
// The error says which step failed and why, naming the host.
boost::asio::awaitable<Result<tlspolicy::StsPolicy>> fetch_sts_policy(dns::Lookup& dns, net::TlsContext& tls,
                                                                       std::string domain, StsFetch how);

// The same, also handing back the policy text as served (mailkeep check compares its id).
struct FetchedPolicy {
  tlspolicy::StsPolicy policy;
  std::string text;
};
boost::asio::awaitable<Result<FetchedPolicy>> fetch_sts_policy_text(dns::Lookup& dns, net::TlsContext& tls,
                                                                    std::string domain, StsFetch how);

}  // namespace mk::outbound
