// spf/check.hpp: SPF evaluation, check_host() of RFC 7208 §4, for the MAIL FROM and HELO
// identities (§2.3, §2.4).
//
// STANDARDS: RFC 7208 (all seven results, every mechanism and modifier, macros, the limits of
// §4.6.4: 10 DNS-querying terms, 2 void lookups, 10 MX and PTR names); Received-SPF (§9.1).
// SECURITY: everything comes from DNS and the peer; limits bound the work one message can
// cause. The suite of RFC 7208 test cases runs in tests/unit/spf/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "base/ip.hpp"
#include "dns/lookup.hpp"

namespace mk::spf {

enum class Outcome { none, neutral, pass, fail, softfail, temperror, permerror };
std::string_view outcome_name(Outcome r);  // "pass"

inline constexpr int kMaxDnsMechanisms = 10;  // RFC 7208 §4.6.4
inline constexpr int kMaxVoidLookups = 2;
inline constexpr int kMaxMxNames = 10;
inline constexpr int kMaxPtrNames = 10;

struct Request {
  IpAddr ip;
  std::string sender;  // MAIL FROM address; "" for the null sender (then postmaster@helo)
  std::string helo;
  std::string receiver = "unknown";  // %{r}: our host name
  std::int64_t timestamp = 0;        // %{t}
  std::string default_explanation;   // the explanation of a fail without exp=
};

struct Verdict {
  Outcome result = Outcome::none;
  std::string domain;       // the identity's domain that was checked
  std::string identity;     // "mailfrom" or "helo"
  std::string mechanism;    // the matching term, or "default" / "redirect"
  std::string explanation;  // fail only
  std::string problem;      // why temperror / permerror / none
};

// The MAIL FROM identity (or postmaster@helo for the null sender, §2.4).
boost::asio::awaitable<Verdict> check_mail_from(dns::Lookup& dns, Request req);
// The HELO identity (§2.3).
boost::asio::awaitable<Verdict> check_helo(dns::Lookup& dns, Request req);

// A Received-SPF header field (§9.1), "Received-SPF: pass (...) ...\r\n".
std::string received_spf(const Verdict& v, const Request& req);

}  // namespace mk::spf
