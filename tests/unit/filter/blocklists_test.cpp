// DNS block- and allow-lists: query names, what answers mean, and the signals.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "await.hpp"
#include "dns/mock.hpp"
#include "filter/blocklists.hpp"

namespace mk::filter {
namespace {

TEST(Blocklists, ReversedAddresses) {
  EXPECT_EQ(reversed_ip("192.0.2.99"), "99.2.0.192");
  EXPECT_EQ(reversed_ip("::ffff:192.0.2.99"), "99.2.0.192");
  // RFC 5782 §2.4: 2001:db8:1:2:3:4:567:89ab
  EXPECT_EQ(reversed_ip("2001:db8:1:2:3:4:567:89ab"), "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2");
  EXPECT_EQ(reversed_ip("shop.example"), "");
  EXPECT_EQ(reversed_ip(""), "");
}

dns::Answer a_records(std::initializer_list<const char*> ips) {
  dns::Answer a;
  for (const char* ip : ips) a.rdata.push_back(*dns::encode_address(ip));
  return a;
}

TEST(Blocklists, WhatAnswersMean) {
  std::string code;
  EXPECT_EQ(listing_of(a_records({"127.0.0.2"}), &code), Listing::listed);
  EXPECT_EQ(code, "127.0.0.2");
  EXPECT_EQ(listing_of(a_records({"127.0.0.10", "127.0.0.4"}), nullptr), Listing::listed);
  // Refusals: Spamhaus answers 127.255.255.254 to public resolvers, URIBL 127.0.0.1.
  EXPECT_EQ(listing_of(a_records({"127.255.255.254"}), &code), Listing::refused);
  EXPECT_EQ(code, "127.255.255.254");
  EXPECT_EQ(listing_of(a_records({"127.0.0.1"}), nullptr), Listing::refused);
  // DNSWL.org over quota, Spamhaus DBL asked for an address: refusals too, never listings.
  EXPECT_EQ(listing_of(a_records({"127.0.0.255"}), nullptr), Listing::refused);
  EXPECT_EQ(listing_of(a_records({"127.0.1.255"}), nullptr), Listing::refused);
  EXPECT_EQ(listing_of(a_records({"127.0.1.254"}), nullptr), Listing::listed);
  // A wildcarding resolver's answer outside 127/8 is not a listing.
  EXPECT_EQ(listing_of(a_records({"192.0.2.1"}), nullptr), Listing::no);
  EXPECT_EQ(listing_of(dns::Answer{}, nullptr), Listing::no);
}

TEST(Blocklists, SignalsFromEveryKindOfList) {
  dns::MockLookup dns;
  dns.add_address("99.2.0.192.bl.example", "127.0.0.2");
  dns.add_address("99.2.0.192.refusing.example", "127.255.255.254");
  dns.add_address("7.2.0.192.wl.example", "127.0.10.3");
  dns.add_address("pills.example.uri.example", "127.0.1.2");
  dns.add_address("cheap.example.uri.example", "127.0.1.2");
  dns.add_address("4.3.2.1.uri.example", "127.0.1.2");
  dns.fail("99.2.0.192.dead.example");
  BlocklistConfig cfg;
  cfg.dnsbl = {"bl.example", "refusing.example", "dead.example"};
  cfg.dnswl = {"wl.example"};
  cfg.uribl = {"uri.example"};
  cfg.timeout = std::chrono::milliseconds(2000);

  auto r = test::await(check_blocklists(dns, cfg, "192.0.2.99", {"pills.example", "cheap.example", "ok.example"}));
  ASSERT_EQ(r.signals.size(), 2u);
  EXPECT_EQ(r.signals[0].name, "DNSBL");
  EXPECT_EQ(r.signals[0].score, cfg.dnsbl_score);
  EXPECT_EQ(r.signals[0].why, "192.0.2.99 is listed in bl.example (127.0.0.2)");
  // Two listed links in one list count once.
  EXPECT_EQ(r.signals[1].name, "URIBL");
  EXPECT_EQ(r.signals[1].why, "a link to pills.example is listed in uri.example (127.0.1.2)");
  ASSERT_EQ(r.notes.size(), 2u);
  EXPECT_EQ(r.notes[0], "refusing.example: refused the query (127.255.255.254)");
  EXPECT_NE(r.notes[1].find("dead.example: "), std::string::npos) << r.notes[1];
  EXPECT_EQ(dns.queries(), 3u + 1 + 3);

  // An allow-listed client; a link to a listed IP address (looked up reversed).
  r = test::await(check_blocklists(dns, cfg, "::ffff:192.0.2.7", {"1.2.3.4"}));
  ASSERT_EQ(r.signals.size(), 2u);
  EXPECT_EQ(r.signals[0].name, "DNSWL");
  EXPECT_LT(r.signals[0].score, 0);
  EXPECT_EQ(r.signals[1].name, "URIBL");

  // At most kMaxLinkDomains links are looked up; no lists, no queries.
  std::vector<std::string> many;
  for (int i = 0; i < 30; ++i) many.push_back("d" + std::to_string(i) + ".example");
  const auto before = dns.queries();
  (void)test::await(check_blocklists(dns, cfg, "192.0.2.1", many));
  EXPECT_EQ(dns.queries() - before, 3u + 1 + kMaxLinkDomains);
  BlocklistConfig off;
  off.dnsbl.clear();
  off.dnswl.clear();
  off.uribl.clear();
  EXPECT_TRUE(off.empty());
  const auto none = test::await(check_blocklists(dns, off, "192.0.2.99", {"pills.example"}));
  EXPECT_TRUE(none.signals.empty());
  EXPECT_EQ(dns.queries() - before, 3u + 1 + kMaxLinkDomains);
  // A loopback or private client is in no public list: only its links are asked about.
  for (const char* local : {"127.0.0.1", "10.1.2.3", "::1", "fd00::1", "::ffff:192.168.1.1"}) {
    const auto q0 = dns.queries();
    (void)test::await(check_blocklists(dns, cfg, local, {"ok.example"}));
    EXPECT_EQ(dns.queries() - q0, 1u) << local;
  }
}

// A list server that does not answer until the test lets it (or the hang guard runs out).
class SilentLookup final : public dns::Lookup {
 public:
  static constexpr std::chrono::seconds kHangGuard{30};

