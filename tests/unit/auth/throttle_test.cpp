// Brute-force protection: delays, bans (stored, escalating), IPv6 /64 networks, the
// allow-list, and accounts under attack from many networks.
#include <gtest/gtest.h>

#include "auth/throttle.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::auth {
namespace {

constexpr std::int64_t kNow = 1764547200;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

class ThrottleTest : public store::StoreTest {};

TEST_F(ThrottleTest, DelaysThenBansAndRemembers) {
  ThrottleConfig cfg;
  cfg.failures_before_ban = 6;
  Throttle t(cfg, store_.get());
  std::vector<long> delays;
  Throttle::Verdict v;
  for (int i = 0; i < 6; ++i) {
    v = t.failed(ip("192.0.2.7"), "alice@example.org", kNow + i);
    delays.push_back(long(v.delay.count()));
  }
  EXPECT_EQ(delays, (std::vector<long>{0, 0, 0, 500, 1000, 2000}));
  EXPECT_TRUE(v.banned);
  EXPECT_TRUE(t.banned(ip("192.0.2.7"), kNow + 10));
  EXPECT_FALSE(t.banned(ip("192.0.2.8"), kNow + 10));
  EXPECT_FALSE(t.banned(ip("192.0.2.7"), kNow + 6 + whole_seconds(cfg.ban)));  // over after ban time
  // Stored: a new process (or a restart) still sees it; the next ban lasts twice as long.
  Throttle again(cfg, store_.get());
  EXPECT_TRUE(again.banned(ip("192.0.2.7"), kNow + 10));
  const std::int64_t later = kNow + 10 * whole_seconds(cfg.ban);
  for (int i = 0; i < 6; ++i) v = again.failed(ip("192.0.2.7"), "x", later + i);
  auto bans = store_->list_bans();
  ASSERT_EQ(bans->size(), 1u);
  EXPECT_EQ((*bans)[0].count, 2);
  EXPECT_EQ((*bans)[0].until, later + 5 + 2 * whole_seconds(cfg.ban));
  ASSERT_TRUE(*store_->lift_ban("192.0.2.7"));
  Throttle lifted(cfg, store_.get());
  EXPECT_FALSE(lifted.banned(ip("192.0.2.7"), later + 10));
}

TEST_F(ThrottleTest, Ipv6CountsPerSlash64AndAllowListIsExempt) {
  ThrottleConfig cfg;
  cfg.failures_before_ban = 4;
  cfg.allow.push_back(*IpNetwork::parse("10.0.0.0/8"));
  Throttle t(cfg, nullptr);
  EXPECT_EQ(Throttle::network_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  // Four different addresses of one /64 are one network.
  for (const char* a : {"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:2:ffff::4"})
    (void)t.failed(ip(a), "bob", kNow);
  EXPECT_TRUE(t.banned(ip("2001:db8:1:2::99"), kNow + 1));
  EXPECT_FALSE(t.banned(ip("2001:db8:1:3::1"), kNow + 1));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t.failed(ip("10.1.2.3"), "bob", kNow).delay.count(), 0);
  EXPECT_FALSE(t.banned(ip("10.1.2.3"), kNow + 1));
  // IPv4-mapped addresses are the IPv4 address.
  EXPECT_EQ(Throttle::network_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
}

TEST_F(ThrottleTest, AccountUnderAttackOnlyTrustsItsKnownNetworks) {
  ThrottleConfig cfg;
  cfg.account_failures_before_lock = 5;
  Throttle t(cfg, nullptr);
  t.succeeded(ip("198.51.100.7"), "Alice@example.org", kNow);  // the owner, earlier
  for (int i = 0; i < 5; ++i) (void)t.failed(ip(("203.0.113." + std::to_string(i)).c_str()), "alice@example.org", kNow);
  EXPECT_TRUE(t.account_locked("alice@example.org", ip("203.0.113.99"), kNow + 1));
  EXPECT_FALSE(t.account_locked("alice@example.org", ip("198.51.100.7"), kNow + 1));
  EXPECT_FALSE(t.account_locked("bob@example.org", ip("203.0.113.99"), kNow + 1));
  EXPECT_FALSE(t.account_locked("alice@example.org", ip("203.0.113.99"), kNow + 1 + whole_seconds(cfg.window)));  // it passes
}

}  // namespace
}  // namespace mk::auth
