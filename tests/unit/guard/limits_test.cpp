// Sending limits: each limit holds at its boundary, windows slide, budgets follow the
// account's history, people the account wrote to (or who wrote to it, as the rules allow)
// are not "new", and content signals add up to a hold.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "guard/limits.hpp"
#include "unit/guard/guard_fixture.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::guard {
namespace {

using testing::established;
using testing::kDay;
using testing::submission;

constexpr std::int64_t kNow = 1764547200;

class LimitsTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    id_ = *store_->add_account("alice@example.org", "x");
  }
  static std::vector<std::string> one(int i) { return {"r" + std::to_string(i) + "@remote.example"}; }
  std::int64_t id_ = 0;
};

TEST_F(LimitsTest, NewRecipientsPerHour) {
  SendingLimits l(Limits{100, 500, 3}, *store_);
  EXPECT_FALSE(l.submit(id_, {"a@remote.example", "b@remote.example"}, kNow, submission()).hold);
  EXPECT_FALSE(l.submit(id_, {"a@remote.example"}, kNow + 1, submission()).hold);  // known now: not new
  EXPECT_FALSE(l.submit(id_, {"c@remote.example"}, kNow + 2, submission()).hold);
  auto d = l.submit(id_, {"d@remote.example"}, kNow + 3, submission());
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 3 new recipients in an hour");
  // For the security report: the burst began with the first message of the hour, and the
  // three messages before the hold were accepted.
  EXPECT_EQ(d.since, kNow);
  EXPECT_EQ(d.sent, 3);
  EXPECT_FALSE(l.submit(id_, {"d@remote.example"}, kNow + 3601, submission()).hold);  // the hour has passed
  EXPECT_EQ(store_->new_correspondents(id_, {"A@remote.example", "z@remote.example"})->size(), 1u);
}

TEST_F(LimitsTest, MessagesAndRecipients) {
  SendingLimits l(Limits{2, 5, 100}, *store_);
  EXPECT_FALSE(l.submit(id_, {"a@r.example", "b@r.example"}, kNow, submission()).hold);
  EXPECT_FALSE(l.submit(id_, {"c@r.example"}, kNow, submission()).hold);
  EXPECT_EQ(l.submit(id_, {"a@r.example"}, kNow, submission()).reason, "more than 2 messages in an hour");
  EXPECT_FALSE(l.submit(id_, {}, kNow, submission()).hold);  // local-only mail is not counted
  EXPECT_EQ(l.submit(id_, {"1@r.example", "2@r.example", "3@r.example"}, kNow + 3600, submission()).reason,
            "more than 5 recipients in a day");
  l.close_history(id_, kNow + 3600);  // held (and stored), then released
  l.forget(id_);
  EXPECT_FALSE(l.submit(id_, {"1@r.example", "2@r.example", "3@r.example"}, kNow + 3600, submission()).hold);
}

// Without history the budget is tight from the first message, and says why.
TEST_F(LimitsTest, NoHistoryStartsTight) {
  SendingLimits l(Limits{}, *store_);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.submit(id_, one(i), kNow + i, submission(History{})).hold) << i;
  const auto d = l.submit(id_, one(5), kNow + 5, submission(History{}));
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 5 new recipients in an hour (the budget of an account with no history; it grows as "
                      "recipients answer, up to 40)");
  // Known people are not new recipients: the owner writing to a correspondent is not held.
  SendingLimits again(Limits{}, *store_);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(again.submit(id_, one(i % 5), kNow + 10 + i, submission(History{})).hold);
}

