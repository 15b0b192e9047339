// Containment as the submission path calls it, on a real store: what the filter's opinion of
// submitted mail weighs once the instance's model learnt the rules, and what a hold leaves
// behind for a restarted server once the admin released the account.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "delivery/server_mail.hpp"
#include "filter/features.hpp"
#include "filter/verdict.hpp"
#include "guard/containment.hpp"
#include "message/parsed.hpp"
#include "log_capture.hpp"
#include "reports/alerts.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::guard {
namespace {

class ContainmentTest : public store::StoreTest {
 protected:
  void SetUp() override {
    // Containment reads the clock: keep each test within one hour (its windows' and the
    // store's unit), waiting out the last minute of one.
    while (std::time(nullptr) % 3600 > 3540) ::sleep(1);
    StoreTest::SetUp();
    id_ = account_with_domain("alice@example.org");
    mail_ = std::make_unique<delivery::ServerMail>(*store_, *store_, log::Logger{});
    alerts_ = std::make_unique<reports::Alerts>(*mail_, "mx.example.org", "", log::Logger{});
  }
  void TearDown() override {
    alerts_.reset();
    mail_.reset();
    StoreTest::TearDown();
  }
  std::unique_ptr<Containment> containment(std::shared_ptr<const filter::Model> model = nullptr,
                                           const log::Logger& log = log::Logger{}) {
    ContentFilter f;
    f.models = [model] { return std::pair{model, model}; };
    return std::make_unique<Containment>(Limits{}, *store_, *alerts_, nullptr, log, std::move(f));
  }
  // One submission from alice to `to`; the refusal's text, empty when it goes through.
  std::string submit(Containment& c, const std::string& text, const std::string& to) {
    smtp::Transaction txn;
    txn.account_id = id_;
    const message::Parsed msg(text);
    auto r = c.check(txn, msg, "alice@example.org", {to}, "203.0.113.5");
    return r ? r->lines.front() : "";
  }
  static std::string note(int i) {
    return "From: Alice <alice@example.org>\r\nTo: r" + std::to_string(i) +
           "@remote.example\r\nSubject: lunch\r\nMessage-ID: <n" + std::to_string(i) +
           "@example.org>\r\n\r\nAre you free for lunch on Thursday? Alice\r\n";
  }
  bool held() {
    const auto a = store_->account_by_id(id_);
    return a.ok() && *a && !(*a)->outbound_hold.empty();
  }
  std::int64_t id_ = 0;
  std::unique_ptr<delivery::ServerMail> mail_;
  std::unique_ptr<reports::Alerts> alerts_;
};

// Spam whose hand-set rules alone reach the Junk score, different each time (no near-
// duplicates) and without links (nothing fresh): only the filter's opinion counts.
std::string offer(int i) {
  return "From: \"WINNER NOTICE\" <alice@example.org>\r\nTo: p" + std::to_string(i) +
         "@remote.example\r\nSubject: ***FREE*** CASH PRIZE FOR YOU!!! ACT NOW " + std::to_string(1000 + i) +
         "\r\nMessage-ID: <o" + std::to_string(i) + "@example.org>\r\n\r\n"
         "CONGRATULATIONS!!! YOU HAVE BEEN SELECTED TO RECEIVE A FREE CASH PRIZE!!!\r\n"
         "This is a limited time offer, 100% GUARANTEED, no risk, no obligation.\r\n"
         "Reply today to claim your $" + std::to_string(5000 + i * 13) + " prize before it expires!!!\r\n"
         "To be removed from our mailing list reply with REMOVE in the subject.\r\n";
}

// Once spam.model learnt the rules (200 messages of each kind), their hand-set scores count
// a quarter (filter::hand_rule_weight): containment asks the filter the same way the MX does,
// so mail the rules alone would junk is not FILTER_SPAM for it any more.
TEST_F(ContainmentTest, TheFiltersOpinionWeighsTheRulesAsTheMxDoes) {
  filter::Inputs full, learnt;
  auto trained = std::make_shared<filter::Model>(12);
  for (int i = 0; i < 200; ++i) {
    trained->learn(filter::extract_features("Subject: s" + std::to_string(i) + "\r\n\r\nbuy\r\n"), true);
    trained->learn(filter::extract_features("Subject: h" + std::to_string(i) + "\r\n\r\nmeeting\r\n"), false);
  }
  ASSERT_TRUE(trained->knows_rules());
  learnt.model = trained.get();
  learnt.rule_weight = filter::hand_rule_weight(trained.get());
  ASSERT_LT(learnt.rule_weight, 0.5);
  // The precondition: the rules junk each offer at full weight, not at the learnt one.
  for (int i = 0; i < 3; ++i) {
    const message::Parsed m(offer(i));
    const auto v = filter::judge(m, full);
    ASSERT_GE(v.score, full.thresholds.junk) << v.summary();
    ASSERT_LT(filter::judge(m, learnt).score, learnt.thresholds.junk) << filter::judge(m, learnt).summary();
  }
  // Rules only (no model): the third offer to a stranger holds the account (3 x 3 >= 8).
  {
    auto c = containment();
    EXPECT_EQ(submit(*c, offer(0), "p0@remote.example"), "");
    EXPECT_EQ(submit(*c, offer(1), "p1@remote.example"), "");
    const auto refused = submit(*c, offer(2), "p2@remote.example");
    EXPECT_NE(refused.find("FILTER_SPAM"), std::string::npos) << refused;
    EXPECT_TRUE(held());
  }
  ASSERT_TRUE(store_->set_outbound_hold(id_, "").ok());
  ASSERT_TRUE(store_->hold_send_history(id_, 0, std::time(nullptr) / 3600 + 1).ok());
  // With the trained model the same three go (the model knows none of their words).
  auto c = containment(trained);
  for (int i = 3; i < 6; ++i) EXPECT_EQ(submit(*c, offer(i), "p" + std::to_string(i) + "@remote.example"), "") << i;
  EXPECT_FALSE(held());
}

// A hold marks the day that led to it: after the admin's release, a restarted server does not
// count that burst again (it held the account again at once), but counts what the account
// sent after the release.
TEST_F(ContainmentTest, ARestartAfterAReleaseDoesNotCountTheHeldBurstAgain) {
  {
    auto c = containment();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(submit(*c, note(i), "r" + std::to_string(i) + "@remote.example"), "") << i;
    const auto refused = submit(*c, note(5), "r5@remote.example");
    EXPECT_NE(refused.find("more than 5 new recipients in an hour"), std::string::npos) << refused;
    EXPECT_TRUE(held());
  }
  // mailkeep account release (app/accounts.cpp) clears the flag; the server restarts.
  ASSERT_TRUE(store_->set_outbound_hold(id_, "").ok());
  {
    auto c = containment();
    EXPECT_EQ(submit(*c, note(6), "r6@remote.example"), "");
    EXPECT_EQ(submit(*c, note(7), "r7@remote.example"), "");
  }
  // Restarted again: the two sent since the release count, the five before it do not.
  auto c = containment();
  for (int i = 8; i < 11; ++i) EXPECT_EQ(submit(*c, note(i), "r" + std::to_string(i) + "@remote.example"), "") << i;
  EXPECT_NE(submit(*c, note(11), "r11@remote.example").find("more than 5 new recipients"), std::string::npos);
}

// A hold the store refuses to record is enforced in memory, and the burst stays the
// account's history: a restart (which loses the memory) holds it again at its next message.
TEST_F(ContainmentTest, AHoldThatCannotBeStoredKeepsTheBurstForARestart) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);  // the store's own connection may be writing
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER refuse_holds BEFORE UPDATE OF outbound_hold ON accounts "
                         "BEGIN SELECT RAISE(FAIL, 'refused by the test'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    auto c = containment();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(submit(*c, note(i), "r" + std::to_string(i) + "@remote.example"), "") << i;
    EXPECT_NE(submit(*c, note(5), "r5@remote.example").find("more than 5 new recipients"), std::string::npos);
    EXPECT_FALSE(held());  // not stored...
    EXPECT_NE(submit(*c, note(6), "r6@remote.example").find("suspended"), std::string::npos);  // ... but enforced
  }
  const std::int64_t hour = std::time(nullptr) / 3600;
  const auto history = store_->send_history(id_, hour - 23, hour + 1);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().new_recipients, 5);
  auto c = containment();  // restarted: the hold in memory is gone, the burst is not
  EXPECT_NE(submit(*c, note(7), "r7@remote.example").find("more than 5 new recipients"), std::string::npos);
  // The queue runner's verdicts make a window (seeded with the burst) while the hold is in
  // memory; the store takes the hold at the next submission, and the release then starts
  // afresh in this process too.
  c->verdicts(id_, 1, 0);
  ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER refuse_holds", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_NE(submit(*c, note(8), "r8@remote.example").find("suspended"), std::string::npos);
  EXPECT_TRUE(held());
  ASSERT_TRUE(store_->set_outbound_hold(id_, "").ok());  // released
  EXPECT_EQ(submit(*c, note(9), "r9@remote.example"), "");
}

// The hosted domains unread: the submission is judged without them (none were read before),
// and the log says so.
TEST_F(ContainmentTest, HostedDomainsTheStoreCannotReadAreLogged) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  EXPECT_EQ(sqlite3_exec(db, "ALTER TABLE domains RENAME TO away", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  test::LogCapture log(dir_ + "/log");
  ASSERT_TRUE(log.ok());
  auto c = containment(nullptr, log.logger());
  EXPECT_EQ(submit(*c, note(1), "r1@remote.example"), "");
  const std::string line = log.line("event=guard.hosted_domains_unread");
  ASSERT_NE(line, "") << log.text();
  EXPECT_NE(line.find("level=error"), std::string::npos) << line;
  EXPECT_NE(line.find("kept=false"), std::string::npos) << line;
  EXPECT_NE(line.find("no such table: domains"), std::string::npos) << line;
}

}  // namespace
}  // namespace mk::guard
