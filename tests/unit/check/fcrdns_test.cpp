// check/fcrdns.hpp over dns::MockLookup: addresses, PTR records, and the forward confirmation.
#include "check/fcrdns.hpp"

#include <gtest/gtest.h>

#include "await.hpp"
#include "dns/mock.hpp"

namespace mk::check {
namespace {

const std::string kHost = "mail.check.example";

std::vector<std::string> lines(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(render_line(f));
  return out;
}

const std::string kSetIt =
    "ask whoever gave you 192.0.2.1 (your hosting provider, often in its control panel) to set its reverse DNS (PTR) "
    "to mail.check.example";

TEST(Fcrdns, Table) {
  struct Row {
    const char* name;
    void (*zone)(dns::MockLookup&);
    std::string want;
  };
  const Row rows[] = {
      {"PTR names the host, which resolves back",
       [](dns::MockLookup& d) { d.add_ptr("1.2.0.192.in-addr.arpa", "mail.check.example"); },
       "ok   reverse DNS of 192.0.2.1: mail.check.example"},
      {"PTR names another host that resolves back",
       [](dns::MockLookup& d) {
         d.add_ptr("1.2.0.192.in-addr.arpa", "vps1.provider.example");
         d.add_address("vps1.provider.example", "192.0.2.1");
       },
       "ok   reverse DNS of 192.0.2.1: vps1.provider.example (resolves back to it)"},
      {"no PTR record", [](dns::MockLookup&) {},
       "FAIL reverse DNS of 192.0.2.1: 192.0.2.1 has no PTR record: large providers refuse or junk mail from it "
       "\u2014 fix: " + kSetIt},
      {"PTR names a host that does not resolve back",
       [](dns::MockLookup& d) {
         d.add_ptr("1.2.0.192.in-addr.arpa", "generic-192-0-2-1.provider.example");
         d.add_address("generic-192-0-2-1.provider.example", "198.51.100.9");
       },
       "FAIL reverse DNS of 192.0.2.1: the PTR names generic-192-0-2-1.provider.example, which does not resolve back "
       "to 192.0.2.1: receivers treat that as no reverse DNS \u2014 fix: " + kSetIt},
      {"PTR lookup times out: could not check, never 'not set'",
       [](dns::MockLookup& d) { d.fail("1.2.0.192.in-addr.arpa"); },
       "?    reverse DNS of 192.0.2.1: could not check: the PTR lookup of 1.2.0.192.in-addr.arpa failed (timeout: "
       "1.2.0.192.in-addr.arpa) \u2014 fix: run the check again later; if it persists, the DNS servers of the "
       "address's network are not answering: tell your hosting provider"},
      {"the PTR's name cannot be looked up",
       [](dns::MockLookup& d) {
         d.add_ptr("1.2.0.192.in-addr.arpa", "vps1.provider.example");
         d.fail("vps1.provider.example");
       },
       "?    reverse DNS of 192.0.2.1: could not check: the PTR names vps1.provider.example, whose addresses could not "
       "be looked up: vps1.provider.example (timeout: vps1.provider.example) \u2014 fix: run the check again later"},
  };
  for (const auto& r : rows) {
    dns::MockLookup d;
    d.add_address(kHost, "192.0.2.1");
    r.zone(d);
    EXPECT_EQ(lines(test::await(check_fcrdns(d, kHost, {"192.0.2.1"}))), std::vector<std::string>{r.want}) << r.name;
  }
}

TEST(Fcrdns, Ipv6) {
  dns::MockLookup d;
  d.add_address(kHost, "2001:db8::25");
  d.add_ptr("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", kHost);
  EXPECT_EQ(lines(test::await(check_fcrdns(d, kHost, {"2001:db8::25"}))),
            std::vector<std::string>{"ok   reverse DNS of 2001:db8::25: mail.check.example"});
}

TEST(HostAddresses, FoundMissingFailed) {
  dns::MockLookup d;
  d.add_address(kHost, "192.0.2.1");
  d.add_address(kHost, "2001:db8::25");
  auto h = test::await(host_addresses(d, kHost));
  EXPECT_EQ(h.ips, (std::vector<std::string>{"2001:db8::25", "192.0.2.1"}));
  EXPECT_EQ(lines(h.findings), std::vector<std::string>{"ok   mail.check.example A/AAAA (2001:db8::25, 192.0.2.1)"});

  dns::MockLookup none;
  none.add_name(kHost);
  EXPECT_EQ(lines(test::await(host_addresses(none, kHost)).findings),
            std::vector<std::string>{"FAIL mail.check.example A/AAAA: mail.check.example has no A or AAAA record: nothing "
                                     "can reach this server by its name \u2014 fix: publish mail.check.example. 3600 IN A "
                                     "<this server's public IPv4 address> (and AAAA for IPv6)"});

  dns::MockLookup dead;
  dead.fail(kHost);
  EXPECT_EQ(lines(test::await(host_addresses(dead, kHost)).findings),
            std::vector<std::string>{"?    mail.check.example A/AAAA: could not check: the addresses of mail.check.example "
                                     "could not be looked up (timeout: mail.check.example) \u2014 fix: make sure the DNS "
                                     "servers of its zone answer, then run the check again"});
}

}  // namespace
}  // namespace mk::check