// A restart does not hand an account a fresh hour: the window starts from the store's
// record of what it sent (review of issue 18); an admin's release (forget) starts afresh.
TEST_F(LimitsTest, ARestartKeepsTheHourAndTheDay) {
  {
    SendingLimits before(Limits{}, *store_);
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(before.submit(id_, one(i), kNow + i, submission(History{})).hold) << i;
  }
  SendingLimits after(Limits{}, *store_);  // the server restarted
  const auto d = after.submit(id_, one(5), kNow + 10, submission(History{}));
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason.rfind("more than 5 new recipients in an hour", 0), 0u) << d.reason;
  after.close_history(id_, kNow + 10);  // held (and stored)...
  after.forget(id_);                     // ... then released by the admin
  EXPECT_FALSE(after.submit(id_, one(6), kNow + 20, submission(History{})).hold);
  // The burst that was held is not counted again after a restart: the released account has
  // its budget (five new recipients an hour) from the release on, and no more.
  {
    SendingLimits restarted(Limits{}, *store_);
    for (int i = 7; i < 11; ++i) EXPECT_FALSE(restarted.submit(id_, one(i), kNow + 20 + i, submission(History{})).hold) << i;
    const auto again = restarted.submit(id_, one(11), kNow + 40, submission(History{}));
    EXPECT_TRUE(again.hold);
    EXPECT_EQ(again.reason.rfind("more than 5 new recipients in an hour", 0), 0u) << again.reason;
  }
  // After a start the queue runner's verdicts on earlier mail may come first: the window
  // they make is seeded all the same (the five since the release are this hour's budget).
  {
    SendingLimits restarted(Limits{}, *store_);
    EXPECT_FALSE(restarted.outcomes(id_, 1, 0, kNow + 50).hold);
    EXPECT_TRUE(restarted.submit(id_, one(12), kNow + 51, submission(History{})).hold);
  }
  // Without the store's record (another account) nothing is seeded: its own five go.
  const std::int64_t bob = *store_->add_account("bob@example.org", "x");
  SendingLimits fresh(Limits{}, *store_);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(fresh.submit(bob, one(10 + i), kNow + 30 + i, submission(History{})).hold);
}

// Right after a login from a new network only that network's sending counts; what a start
// reads back from the store has no network and counts too: a restart in a thief's first hour
// gives no fresh budget.
TEST_F(LimitsTest, ARestartInTheFirstHourOnANewNetworkKeepsItsCounts) {
  const std::string thief = "198.51.100.0/24";
  {
    SendingLimits before(Limits{}, *store_);
    for (int i = 0; i < 5; ++i)
      EXPECT_FALSE(before.submit(id_, one(i), kNow + i, submission(History{}, {}, thief, true)).hold) << i;
  }
  SendingLimits after(Limits{}, *store_);
  const auto d = after.submit(id_, one(5), kNow + 10, submission(History{}, {}, thief, true));
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 5 new recipients in an hour right after a login from a new network");
}

// A new user's day: twenty messages to twenty new people, one every 72 minutes, pass; a drip
// at the hourly budget stops at the daily one.
TEST_F(LimitsTest, ANewUsersDayAndASlowDrip) {
  SendingLimits l(Limits{}, *store_);
  for (int i = 0; i < 20; ++i)
    EXPECT_FALSE(l.submit(id_, one(i), kNow + i * 72 * 60, submission(History{})).hold) << i;
  // Another new account (the first one's sending is on record and would count: a restart).
  const std::int64_t dripper = *store_->add_account("drip@example.org", "x");
  SendingLimits drip(Limits{}, *store_);
  int sent = 0;
  SendingLimits::Decision last;
  for (int hour = 0; hour < 24 && !last.hold; ++hour)
    for (int i = 0; i < 5 && !last.hold; ++i) {
      last = drip.submit(dripper, one(1000 + hour * 5 + i), kNow + hour * 3600 + i, submission(History{}));
      sent += last.hold ? 0 : 1;
    }
  EXPECT_EQ(sent, 30);
  EXPECT_EQ(last.reason, "more than 30 new recipients in a day (the budget of an account with no history; it grows "
                         "as recipients answer, up to 500)");
}

TEST_F(LimitsTest, StrictAfterANewNetworkGivesNoCreditAndCountsOnlyThatNetwork) {
  SendingLimits l(Limits{100, 500, 40}, *store_);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(l.submit(id_, one(i), kNow, submission(established(), {}, "192.0.2.1")).hold);
  const auto from_there = submission(established(), {}, "203.0.113.9", true);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.submit(id_, one(100 + i), kNow + 1, from_there).hold) << i;
  auto d = l.submit(id_, one(105), kNow + 1, from_there);
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 5 new recipients in an hour right after a login from a new network");
  EXPECT_FALSE(l.submit(id_, one(11), kNow + 2, submission(established(), {}, "192.0.2.1")).hold);  // home is not strict
}

