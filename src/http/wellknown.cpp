#include "http/wellknown.hpp"

#include <array>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "message/address.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::http {
namespace {

// The longest EMailAddress read from an autodiscover request.
constexpr std::size_t kMaxAddress = 320;

// The domain a request is about: the address's when one is given and valid, else the Host
// with the service's label removed ("autoconfig.example.org" -> "example.org").
std::optional<std::string> requested_domain(const Request& req, std::string_view label,
                                            std::optional<std::string>* address = nullptr) {
  if (auto a = req.param("emailaddress")) {
    auto mb = message::parse_mailbox(*a, true);
    if (!mb || mb->domain_literal || mb->domain.empty()) return std::nullopt;
    if (address) *address = mb->canonical();
    return to_lower(mb->domain);
  }
  const std::string prefix = std::string(label) + ".";
  if (req.host.starts_with(prefix) && req.host.size() > prefix.size()) return req.host.substr(prefix.size());
  return std::nullopt;
}

Response xml(std::string body, std::string_view type = "application/xml; charset=utf-8") {
  Response r;
  r.content_type = std::string(type);
  r.body = std::move(body);
  return r;
}

Response not_hosted() { return Response::text(404, "This server does not host that domain.\n"); }

// A name-based UUID (RFC 9562 §5.8 layout, version 8) from a text: the same address always
// gets the same profile identifiers, so installing it again replaces the first one.
std::string stable_uuid(std::string_view text, std::string_view salt) {
  std::uint64_t a = 14695981039346656037ull, b = 1099511628211ull * 31;
  for (unsigned char c : salt) a = (a ^ c) * 1099511628211ull, b = (b ^ c) * 1099511628211ull + 7;
  for (unsigned char c : text) a = (a ^ c) * 1099511628211ull, b = (b ^ (c + 1u)) * 1099511628211ull + 7;
  std::array<unsigned char, 16> u{};
  for (int i = 0; i < 8; ++i) u[std::size_t(i)] = std::uint8_t(a >> (8 * i)), u[std::size_t(8 + i)] = std::uint8_t(b >> (8 * i));
  u[6] = std::uint8_t((u[6] & 0x0f) | 0x80);  // version 8
  u[8] = std::uint8_t((u[8] & 0x3f) | 0x80);  // variant 10
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02X}", u[i]);
  }
  return out;
}

}  // namespace

Response mta_sts(const MailSite& site, const Request& req) {
  // RFC 8461 §3.3: the policy of DOMAIN lives on mta-sts.DOMAIN only.
  constexpr std::string_view kPrefix = "mta-sts.";
  if (!req.host.starts_with(kPrefix) || !site.hosted(req.host.substr(kPrefix.size()))) return not_hosted();
  Response r = Response::text(200, tlspolicy::served_sts_policy(site.hostname));
  r.content_type = "text/plain";
  // Senders cache by max_age themselves; a day keeps caches in between from serving an old one long.
  r.headers.emplace_back("Cache-Control", "max-age=86400");
  return r;
}

Response autoconfig(const MailSite& site, const Request& req) {
  auto domain = requested_domain(req, "autoconfig");
  if (!domain) return Response::text(400, "Give the address as ?emailaddress=you@example.org.\n");
  if (!site.hosted(*domain)) return not_hosted();
  const std::string d = xml_escape(*domain), h = xml_escape(site.hostname);
  auto server = [&](std::string_view kind, std::string_view type, std::uint16_t port, std::string_view socket) {
    return fmt::format(
        "    <{0} type=\"{1}\">\n"
        "      <hostname>{2}</hostname>\n"
        "      <port>{3}</port>\n"
        "      <socketType>{4}</socketType>\n"
        "      <authentication>password-cleartext</authentication>\n"
        "      <username>%EMAILADDRESS%</username>\n"
        "    </{0}>\n",
        kind, type, h, port, socket);
  };
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n";
  body += fmt::format("  <emailProvider id=\"{0}\">\n    <domain>{0}</domain>\n    <displayName>{0}</displayName>\n"
                      "    <displayShortName>{0}</displayShortName>\n",
                      d);
  body += server("incomingServer", "imap", site.imaps_port, "SSL");
  body += server("incomingServer", "imap", site.imap_port, "STARTTLS");
  body += server("outgoingServer", "smtp", site.submissions_port, "SSL");
  body += server("outgoingServer", "smtp", site.submission_port, "STARTTLS");
  body += "  </emailProvider>\n</clientConfig>\n";
  Response r = xml(std::move(body));
  r.headers.emplace_back("Cache-Control", "max-age=3600");
  return r;
}

