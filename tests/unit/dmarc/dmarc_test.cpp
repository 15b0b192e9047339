// DMARC: record syntax, organizational domains from the PSL, and evaluation as a table of
// cases against a mock DNS.
#include <gtest/gtest.h>

#include "await.hpp"
#include "dmarc/dmarc.hpp"
#include "dns/mock.hpp"

namespace mk::dmarc {
namespace {

TEST(Record, Syntax) {
  auto r = parse_record("v=DMARC1; p=reject; sp=none; adkim=s; pct=50; rua=mailto:a@example.com!10m, mailto:b@x.example");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->p, Policy::reject);
  EXPECT_EQ(r->sp, Policy::none);
  EXPECT_TRUE(r->strict_dkim);
  EXPECT_FALSE(r->strict_spf);
  EXPECT_EQ(r->pct, 50);
  ASSERT_EQ(r->rua.size(), 2u);
  EXPECT_EQ(r->rua[0], "mailto:a@example.com");
  EXPECT_FALSE(parse_record("p=reject; v=DMARC1").ok());   // v= must come first
  EXPECT_FALSE(parse_record("v=DMARC1; p=bogus").ok());    // invalid p=, no rua=
  EXPECT_EQ(parse_record("v=DMARC1; p=bogus; rua=mailto:r@example.com")->p, Policy::none);
  EXPECT_FALSE(parse_record("v=DMARC1; p=none; pct=101").ok());
  EXPECT_TRUE(parse_record("v=DMARC1;p=quarantine;future=1").ok());  // unknown tags ignored
  EXPECT_TRUE(parse_record("v=DMARC1; p=none; t=y")->testing);
  EXPECT_FALSE(is_dmarc_record("v=DMARC10; p=none"));
}

TEST(OrgDomains, PublicSuffixList) {
  OrgDomains o;
  EXPECT_EQ(o.organizational("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(o.organizational("A.B.Example.COM"), "example.com");
  EXPECT_EQ(o.organizational("co.uk"), "co.uk");
  EXPECT_TRUE(o.aligned("bounce.example.com", "example.com", false));
  EXPECT_FALSE(o.aligned("bounce.example.com", "example.com", true));
  EXPECT_FALSE(o.aligned("a.github.io", "b.github.io", false));  // a public suffix separates them
}

struct Case {
  const char* name;
  const char* from;
  bool spf_pass;
  const char* spf_domain;
  std::vector<std::string> dkim;
  int sample;
  Outcome result;
  Policy disposition;
  const char* policy_domain;
};

TEST(Evaluate, Table) {
  dns::MockLookup dns;
  dns.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine");
  dns.add_txt("_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s");
  dns.add_txt("_dmarc.half.example", "v=DMARC1; p=reject; pct=50");
  dns.add_txt("_dmarc.testing.example", "v=DMARC1; p=quarantine; t=y");
  dns.add_txt("_dmarc.np.example", "v=DMARC1; p=none; np=reject");
  dns.add_address("real.np.example", "192.0.2.1");
  dns.add_txt("_dmarc.two.example", "v=DMARC1; p=reject");
  dns.add_txt("_dmarc.two.example", "v=DMARC1; p=none");
  dns.fail("_dmarc.down.example");
  dns.add_txt("_dmarc.none.example", "v=spf1 -all");
  OrgDomains orgs;
  const std::vector<Case> cases = {
      {"aligned SPF", "example.com", true, "example.com", {}, 0, Outcome::pass, Policy::none, "example.com"},
      {"relaxed SPF from a subdomain", "example.com", true, "bounce.example.com", {}, 0, Outcome::pass, Policy::none, "example.com"},
      {"aligned DKIM", "example.com", false, "", {"example.com"}, 0, Outcome::pass, Policy::none, "example.com"},
      {"unaligned pass", "example.com", true, "other.example", {"other.example"}, 0, Outcome::fail, Policy::reject, "example.com"},
      {"subdomain uses sp", "news.example.com", false, "", {}, 0, Outcome::fail, Policy::quarantine, "example.com"},
      {"strict SPF", "strict.example", true, "mail.strict.example", {}, 0, Outcome::fail, Policy::reject, "strict.example"},
      {"strict DKIM exact", "strict.example", false, "", {"strict.example"}, 0, Outcome::pass, Policy::none, "strict.example"},
      {"pct sampled in", "half.example", false, "", {}, 10, Outcome::fail, Policy::reject, "half.example"},
      {"pct sampled out", "half.example", false, "", {}, 70, Outcome::fail, Policy::quarantine, "half.example"},
      {"t=y softens", "testing.example", false, "", {}, 0, Outcome::fail, Policy::none, "testing.example"},
      {"np for a non-existent subdomain", "ghost.np.example", false, "", {}, 0, Outcome::fail, Policy::reject, "np.example"},
      {"p for an existing subdomain", "real.np.example", false, "", {}, 0, Outcome::fail, Policy::none, "np.example"},
      {"two records: no policy", "two.example", false, "", {}, 0, Outcome::none, Policy::none, ""},
      {"no record", "nothing.example", false, "", {}, 0, Outcome::none, Policy::none, ""},
      {"not a DMARC record", "none.example", false, "", {}, 0, Outcome::none, Policy::none, ""},
      {"DNS failure", "down.example", false, "", {}, 0, Outcome::temperror, Policy::none, "down.example"},
  };
  for (const auto& c : cases) {
    Input in{c.from, c.spf_pass, c.spf_domain, c.dkim};
    const Verdict v = test::await(evaluate(dns, orgs, in, c.sample));
    EXPECT_EQ(outcome_name(v.result), outcome_name(c.result)) << c.name << ": " << v.problem;
    EXPECT_EQ(policy_name(v.disposition), policy_name(c.disposition)) << c.name;
    EXPECT_EQ(v.policy_domain, c.policy_domain) << c.name;
  }
}

}  // namespace
}  // namespace mk::dmarc