// Strict mode limits mail to known people too: one phishing message Bcc'd to every contact
// of a stolen mailbox, or a run of messages to them (review of issue 18).
TEST_F(LimitsTest, StrictAfterANewNetworkLimitsMailToKnownPeopleToo) {
  std::vector<std::string> contacts;
  for (int i = 0; i < 100; ++i) contacts.push_back("c" + std::to_string(i) + "@remote.example");
  ASSERT_TRUE(store_->add_correspondents(id_, contacts, kNow - kDay).ok());
  SendingLimits l(Limits{100, 500, 40}, *store_);
  auto from_there = submission(established(), {}, "203.0.113.9", true);
  from_there.elsewhere_before = true;  // an account in use, now used from elsewhere
  auto d = l.submit(id_, contacts, kNow, from_there);
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 62 recipients in a day right after a login from a new network");
  for (int i = 0; i < 12; ++i) EXPECT_FALSE(l.submit(id_, {contacts[i]}, kNow + 1, from_there).hold) << i;
  d = l.submit(id_, {contacts[12]}, kNow + 1, from_there);
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 12 messages in an hour right after a login from a new network");
  // From the usual network the same account has its full limits; a new account's first login
  // is not this case (its budget from history covers it).
  EXPECT_FALSE(l.submit(id_, {contacts[0]}, kNow + 2, submission(established(), {}, "192.0.2.1")).hold);
  SendingLimits first(Limits{100, 500, 40}, *store_);
  for (int i = 0; i < 13; ++i)
    EXPECT_FALSE(first.submit(id_, {contacts[i]}, kNow + 3, submission(established(), {}, "203.0.113.9", true)).hold) << i;
}

// People who wrote to the account: authenticated writers are known; an unauthenticated one
// only when the message answers their own mail.
TEST_F(LimitsTest, WritersAreKnownAsTheRulesAllow) {
  ASSERT_TRUE(store_->add_received(id_, {"signed@partner.example", true, "s1@partner", {"signed@partner.example"}}, kNow).ok());
  for (int i = 0; i < 10; ++i) {
    const std::string a = "w" + std::to_string(i) + "@remote.example";
    ASSERT_TRUE(store_->add_received(id_, {a, false, "m" + std::to_string(i) + "@remote", {a}}, kNow).ok());
  }
  SendingLimits l(Limits{100, 500, 3}, *store_);
  MessageTraits reply;
  // Answers to their own messages: not new, however many.
  for (int i = 0; i < 10; ++i) {
    reply.thread_ids = {"m" + std::to_string(i) + "@remote"};
    EXPECT_FALSE(l.submit(id_, {"w" + std::to_string(i) + "@remote.example"}, kNow + i, submission(established(), reply)).hold);
  }
  // The authenticated writer, in a message of its own.
  EXPECT_FALSE(l.submit(id_, {"signed@partner.example"}, kNow + 20, submission()).hold);
  // An answer naming another writer's message does not make this one known.
  SendingLimits other(Limits{100, 500, 1}, *store_);
  reply.thread_ids = {"m0@remote"};
  EXPECT_FALSE(other.submit(id_, {"x1@remote.example"}, kNow + 30, submission(established(), reply)).hold);
  EXPECT_EQ(other.submit(id_, {"x2@remote.example"}, kNow + 31, submission(established(), reply)).reason,
            "more than 1 new recipients in an hour");
}

