// The trust budget: what an account may send follows from its history, from a tight start
// without history to the configured ceiling with enough of it; a new network earns no
// new-recipient credit.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "guard/trust.hpp"

namespace mk::guard {
namespace {

constexpr std::int64_t kDay = 86400;

History with(int answered, int sending_days, std::int64_t age_days, int writers, bool new_network = false) {
  History h;
  h.answered = answered;
  h.sending_days = sending_days;
  h.age_seconds = age_days * kDay;
  h.writers = writers;
  h.new_network = new_network;
  return h;
}

TEST(Trust, BudgetsGrowWithHistoryUpToTheCeiling) {
  struct Row {
    const char* name;
    History history;
    Limits ceiling;
    int new_per_hour, new_per_day, messages_per_hour;
  };
  const Limits def{100, 500, 40};
  const Row rows[] = {
      {"no history", with(0, 0, 0, 0), def, 5, 30, 50},
      {"six days old counts nothing", with(0, 0, 6, 0), def, 5, 30, 50},
      {"ten answers", with(10, 0, 0, 0), def, 22, 265, 75},
      {"twenty answers: full trust", with(20, 0, 0, 0), def, 40, 500, 100},
      {"many answers: never above the ceiling", with(500, 0, 0, 0), def, 40, 500, 100},
      {"ten answers and ten days", with(10, 10, 0, 0), def, 40, 500, 100},
      {"a year old, dormant: age alone is weak", with(0, 0, 365, 0), def, 12, 124, 60},
      {"thirty days of sending count as ten", with(0, 30, 0, 0), def, 22, 265, 75},
      {"fifty writers widen messages only", with(0, 0, 0, 50), def, 5, 30, 100},
      {"established, from a new network", with(20, 10, 365, 50, true), def, 5, 30, 100},
      {"negative counts are none", with(-5, -5, -5, -5), def, 5, 30, 50},
      {"a ceiling below the start is the budget", with(0, 0, 0, 0), Limits{3, 500, 3}, 3, 18, 3},
      {"a higher ceiling raises the start", with(0, 0, 0, 0), Limits{1000, 5000, 400}, 50, 300, 500},
      {"a tiny ceiling still allows one", with(0, 0, 0, 0), Limits{1, 1, 1}, 1, 1, 1},
  };
  for (const auto& r : rows) {
    const Budget b = budget(r.history, r.ceiling);
    EXPECT_EQ(b.new_per_hour, r.new_per_hour) << r.name;
    EXPECT_EQ(b.new_per_day, r.new_per_day) << r.name;
    EXPECT_EQ(b.messages_per_hour, r.messages_per_hour) << r.name;
  }
}

// Answers from one domain's addresses count a few: whoever holds a domain answers from all
// of them. A mailbox provider's addresses are separate people.
TEST(Trust, AnsweredRecipientsCountAFewPerDomain) {
  const dmarc::OrgDomains orgs;
  std::vector<std::string> farm;
  for (int i = 0; i < 20; ++i) farm.push_back(fmt::format("a{}@x{}.farm.example", i, i));
  EXPECT_EQ(answered_points(farm, orgs), kMaxAnsweredPerDomain);  // subdomains are one domain
  std::vector<std::string> people = {"ann@partner.example", "bob@partner.example", "cy@other.example",
                                     "dee@gmail.com", "eve@gmail.com", "fay@gmail.com", "gus@gmail.com",
                                     "no-at-sign"};
  EXPECT_EQ(answered_points(people, orgs), 7);
  farm.insert(farm.end(), people.begin(), people.end());
  EXPECT_EQ(answered_points(farm, orgs), kMaxAnsweredPerDomain + 7);
  // A provider's name inside the attacker's own domain is the attacker's domain (review).
  std::vector<std::string> lookalikes;
  for (int i = 0; i < 10; ++i) lookalikes.push_back(fmt::format("u{}@gmail.attacker.example", i));
  for (int i = 0; i < 10; ++i) lookalikes.push_back(fmt::format("v{}@mail.gmail.com", i));
  EXPECT_EQ(answered_points(lookalikes, orgs), 2 * kMaxAnsweredPerDomain);
  EXPECT_TRUE(mailbox_provider("gmail.com"));
  EXPECT_FALSE(mailbox_provider("gmail.attacker.example"));
}

TEST(Trust, HistoryInWords) {
  struct Row {
    History history;
    const char* words;
  };
  const Row rows[] = {
      {with(0, 0, 0, 0), "no history"},
      {with(0, 0, 0, 9), "no history"},  // writers earn no new recipients
      {with(2, 0, 0, 0), "2 answered recipient(s)"},
      {with(1, 3, 9, 0), "1 answered recipient(s), 3 day(s) of sending, 9 day(s) old"},
  };
  for (const auto& r : rows) EXPECT_EQ(describe(r.history), r.words);
}

}  // namespace
}  // namespace mk::guard
