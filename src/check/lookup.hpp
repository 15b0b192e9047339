// check/lookup.hpp: the DNS as mailkeep check asks it: each query retried when it fails
// transiently, so one lost packet or one SERVFAIL from an overloaded server is not reported
// as a missing record (the "reverse DNS not set" that other checkers report one day and not
// the next), and every check's lookups together bounded in time.
//
// A transient failure is a timeout or local error, or an answer with an rcode other than
// NOERROR and NXDOMAIN (SERVFAIL, REFUSED). NXDOMAIN, "no records" and a DNSSEC-bogus answer
// are definite: they are returned at once (a bogus answer does not become valid by asking
// again, and the validator caches it).
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "check/records.hpp"
#include "dns/lookup.hpp"

namespace mk::check {

struct RetryPolicy {
  int attempts = 3;
  std::chrono::milliseconds pause{1000};  // between attempts
};

class RetryLookup final : public dns::Lookup {
 public:
  RetryLookup(dns::Lookup& inner, RetryPolicy policy) : inner_(inner), policy_(policy) {}
  // The first definite answer, else the last failure (with "after N attempts" in its message).
  boost::asio::awaitable<Result<dns::Answer>> query(std::string name, int type) override;

 private:
  dns::Lookup& inner_;
  RetryPolicy policy_;
};

// Whether an answer (or its absence) is worth asking again.
bool transient(const Result<dns::Answer>& r);

// One RRset as PublishedRrset (check/records.hpp); type is "MX", "TXT", ...
boost::asio::awaitable<PublishedRrset> fetch_rrset(dns::Lookup& dns, std::string owner, std::string type);

// Short words for a failed or transient lookup: "timeout", "SERVFAIL", "REFUSED", ...
std::string failure_text(const Result<dns::Answer>& r);

}  // namespace mk::check
