// The resolver's in-process answer cache: kept for the TTL and no longer, names compared as
// DNS compares them, nothing kept that must be asked again, bounded size.
#include <gtest/gtest.h>

#include "dns/answer_cache.hpp"
#include "dns/rdata.hpp"

namespace mk::dns {
namespace {

using std::chrono::seconds;

Answer txt(std::string rdata) {
  Answer a;
  a.rdata.push_back(std::move(rdata));
  return a;
}

TEST(AnswerCache, KeptForItsTtlAndNoLonger) {
  AnswerCache c;
  const auto t0 = AnswerCache::Clock::now();
  c.put("Example.ORG.", kTxt, txt("v=spf1 -all"), 60, t0);
  auto hit = c.get("example.org", kTxt, t0 + seconds(59));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->rdata, std::vector<std::string>{"v=spf1 -all"});
  EXPECT_FALSE(c.get("example.org", kA, t0).has_value());  // another type is another question
  EXPECT_FALSE(c.get("example.org", kTxt, t0 + seconds(60)).has_value());
  EXPECT_EQ(c.size(), 0u);  // the expired entry is gone
}

TEST(AnswerCache, LongTtlsAreCapped) {
  AnswerCache c;
  const auto t0 = AnswerCache::Clock::now();
  c.put("example.org", kTxt, txt("x"), 7 * 24 * 3600, t0);
  EXPECT_TRUE(c.get("example.org", kTxt, t0 + AnswerCache::kMaxTtl - seconds(1)).has_value());
  EXPECT_FALSE(c.get("example.org", kTxt, t0 + AnswerCache::kMaxTtl).has_value());
}

TEST(AnswerCache, NegativeAnswersAreKeptFailuresAreNot) {
  AnswerCache c;
  const auto t0 = AnswerCache::Clock::now();
  Answer nx;
  nx.rcode = 3;
  nx.nxdomain = true;
  c.put("_dmarc.example.net", kTxt, nx, 300, t0);
  auto hit = c.get("_dmarc.example.net", kTxt, t0);
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->nxdomain);
  Answer servfail;
  servfail.rcode = 2;
  c.put("a.example", kA, servfail, 300, t0);
  Answer bogus = txt("forged");
  bogus.bogus = true;
  bogus.why_bogus = "signature expired";
  c.put("b.example", kTxt, bogus, 300, t0);
  c.put("c.example", kTxt, txt("no ttl"), 0, t0);
  c.put("d.example", kTxt, txt("odd ttl"), -5, t0);
  EXPECT_FALSE(c.get("a.example", kA, t0).has_value());
  EXPECT_FALSE(c.get("b.example", kTxt, t0).has_value());
  EXPECT_FALSE(c.get("c.example", kTxt, t0).has_value());
  EXPECT_FALSE(c.get("d.example", kTxt, t0).has_value());
}

TEST(AnswerCache, SecureStaysSecure) {
  AnswerCache c;
  const auto t0 = AnswerCache::Clock::now();
  Answer a = txt("tlsa");
  a.secure = true;
  c.put("_25._tcp.mx.example", kTlsa, a, 60, t0);
  EXPECT_TRUE(c.get("_25._tcp.mx.example", kTlsa, t0)->secure);
  c.put("_25._tcp.mx.example", kTlsa, txt("now insecure"), 60, t0);  // a newer answer replaces it
  EXPECT_FALSE(c.get("_25._tcp.mx.example", kTlsa, t0)->secure);
}

TEST(AnswerCache, Bounded) {
  AnswerCache c(3);
  const auto t0 = AnswerCache::Clock::now();
  c.put("old.example", kA, txt("1"), 1, t0);
  c.put("b.example", kA, txt("2"), 60, t0);
  c.put("c.example", kA, txt("3"), 60, t0);
  // Full: the expired entry makes room first.
  c.put("d.example", kA, txt("4"), 60, t0 + seconds(2));
  EXPECT_EQ(c.size(), 3u);
  EXPECT_TRUE(c.get("b.example", kA, t0 + seconds(2)).has_value());
  // Full of live entries: it starts over, never grows past its bound.
  c.put("e.example", kA, txt("5"), 60, t0 + seconds(2));
  EXPECT_LE(c.size(), 3u);
  EXPECT_TRUE(c.get("e.example", kA, t0 + seconds(2)).has_value());
  AnswerCache off(0);
  off.put("x.example", kA, txt("1"), 60, t0);
  EXPECT_EQ(off.size(), 0u);
}

}  // namespace
}  // namespace mk::dns