// A user answering fifty people who wrote first (their mail authenticated), from an account
// with no other history, with the same words and the same link each time (a club's
// secretary): nothing holds. The same answer with a link new to the server, to fifty
// unauthenticated writers (whom anyone can forge), is held by FRESH_LINK (review of issue 18).
TEST_F(LimitsTest, FiftyAnswersFromANewAccount) {
  for (int i = 0; i < 50; ++i) {
    const std::string a = "p" + std::to_string(i) + "@remote.example";
    ASSERT_TRUE(store_->add_received(id_, {a, true, "q" + std::to_string(i) + "@remote", {a}}, kNow).ok());
    const std::string u = "u" + std::to_string(i) + "@remote.example";
    ASSERT_TRUE(store_->add_received(id_, {u, false, "v" + std::to_string(i) + "@remote", {u}}, kNow).ok());
  }
  History h;
  h.writers = int(store_->correspondence(id_, 100)->writers);
  Submission s = submission(h);
  s.content.fingerprint = fingerprint("Thank you for registering for the summer regatta, you will find the "
                                      "programme and the map on our website, see you on the water");
  s.content.link_domains = {"rowing-club.example"};
  s.content.link_first_seen = {0};
  SendingLimits l(Limits{}, *store_);
  for (int i = 0; i < 50; ++i) {
    s.traits.thread_ids = {"q" + std::to_string(i) + "@remote"};
    const auto d = l.submit(id_, {"p" + std::to_string(i) + "@remote.example"}, kNow + i, s);
    EXPECT_FALSE(d.hold) << i << ": " << d.reason;
  }
  SendingLimits forged(Limits{}, *store_);
  int sent = 0;
  for (int i = 0; i < 50; ++i) {
    s.traits.thread_ids = {"v" + std::to_string(i) + "@remote"};
    if (forged.submit(id_, {"u" + std::to_string(i) + "@remote.example"}, kNow + 100 + i, s).hold) break;
    ++sent;
  }
  EXPECT_LT(sent, 10);
  // Answers the inbound filter would junk still count: anyone can forge a writer to answer.
  s.content.filter = FilterOpinion{true, false, 4, "X=4.00"};
  s.content.fingerprint.reset();  // this verdict alone
  s.content.link_domains.clear();
  s.content.link_first_seen.clear();
  for (int i = 0; i < 3; ++i) {
    const std::string a = "f" + std::to_string(i) + "@forged.example";
    ASSERT_TRUE(store_->add_received(id_, {a, false, "g" + std::to_string(i) + "@forged", {a}}, kNow).ok());
    s.traits.thread_ids = {"g" + std::to_string(i) + "@forged"};
    EXPECT_EQ(l.submit(id_, {a}, kNow + 60 + i, s).hold, i == 2) << i;  // 3 + 3 + 3 >= 8
  }
}

// When the store cannot say who is known, every recipient is new.
TEST_F(LimitsTest, AnUnreadableHistoryCountsEveryoneAsNew) {
  ASSERT_TRUE(store_->add_correspondents(id_, {"a@r.example", "b@r.example"}, kNow - kDay).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE correspondents", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SendingLimits l(Limits{100, 500, 1}, *store_);
  EXPECT_FALSE(l.submit(id_, {"a@r.example"}, kNow, submission()).hold);
  EXPECT_EQ(l.submit(id_, {"b@r.example"}, kNow + 1, submission()).reason, "more than 1 new recipients in an hour");
}

// Content signals add up over the hour, for mail to new recipients.
TEST_F(LimitsTest, NearDuplicatesWithFreshLinksHold) {
  Submission s = submission();
  s.content.fingerprint = fingerprint("Dear friend, our pharmacy has the best prices on every medicine you need, order "
                                      "today and save up to seventy percent on your first order with us");
  s.content.link_domains = {"cheap-pills.example"};
  s.content.link_first_seen = {0};
  SendingLimits l(Limits{}, *store_);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(l.submit(id_, one(i), kNow + i, s).hold) << i;  // 1 + 1 + 3
  const auto d = l.submit(id_, one(3), kNow + 3, s);                                         // + 3 = 8
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "its mail within an hour looks like a spam run, suspicion 8 of 8: FRESH_LINK=4 in 4 messages "
                      "(last: links to cheap-pills.example, new to this server's mail (first seen less than 24 "
                      "hours ago, or never)); NEAR_DUPLICATE=4 in 2 messages (last: its text is near-identical to 3 earlier "
                      "message(s) to new recipients)");
  // The same mail to known correspondents is theirs to judge.
  ASSERT_TRUE(store_->add_correspondents(id_, {"friend@remote.example"}, kNow - kDay).ok());
  SendingLimits known(Limits{}, *store_);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(known.submit(id_, {"friend@remote.example"}, kNow + i, s).hold) << i;
}

TEST_F(LimitsTest, ThreadReuseForOutsidersHolds) {
  SendingLimits l(Limits{}, *store_);
  Submission s = submission();
  s.content.thread = "root@remote";
  for (int i = 0; i < 3; ++i) {
    s.content.thread_outsiders = one(i);
    EXPECT_FALSE(l.submit(id_, one(i), kNow + i, s).hold) << i;  // the third: 3 outsiders, weight 4
  }
  s.content.thread_outsiders = one(3);
  const auto d = l.submit(id_, one(3), kNow + 3, s);
  EXPECT_TRUE(d.hold);
  EXPECT_NE(d.reason.find("THREAD_OUTSIDERS=8 in 2 messages (last: replies in one thread went to 4 people outside it)"),
            std::string::npos)
      << d.reason;
}

}  // namespace
}  // namespace mk::guard
