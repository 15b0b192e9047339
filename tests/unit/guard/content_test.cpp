// Content signals of submitted mail: which fire when, their weights, the freshness of link
// domains, and the hold reason that names them.
#include <gtest/gtest.h>

#include "guard/content.hpp"

namespace mk::guard {
namespace {

constexpr std::int64_t kNow = 1764547200;

std::vector<std::string> names(const std::vector<Signal>& s) {
  std::vector<std::string> out;
  for (const auto& x : s) out.push_back(x.name + "=" + std::to_string(x.weight));
  return out;
}

TEST(Content, FreshDomains) {
  Content c;
  c.link_domains = {"never.example", "today.example", "old.example", "own.example", "unknown.example"};
  c.link_first_seen = {0, kNow - 3600, kNow - 2 * 86400, 0};  // the last: not looked up
  c.own_domains = {"own.example"};
  EXPECT_EQ(fresh_domains(c, kNow, {}),
            (std::vector<std::string>{"never.example", "today.example", "unknown.example"}));
}

TEST(Content, SignalsOfOneMessage) {
  struct Row {
    const char* name;
    Content content;
    Audience to;
    int near, thread_outsiders;
    std::vector<std::string> expected;
  };
  Content junk;
  junk.filter = FilterOpinion{true, false, 4.5, "LINK_MISMATCH=2.50 X=2.00"};
  Content refused = junk;
  refused.filter->reject = true;
  Content clean;
  clean.filter = FilterOpinion{false, false, 0.5, ""};
  Content linked;
  linked.link_domains = {"new.example"};
  linked.link_first_seen = {0};
  Content thread;
  thread.thread = "root@x";
  thread.thread_outsiders = {"a@r.example"};
  Content no_outsiders;
  no_outsiders.thread = "root@x";
  const Audience fresh{true, false}, answered{false, true}, known{false, false};
  const Row rows[] = {
      {"nothing", Content{}, fresh, 0, 0, {}},
      {"a clean verdict", clean, fresh, 0, 0, {}},
      {"junk", junk, fresh, 0, 0, {"FILTER_SPAM=3"}},
      {"refused", refused, fresh, 0, 0, {"FILTER_SPAM=8"}},
      {"junk to a writer it answers", junk, answered, 0, 0, {"FILTER_SPAM=3"}},
      {"junk to correspondents only", junk, known, 0, 0, {}},
      {"one earlier near-duplicate", Content{}, fresh, 1, 0, {}},
      {"two earlier near-duplicates", Content{}, fresh, 2, 0, {"NEAR_DUPLICATE=2"}},
      // Answers look alike; but writers it answers may be forged, so a fresh link to them counts.
      {"near-duplicates to writers it answers", Content{}, answered, 5, 0, {}},
      {"near-duplicates to correspondents", Content{}, known, 5, 0, {}},
      {"a fresh link", linked, fresh, 0, 0, {"FRESH_LINK=1"}},
      {"a fresh link to a writer it answers", linked, answered, 0, 0, {"FRESH_LINK=1"}},
      {"a fresh link to correspondents", linked, known, 0, 0, {}},
      {"two thread outsiders", thread, known, 0, 2, {}},
      {"three thread outsiders, correspondents too", thread, known, 0, 3, {"THREAD_OUTSIDERS=4"}},
      {"outsiders of a thread, none in this message", no_outsiders, fresh, 0, 5, {}},
  };
  for (const auto& r : rows)
    EXPECT_EQ(names(signals(r.content, kNow, r.to, r.near, r.thread_outsiders, {})), r.expected) << r.name;
}

TEST(Content, SuspicionAddsUpAndExplains) {
  const ContentThresholds t;
  EXPECT_FALSE(suspicion({}, t));
  EXPECT_FALSE(suspicion({{"FRESH_LINK", 1, "x"}, {"FILTER_SPAM", 3, "y"}, {"FILTER_SPAM", 3, "z"}}, t));  // 7
  EXPECT_EQ(*suspicion({{"FILTER_SPAM", 3, "junk 1"}, {"FRESH_LINK", 1, "a.example"}, {"FILTER_SPAM", 3, "junk 2"},
                        {"NEAR_DUPLICATE", 2, "near 2"}},
                       t),
            "its mail within an hour looks like a spam run, suspicion 9 of 8: FILTER_SPAM=6 in 2 messages (last: junk "
            "2); FRESH_LINK=1 (a.example); NEAR_DUPLICATE=2 (near 2)");
  EXPECT_TRUE(suspicion({{"FILTER_SPAM", 8, "GTUBE"}}, t));  // a refusal holds alone
}

}  // namespace
}  // namespace mk::guard
