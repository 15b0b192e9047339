// check/run.hpp: a resolver that never answers is said once, not once per record.
#include "check/run.hpp"

#include <gtest/gtest.h>

#include "await.hpp"
#include "dns/mock.hpp"

namespace mk::check {
namespace {

using namespace std::chrono_literals;

class DeadLookup final : public dns::Lookup {
 public:
  boost::asio::awaitable<Result<dns::Answer>> query(std::string name, int) override {
    ++asked;
    co_return Result<dns::Answer>(err("DNS: no answer for " + name + " in time"));
  }
  int asked = 0;
};

Plan plan() {
  Plan p;
  p.hostname = "mail.check.example";
  p.domains = {"check.example"};
  p.expected = {{"check.example", "MX", "10 mail.check.example."}, {"check.example", "TXT", "\"v=spf1 mx -all\""}};
  p.resolver = ResolverSetup{true, "/usr/share/dns/root.key", ".", {}};
  p.retry = RetryPolicy{3, 1ms};
  p.now = 1'800'000'000;
  return p;
}

TEST(RunChecks, ADeadResolverIsSaidOnce) {
  DeadLookup dns;
  const Plan p = plan();
  std::vector<std::string> lines;
  for (const auto& f : test::await(run_checks(p, dns))) lines.push_back(render_line(f));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "?    DNSSEC validation by mailkeep's resolver: could not check: the DNSKEY of . could not be "
                       "looked up (DNS: no answer for . in time (3 attempts)) \u2014 fix: let mailkeep reach DNS servers "
                       "on the Internet (UDP and TCP port 53)",
                       "?    DNS records, reverse DNS, block lists, TLSA, MTA-STS: could not check: not checked: "
                       "mailkeep's resolver got no answer at all \u2014 fix: let mailkeep reach DNS servers on the "
                       "Internet (UDP and TCP port 53), or name resolvers it may use in [dns] upstream"}));
  EXPECT_EQ(dns.asked, 3);  // the probe, with its retries, and nothing else
}

TEST(RunChecks, RecordsThroughAWorkingResolver) {
  dns::MockLookup dns;
  dns.add_mx("check.example", 10, "mail.check.example");
  dns.add_txt("check.example", "v=spf1 mx -all");
  dns.add_address("mail.check.example", "127.0.0.1");  // not on any public list, not dialled (no listeners)
  dns.add_ptr("1.0.0.127.in-addr.arpa", "mail.check.example");
  dns.add(".", dns::kDnskey, "key");  // answered, but not validated
  Plan p = plan();
  std::vector<std::string> lines;
  for (const auto& f : test::await(run_checks(p, dns))) lines.push_back(render_line(f));
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0].substr(0, 82),
            "FAIL DNSSEC validation by mailkeep's resolver: your resolver does not validate DNS");
  EXPECT_EQ(lines[1], "ok   check.example MX");
  EXPECT_EQ(lines[2], "ok   check.example TXT (SPF)");
  EXPECT_EQ(lines[3], "ok   mail.check.example A/AAAA (127.0.0.1)");
  EXPECT_EQ(lines[4], "ok   reverse DNS of 127.0.0.1: mail.check.example");
}

}  // namespace
}  // namespace mk::check
