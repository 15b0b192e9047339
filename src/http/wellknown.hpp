// http/wellknown.hpp: what mail clients and sending servers fetch from a mail domain's web
// names: the MTA-STS policy (mta-sts.DOMAIN), Thunderbird's autoconfig file
// (autoconfig.DOMAIN), Outlook's autodiscover answer (autodiscover.DOMAIN) and an Apple
// configuration profile, each for the domains this server hosts and no other.
//
// With only an address and a password, a client that asks any of these finds IMAP on 993
// (and 143 with STARTTLS) and submission on 465 (and 587 with STARTTLS), in the order RFC
// 8314 §5.1 asks for: implicit TLS first.
// STANDARDS: RFC 8461 §3.3 (policy at /.well-known/mta-sts.txt, text/plain, HTTPS only),
// Thunderbird autoconfig (clientConfig 1.1), Microsoft's Autodiscover POX schema (2006/2006a),
// Apple's Configuration Profile Reference (com.apple.mail.managed), RFC 8314.
// SECURITY: the answers say nothing about whether an account exists (the same for every
// address of a hosted domain, so they cannot be used to find valid addresses); the address
// a client sends is checked for syntax and escaped before it is written into XML; the
// autodiscover request is read with a bounded search, not an XML parser (no entities, no DTD).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "http/router.hpp"

namespace mk::http {

// What the answers announce.
struct MailSite {
  std::string hostname;  // the server's name, in every answer and in the certificate
  std::uint16_t imaps_port = 993, imap_port = 143, submissions_port = 465, submission_port = 587;
  // Whether a domain is hosted here (lower-case); the answers exist only for those.
  std::function<bool(std::string_view)> hosted;
};

// GET /.well-known/mta-sts.txt on mta-sts.DOMAIN.
Response mta_sts(const MailSite& site, const Request& req);
// GET /.well-known/autoconfig/mail/config-v1.1.xml and /mail/config-v1.1.xml (autoconfig.DOMAIN;
// the domain from ?emailaddress= when given, else from the Host).
Response autoconfig(const MailSite& site, const Request& req);
// POST /autodiscover/autodiscover.xml (and the same path in other capitalizations).
Response autodiscover(const MailSite& site, const Request& req);
// GET /apple/mail.mobileconfig?emailaddress=ADDRESS: a profile that sets the account up.
Response apple_profile(const MailSite& site, const Request& req);

// Adds all of the above to a router.
void add_well_known(Router& router, const MailSite& site);

}  // namespace mk::http
