// check/dnsbl.hpp: what a block list's answer means, and the lines it becomes.
#include "check/dnsbl.hpp"

#include <gtest/gtest.h>

#include "await.hpp"
#include "dns/mock.hpp"
#include "dns/rdata.hpp"

namespace mk::check {
namespace {

const Blocklist& spamhaus() { return kBlocklists[0]; }
const Blocklist& spamcop() { return kBlocklists[1]; }

Result<dns::Answer> answer(std::vector<std::string> ips, int rcode = 0) {
  dns::Answer a;
  a.rcode = rcode;
  a.nxdomain = rcode == 3;
  for (const auto& ip : ips) a.rdata.push_back(*dns::encode_address(ip));
  return a;
}

TEST(Dnsbl, Interpret) {
  struct Row {
    const char* name;
    const Blocklist* list;
    Result<dns::Answer> answer;
    Listing listing;
    std::string detail;
  };
  const Row rows[] = {
      {"NXDOMAIN: not listed", &spamhaus(), answer({}, 3), Listing::not_listed, ""},
      {"no data: not listed", &spamcop(), answer({}), Listing::not_listed, ""},
      {"SBL listing", &spamhaus(), answer({"127.0.0.2"}), Listing::listed, "127.0.0.2: SBL, spam sources"},
      {"PBL listing", &spamhaus(), answer({"127.0.0.11"}), Listing::listed,
       "127.0.0.11: PBL, addresses that should not send mail directly"},
      {"listing on another list", &spamcop(), answer({"127.0.0.2"}), Listing::listed, "127.0.0.2"},
      {"Spamhaus refuses public resolvers", &spamhaus(), answer({"127.255.255.254"}), Listing::unknown,
       "the list refused to answer (127.255.255.254: queries through public or forwarding resolvers are refused)"},
      {"Spamhaus: too many queries", &spamhaus(), answer({"127.255.255.255"}), Listing::unknown,
       "the list refused to answer (127.255.255.255: too many queries from this resolver)"},
      {"Spamhaus: key mistyped", &spamhaus(), answer({"127.255.255.252"}), Listing::unknown,
       "the list refused to answer (127.255.255.252: the query key is mistyped)"},
      {"127.0.0.1 is never a listing", &spamcop(), answer({"127.0.0.1"}), Listing::unknown,
       "the list refused to answer (127.0.0.1: the list answers every query so (it may have shut down))"},
      {"a rewritten NXDOMAIN", &spamcop(), answer({"198.51.100.7"}), Listing::unknown,
       "it answered 198.51.100.7, which is not a block list answer (does your resolver rewrite \"no such name\" "
       "answers?)"},
      {"DNSWL.org over quota", &spamcop(), answer({"127.0.0.255"}), Listing::unknown,
       "the list refused to answer (127.0.0.255: the query was refused (over quota, or not a query this list "
       "answers))"},
      {"SERVFAIL", &spamhaus(), answer({}, 2), Listing::unknown, "the lookup failed (SERVFAIL)"},
      {"REFUSED", &spamhaus(), answer({}, 5), Listing::unknown, "the lookup failed (REFUSED)"},
      {"timeout", &spamhaus(), Result<dns::Answer>(err("DNS: no answer in time")), Listing::unknown,
       "the lookup failed (DNS: no answer in time)"},
  };
  for (const auto& r : rows) {
    auto v = interpret(*r.list, r.answer);
    EXPECT_EQ(v.listing, r.listing) << r.name;
    EXPECT_EQ(v.detail, r.detail) << r.name;
  }
}

TEST(Dnsbl, QueryNames) {
  EXPECT_EQ(list_query("192.0.2.1", "zen.spamhaus.org"), "1.2.0.192.zen.spamhaus.org");
  EXPECT_EQ(list_query("2001:db8::1", "zen.spamhaus.org"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org");
  EXPECT_EQ(list_query("nonsense", "zen.spamhaus.org"), "");
  EXPECT_TRUE(publicly_routable("192.0.2.1"));
  EXPECT_TRUE(publicly_routable("11.0.17.1"));
  for (const char* local : {"127.0.0.1", "10.1.2.3", "192.168.1.1", "172.20.0.1", "100.64.0.1", "::1", "fe80::1",
                            "fd00::1"})
    EXPECT_FALSE(publicly_routable(local)) << local;
}

TEST(Dnsbl, Findings) {
  std::vector<std::pair<Blocklist, ListVerdict>> v = {
      {spamhaus(), {Listing::unknown, "the list refused to answer (127.255.255.254: x)"}},
      {spamcop(), {Listing::listed, "127.0.0.2"}},
      {kBlocklists[2], {Listing::not_listed, ""}},
      {kBlocklists[3], {Listing::not_listed, ""}}};
  std::vector<std::string> lines;
  for (const auto& f : dnsbl_findings("192.0.2.1", v, true)) lines.push_back(render_line(f));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "ok   192.0.2.1 is not listed on b.barracudacentral.org, psbl.surriel.com",
                       "?    192.0.2.1 on zen.spamhaus.org: could not check: the list refused to answer "
                       "(127.255.255.254: x) \u2014 fix: leave [dns] upstream empty so mailkeep resolves from the root "
                       "servers itself (lists refuse queries that come through shared resolvers), or forward to a "
                       "local resolver that does not forward in turn",
                       "FAIL 192.0.2.1 on bl.spamcop.net: listed (127.0.0.2): receivers that consult bl.spamcop.net "
                       "refuse or junk mail from it \u2014 fix: find out why and request removal at "
                       "https://www.spamcop.net/bl.shtml?192.0.2.1"}));
}

TEST(Dnsbl, LooksUpPublicAddressesOnly) {
  dns::MockLookup dns;
  dns.add_address("2.0.0.11.zen.spamhaus.org", "127.0.0.4");
  auto fs = test::await(check_dnsbls(dns, {"11.0.0.2", "127.0.0.1", "10.0.0.1"}, false));
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(render_line(fs[0]),
            "ok   11.0.0.2 is not listed on bl.spamcop.net, b.barracudacentral.org, psbl.surriel.com");
  EXPECT_EQ(render_line(fs[1]),
            "FAIL 11.0.0.2 on zen.spamhaus.org: listed (127.0.0.4: XBL, exploited or infected hosts): receivers that "
            "consult zen.spamhaus.org refuse or junk mail from it \u2014 fix: find out why and request removal at "
            "https://check.spamhaus.org/results/?query=11.0.0.2");
  EXPECT_EQ(dns.queries(), 4u);  // only 11.0.0.2, on every list
}

// Issue 18: the spam filter's lists, asked for their RFC 5782 test entries.
TEST(Dnsbl, FilterListsThatRefuseTheResolver) {
  dns::MockLookup dns;
  dns.add_address("2.0.0.127.zen.spamhaus.org", "127.255.255.254");
  dns.add_address("2.0.0.127.list.dnswl.org", "127.0.10.0");
  dns.add_address("dbltest.com.dbl.spamhaus.org", "127.0.1.2");  // its documented test entry
  dns.fail("2.0.0.127.bl.spamcop.net");
  FilterLists lists{{"zen.spamhaus.org", "bl.spamcop.net", "list.dnswl.org"}, {"dbl.spamhaus.org", "uri.example"}};
  auto fs = test::await(check_filter_lists(dns, lists, true));
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(render_line(fs[0]), "ok   the spam filter's lists answer: list.dnswl.org, dbl.spamhaus.org");
  EXPECT_EQ(render_line(fs[1]),
            "FAIL spam filter list zen.spamhaus.org: the list refused to answer (127.255.255.254: queries through "
            "public or forwarding resolvers are refused): the spam filter gets no answer from it, so it scores "
            "nothing \u2014 fix: leave [dns] upstream empty so mailkeep resolves from the root servers itself (lists "
            "refuse queries that come through shared resolvers), or forward to a local resolver that does not "
            "forward in turn");
  EXPECT_EQ(fs[2].outcome, Outcome::unknown);
  EXPECT_EQ(fs[2].subject, "spam filter list bl.spamcop.net");
  // "No such name" for the test entry (uri.example): no list is there (a misspelt zone).
  EXPECT_EQ(render_line(fs[3]),
            "FAIL spam filter list uri.example: its test entry (RFC 5782: 127.0.0.2, or the name \"test\") is not "
            "listed, so this is no working list and the spam filter learns nothing from it \u2014 fix: check the "
            "zone's name in [spam] dnsbl, dnswl or uribl (or whether your resolver filters answers), or remove it");
  EXPECT_EQ(dns.queries(), 6u);  // "test" first, then DBL's own
}

}  // namespace
}  // namespace mk::check