Response autodiscover(const MailSite& site, const Request& req) {
  // <EMailAddress>user@example.org</EMailAddress>, found by a bounded search: the request
  // schema has one such element and nothing else this answer depends on.
  constexpr std::string_view kOpen = "<EMailAddress>", kClose = "</EMailAddress>";
  const auto open = req.body.find(kOpen);
  const auto close = open == std::string::npos ? open : req.body.find(kClose, open);
  if (open == std::string::npos || close == std::string::npos || close - open - kOpen.size() > kMaxAddress)
    return Response::text(400, "The request has no EMailAddress element.\n");
  const std::string_view given = trim(std::string_view(req.body).substr(open + kOpen.size(), close - open - kOpen.size()));
  auto mb = message::parse_mailbox(given, true);
  if (!mb || mb->domain_literal || mb->domain.empty()) return Response::text(400, "The EMailAddress is not an address.\n");
  if (!site.hosted(to_lower(mb->domain))) return not_hosted();
  const std::string user = xml_escape(mb->canonical()), h = xml_escape(site.hostname);
  auto protocol = [&](std::string_view type, std::uint16_t port, std::string_view extra) {
    return fmt::format(
        "      <Protocol>\n"
        "        <Type>{0}</Type>\n"
        "        <Server>{1}</Server>\n"
        "        <Port>{2}</Port>\n"
        "        <LoginName>{3}</LoginName>\n"
        "        <DomainRequired>off</DomainRequired>\n"
        "        <SPA>off</SPA>\n"
        "        <SSL>on</SSL>\n"
        "        <AuthRequired>on</AuthRequired>\n{4}"
        "      </Protocol>\n",
        type, h, port, user, extra);
  };
  std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
      "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n"
      "    <Account>\n"
      "      <AccountType>email</AccountType>\n"
      "      <Action>settings</Action>\n";
  body += protocol("IMAP", site.imaps_port, "");
  body += protocol("SMTP", site.submissions_port,
                   "        <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n");
  body += "    </Account>\n  </Response>\n</Autodiscover>\n";
  return xml(std::move(body), "text/xml; charset=utf-8");
}

Response apple_profile(const MailSite& site, const Request& req) {
  std::optional<std::string> address;
  auto domain = requested_domain(req, "", &address);
  if (!domain || !address) return Response::text(400, "Give the address as ?emailaddress=you@example.org.\n");
  if (!site.hosted(*domain)) return not_hosted();
  const std::string a = xml_escape(*address), h = xml_escape(site.hostname), d = xml_escape(*domain);
  // Reverse-DNS identifiers, one per address: installing a profile for another address of
  // the same device adds an account instead of replacing this one.
  std::string rev;
  for (auto label : split(site.hostname, '.')) rev = std::string(label) + (rev.empty() ? "" : ".") + rev;
  const std::string id = xml_escape(rev) + ".mail." + stable_uuid(*address, "id");
  std::string body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
      "<plist version=\"1.0\">\n<dict>\n"
      "  <key>PayloadContent</key>\n  <array>\n    <dict>\n"
      "      <key>EmailAccountDescription</key><string>{0}</string>\n"
      "      <key>EmailAccountName</key><string>{0}</string>\n"
      "      <key>EmailAccountType</key><string>EmailTypeIMAP</string>\n"
      "      <key>EmailAddress</key><string>{0}</string>\n"
      "      <key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>\n"
      "      <key>IncomingMailServerHostName</key><string>{1}</string>\n"
      "      <key>IncomingMailServerPortNumber</key><integer>{2}</integer>\n"
      "      <key>IncomingMailServerUseSSL</key><true/>\n"
      "      <key>IncomingMailServerUsername</key><string>{0}</string>\n"
      "      <key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>\n"
      "      <key>OutgoingMailServerHostName</key><string>{1}</string>\n"
      "      <key>OutgoingMailServerPortNumber</key><integer>{3}</integer>\n"
      "      <key>OutgoingMailServerUseSSL</key><true/>\n"
      "      <key>OutgoingMailServerUsername</key><string>{0}</string>\n"
      "      <key>OutgoingPasswordSameAsIncomingPassword</key><true/>\n"
      "      <key>PayloadDisplayName</key><string>Mail ({0})</string>\n"
      "      <key>PayloadIdentifier</key><string>{4}.account</string>\n"
      "      <key>PayloadType</key><string>com.apple.mail.managed</string>\n"
      "      <key>PayloadUUID</key><string>{5}</string>\n"
      "      <key>PayloadVersion</key><integer>1</integer>\n"
      "    </dict>\n  </array>\n"
      "  <key>PayloadDisplayName</key><string>Mail for {6}</string>\n"
      "  <key>PayloadIdentifier</key><string>{4}</string>\n"
      "  <key>PayloadRemovalDisallowed</key><false/>\n"
      "  <key>PayloadType</key><string>Configuration</string>\n"
      "  <key>PayloadUUID</key><string>{7}</string>\n"
      "  <key>PayloadVersion</key><integer>1</integer>\n"
      "</dict>\n</plist>\n",
      a, h, site.imaps_port, site.submissions_port, id, stable_uuid(*address, "account"), d,
      stable_uuid(*address, "profile"));
  Response r = xml(std::move(body), "application/x-apple-aspen-config");
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + xml_escape(*domain) + ".mobileconfig\"");
  return r;
}

void add_well_known(Router& router, const MailSite& site) {
  // The handlers keep a copy of the site: the router may outlive the caller's.
  auto on = [site](Response (*f)(const MailSite&, const Request&)) {
    return [site, f](const Request& r) { return f(site, r); };
  };
  router.add({"GET"}, "/.well-known/mta-sts.txt", on(mta_sts));
  router.add({"GET"}, "/.well-known/autoconfig/mail/config-v1.1.xml", on(autoconfig));
  router.add({"GET"}, "/mail/config-v1.1.xml", on(autoconfig));
  for (const char* path : {"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml", "/AutoDiscover/AutoDiscover.xml"})
    router.add({"POST"}, path, on(autodiscover));
  router.add({"GET"}, "/apple/mail.mobileconfig", on(apple_profile));
}

}  // namespace mk::http
