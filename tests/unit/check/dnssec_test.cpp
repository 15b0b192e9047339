// check/dnssec.hpp: "your resolver does not validate" apart from "your record is wrong".
#include "check/dnssec.hpp"

#include <gtest/gtest.h>

namespace mk::check {
namespace {

Result<dns::Answer> dnskey(bool secure, bool bogus = false, int rcode = 0) {
  dns::Answer a;
  a.rcode = rcode;
  a.secure = secure;
  a.bogus = bogus;
  if (bogus) a.why_bogus = "no signatures";
  return a;
}

TEST(TrustAnchorZone, FirstRecordsOwner) {
  EXPECT_EQ(trust_anchor_zone("; autotrust\n;;id: . 1\n. IN DNSKEY 257 3 8 AwEAA\n"), ".");
  EXPECT_EQ(trust_anchor_zone("Example.\t3600\tIN\tDS\t1 13 2 ABCD\n"), "example.");
  EXPECT_EQ(trust_anchor_zone("; nothing\n\n"), "");
}

TEST(JudgeValidation, Table) {
  ResolverSetup root{true, "/usr/share/dns/root.key", ".", {}};
  ResolverSetup forwarding{true, "/usr/share/dns/root.key", ".", {"192.0.2.53"}};
  ResolverSetup off{false, "/usr/share/dns/root.key", ".", {}};
  struct Row {
    const char* name;
    const ResolverSetup* setup;
    Result<dns::Answer> answer;
    bool validating;
    std::string want;
  };
  const Row rows[] = {
      {"validates", &root, dnskey(true), true, "ok   DNSSEC validation by mailkeep's resolver"},
      {"turned off", &off, err("not asked"), false,
       "FAIL DNSSEC validation by mailkeep's resolver: turned off ([dns] dnssec = false): signed records cannot be "
       "told from forged ones, and outbound DANE is off \u2014 fix: set dnssec = true in [dns]"},
      {"a forwarder that strips signatures", &forwarding, dnskey(false, true), false,
       "FAIL DNSSEC validation by mailkeep's resolver: your resolver does not validate DNSSEC: asked for the DNSKEY "
       "of . (the trust anchor's zone), its answer fails validation: no signatures \u2014 fix: use [dns] upstream "
       "resolvers that pass DNSSEC signatures through (now 192.0.2.53), or leave upstream empty so mailkeep resolves "
       "from the root servers itself"},
      {"unsigned answer without forwarders", &root, dnskey(false), false,
       "FAIL DNSSEC validation by mailkeep's resolver: your resolver does not validate DNSSEC: asked for the DNSKEY "
       "of . (the trust anchor's zone), its answer came back unsigned \u2014 fix: make sure /usr/share/dns/root.key "
       "is the current trust anchor (Debian package dns-root-data)"},
      {"no answer: could not check", &root, dnskey(false, false, 2), false,
       "?    DNSSEC validation by mailkeep's resolver: could not check: the DNSKEY of . could not be looked up "
       "(SERVFAIL) \u2014 fix: let mailkeep reach DNS servers on the Internet (UDP and TCP port 53)"},
  };
  for (const auto& r : rows) {
    auto v = judge_validation(*r.setup, r.answer);
    EXPECT_EQ(v.validating, r.validating) << r.name;
    EXPECT_EQ(render_line(v.finding), r.want) << r.name;
  }
}

}  // namespace
}  // namespace mk::check
