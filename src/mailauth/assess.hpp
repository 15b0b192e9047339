// mailauth/assess.hpp: everything we verify about who sent an incoming message: SPF
// (MAIL FROM, or HELO for the null sender), DKIM, DMARC, and the client's reverse DNS
// (iprev, FCrDNS) and the ARC chain it carries (RFC 8617), summed up in an Authentication-Results field (RFC 8601).
//
// STANDARDS: RFC 8601 (Authentication-Results, including removal of forged fields claiming
// our authserv-id, §5), RFC 7208, RFC 6376, RFC 7489; iprev per RFC 8601 §3.
// SECURITY: the result is advice for the receiving policy (smtp/server.cpp decides); every
// string taken from the peer or DNS is sanitized before it goes into a header field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "arc/arc.hpp"
#include "base/ip.hpp"
#include "dkim/verify.hpp"
#include "dmarc/dmarc.hpp"
#include "dns/lookup.hpp"
#include "message/parsed.hpp"
#include "spf/check.hpp"

namespace mk::mailauth {

struct Params {
  IpAddr ip;
  bool have_ip = true;  // false (check-message without --ip): SPF and iprev are not evaluated
  std::string helo;
  std::string mail_from;   // "" for the null sender
  std::string authserv_id;  // our host name
  std::int64_t now = 0;
  int sample = 0;  // uniform in [0, 100), for DMARC pct=
};

enum class Iprev { pass, fail, temperror, permerror };
std::string_view iprev_name(Iprev r);

struct Assessment {
  spf::Verdict spf;
  spf::Verdict helo_spf;  // the HELO identity (RFC 7208 §2.3), a signal for filtering
  std::vector<dkim::SigResult> dkim;
  dmarc::Verdict dmarc;
  arc::ChainResult arc;
  Iprev iprev = Iprev::fail;
  std::string ptr_name;      // the forward-confirmed name, if iprev passed
  bool helo_matches = false;  // HELO names the forward-confirmed host, or resolves to the client IP
  std::size_t from_fields = 0;             // From: header fields
  std::vector<std::string> from_domains;   // distinct domains of the From: addresses
  std::string header;  // "Authentication-Results: ...\r\n"
};

// `msg` is the message as received (CRLF), and must outlive the coroutine. The authors are
// msg.authors() (one rule for every stage); DKIM and ARC read the bytes by their own
// canonicalization rules (dkim/canon.hpp).
boost::asio::awaitable<Assessment> assess(dns::Lookup& dns, const dmarc::OrgDomains& orgs, Params p,
                                          const message::Parsed& msg);

// The Authentication-Results field for an assessment.
std::string authentication_results(const Assessment& a, const Params& p);

// The content without the Authentication-Results fields claiming `authserv_id` (RFC 8601
// §5: they can only be forgeries, since we are the first to add ours here).
std::string strip_own_results(const message::Parsed& msg, std::string_view authserv_id, std::size_t* removed);

}  // namespace mk::mailauth
