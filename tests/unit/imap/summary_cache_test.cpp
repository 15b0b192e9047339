// imap/server/summary_cache: bounded by bytes, least recently used out first.
#include "imap/server/summary_cache.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace mk::imap {
namespace {

std::shared_ptr<const Summary> item(char c) {
  return std::make_shared<const Summary>("(" + std::string(100, c) + ")", "()", "()");
}

TEST(SummaryCache, EvictsTheLeastRecentlyUsed) {
  const auto a = item('a');
  const std::size_t each = std::string("key-a").size() + a->bytes() + 96;
  SummaryCache cache(3 * each);
  cache.put("key-a", a);
  cache.put("key-b", item('b'));
  cache.put("key-c", item('c'));
  ASSERT_EQ(cache.get("key-a"), a);  // now the most recently used
  cache.put("key-d", item('d'));     // over the limit: b goes
  EXPECT_EQ(cache.get("key-b"), nullptr);
  EXPECT_EQ(cache.get("key-a"), a);
  EXPECT_NE(cache.get("key-c"), nullptr);
  EXPECT_NE(cache.get("key-d"), nullptr);
  // A key already there keeps its entry.
  cache.put("key-a", item('x'));
  EXPECT_EQ(cache.get("key-a"), a);
  // Many more than fit, in turn: the cache stays within its bound and serves the newest.
  for (int i = 0; i < 1000; ++i) cache.put("k" + std::to_string(i), item('z'));
  EXPECT_EQ(cache.get("key-a"), nullptr);
  EXPECT_EQ(cache.get("k998")->envelope().size(), 102u);
  EXPECT_NE(cache.get("k999"), nullptr);
  EXPECT_EQ(cache.get("k996"), nullptr);
}

TEST(SummaryCache, RefusesWhatCanNeverFit) {
  SummaryCache cache(64);
  cache.put("key", item('a'));
  EXPECT_EQ(cache.get("key"), nullptr);
}

}  // namespace
}  // namespace mk::imap
