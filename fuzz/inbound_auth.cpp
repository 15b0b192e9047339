// Fuzzes the MX's sender authentication of a whole message (From: parsing, SPF, DKIM, ARC,
// DMARC, the Authentication-Results field and the removal of forged ones) on a mock DNS, and
// the SRS address parser that RCPT TO feeds (the first line of the input).
#include <cstdint>
#include <string>
#include <string_view>

#include "await.hpp"
#include "dns/mock.hpp"
#include "mailauth/assess.hpp"
#include "srs/srs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mk;
  const std::string msg(reinterpret_cast<const char*>(data), size);
  static const srs::Srs kSrs("fuzzing key");
  (void)kSrs.reverse(std::string_view(msg).substr(0, msg.find('\n')), 1764547200);
  static const dmarc::OrgDomains orgs;
  dns::MockLookup dns;
  dns.add_txt("example.org", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.org -all");
  dns.add_txt("_spf.example.org", "v=spf1 a mx ptr ~all");
  dns.add_txt("_dmarc.example.org", "v=DMARC1; p=reject; rua=mailto:r@example.org");
  dns.add_txt("s._domainkey.example.org", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  dns.add_ptr("1.2.0.192.in-addr.arpa", "mx.example.org");
  dns.add_address("mx.example.org", "192.0.2.1");
  mailauth::Params p;
  p.ip = *IpAddr::parse("192.0.2.1");
  p.helo = "mx.example.org";
  p.mail_from = "bounce@example.org";
  p.authserv_id = "mx.ours.example";
  p.now = 1764547200;
  const message::Parsed parsed(msg);
  (void)test::await(mailauth::assess(dns, orgs, p, parsed));
  std::size_t removed = 0;
  (void)mailauth::strip_own_results(parsed, p.authserv_id, &removed);
  // What every other MX stage asks of the same message.
  (void)parsed.links();
  (void)parsed.authors().single_address();
  return 0;
}
