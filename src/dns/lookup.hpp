// dns/lookup.hpp: the DNS interface the specification modules (SPF, DKIM, DMARC, ARC) query.
//
// The libunbound Resolver implements it in the server; MockLookup (dns/mock.hpp) answers from
// a record map in tests. Answers carry wire-format RDATA, decoded by dns/rdata.hpp, so the
// decoders that face untrusted data are the same in both.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"

namespace mk::dns {

struct Answer {
  int rcode = 0;  // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN
  bool nxdomain = false;
  bool secure = false;  // DNSSEC-validated
  bool bogus = false;   // validation failed: treat as an attack, not as "no data"
  std::string why_bogus;
  std::vector<std::string> rdata;  // wire-format RDATA, one per record
  // A temporary condition: retry later (SERVFAIL, timeouts, bogus).
  bool temporary() const { return bogus || (rcode != 0 && rcode != 3); }
};

class Lookup {
 public:
  virtual ~Lookup() = default;
  // The answer, or an error for a timeout or a local failure. CNAMEs are followed.
  virtual boost::asio::awaitable<Result<Answer>> query(std::string name, int type) = 0;
};

}  // namespace mk::dns