  boost::asio::awaitable<Result<dns::Answer>> query(std::string, int) override {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, kHangGuard);
    pending_ = &t;
    boost::system::error_code ec;
    co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    pending_ = nullptr;
    dns::Answer a;
    a.rcode = 3;
    a.nxdomain = true;
    co_return a;
  }
  void release() {
    if (pending_) pending_->cancel();
  }

 private:
  boost::asio::steady_timer* pending_ = nullptr;
};

// DNSWL.org's last octet is its trust in the sender: none counts nothing, low a third.
TEST(Blocklists, AllowListTrustLevels) {
  dns::MockLookup dns;
  dns.add_address("1.2.0.192.wl.example", "127.0.15.0");
  dns.add_address("2.2.0.192.wl.example", "127.0.15.1");
  BlocklistConfig cfg;
  cfg.dnsbl.clear();
  cfg.uribl.clear();
  cfg.dnswl = {"wl.example"};
  EXPECT_TRUE(test::await(check_blocklists(dns, cfg, "192.0.2.1", {})).signals.empty());
  const auto low = test::await(check_blocklists(dns, cfg, "192.0.2.2", {}));
  ASSERT_EQ(low.signals.size(), 1u);
  EXPECT_DOUBLE_EQ(low.signals[0].score, cfg.dnswl_score / 3);
}

// Issue 18: lists free for a small server are on by default.
TEST(Blocklists, DefaultLists) {
  const BlocklistConfig d;
  EXPECT_EQ(d.dnsbl, (std::vector<std::string>{"zen.spamhaus.org"}));
  EXPECT_EQ(d.dnswl, (std::vector<std::string>{"list.dnswl.org"}));
  EXPECT_EQ(d.uribl, (std::vector<std::string>{"dbl.spamhaus.org"}));
}

TEST(Blocklists, ASilentListCostsTheTimeoutAndNoMore) {
  SilentLookup dns;
  BlocklistConfig cfg;
  cfg.dnsbl = {"slow.example"};
  cfg.dnswl.clear();
  cfg.uribl.clear();
  cfg.timeout = std::chrono::milliseconds(100);
  boost::asio::io_context io;
  std::optional<BlocklistResult> r;
  std::chrono::steady_clock::duration took{};
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    const auto start = std::chrono::steady_clock::now();
    std::string ip = "192.0.2.99";  // named: GCC 12 mishandles temporaries in a co_await's arguments
    std::vector<std::string> links;
    r = co_await check_blocklists(dns, cfg, std::move(ip), std::move(links));
    took = std::chrono::steady_clock::now() - start;
    dns.release();
  }, boost::asio::detached);
  io.run();  // also runs the abandoned query to its end: nothing may dangle
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->signals.empty());
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_EQ(r->notes[0], "slow.example: no answer within 100 ms");
  // The check gave up by itself: not before its timeout, and long before the silent server's
  // hang guard (an upper bound 100x the timeout, so load cannot trip it).
  EXPECT_GE(took, cfg.timeout);
  EXPECT_LT(took, SilentLookup::kHangGuard / 3);
}

}  // namespace
}  // namespace mk::filter
