// The anomaly detector: bursts over the account's own history, replies with links to old
// threads, remote refusals; and the store data it reads (send history, Message-IDs).
#include <gtest/gtest.h>

#include "guard/anomaly.hpp"
#include "guard/limits.hpp"
#include "unit/guard/guard_fixture.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::guard {
namespace {

using testing::established;
using testing::kDay;
using testing::submission;

constexpr std::int64_t kNow = 1764547200;  // on an hour boundary

TEST(Anomaly, BurstNeedsAWeekOfHistoryAndScalesWithIt) {
  const AnomalyThresholds t;
  EXPECT_FALSE(burst({6, 1, 1}, 500, 500, t));  // six days: not judged (the limits still apply)
  EXPECT_FALSE(burst({7, 1, 1}, 20, 10, t));    // the floors
  EXPECT_EQ(*burst({7, 1, 1}, 21, 0, t), "21 messages in an hour, far above its busiest hour of the past weeks (1)");
  EXPECT_EQ(*burst({7, 1, 1}, 1, 11, t), "11 new recipients in an hour, far above its busiest hour of the past weeks (1)");
  EXPECT_FALSE(burst({30, 10, 5}, 40, 20, t));  // 4 x the busiest hour
  EXPECT_TRUE(burst({30, 10, 5}, 41, 0, t));
  EXPECT_TRUE(burst({30, 10, 5}, 1, 21, t));
}

TEST(Anomaly, OldThreadRepliesAndRefusals) {
  const AnomalyThresholds t;
  EXPECT_TRUE(old_thread_reply({kNow - 31 * kDay, true, {}}, kNow, t));
  EXPECT_FALSE(old_thread_reply({kNow - 31 * kDay, false, {}}, kNow, t));  // no links
  EXPECT_FALSE(old_thread_reply({kNow - 29 * kDay, true, {}}, kNow, t));   // a live thread
  EXPECT_FALSE(old_thread_reply({std::nullopt, true, {}}, kNow, t));        // not a reply to anything known
  EXPECT_FALSE(refusals(0, 9, t));   // too few to judge
  EXPECT_FALSE(refusals(11, 10, t)); // under half
  EXPECT_EQ(*refusals(10, 10, t), "remote servers refused 10 of its last 20 recipients within an hour");
}

class DetectorTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    id_ = account_with_domain("alice@example.org");
  }
  std::vector<std::string> fresh(int n) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) v.push_back("r" + std::to_string(next_++) + "@remote.example");
    return v;
  }
  std::int64_t id_ = 0;
  int next_ = 0;
};

TEST_F(DetectorTest, BurstOverTheStoredBaseline) {
  // Two weeks of a quiet account: at most 3 messages and 1 new recipient in an hour.
  for (int d = 1; d <= 14; ++d) ASSERT_TRUE(store_->add_send_history(id_, (kNow - d * kDay) / 3600, 3, 1).ok());
  auto b = store_->send_baseline(id_, kNow / 3600 - 28 * 24, kNow / 3600);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->active_days, 14);
  EXPECT_EQ(b->peak_messages, 3);
  SendingLimits l(Limits{100, 500, 40}, *store_);
  const std::vector<std::string> known{"friend@remote.example"};
  ASSERT_TRUE(store_->add_correspondents(id_, known, kNow - 20 * kDay).ok());
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(l.submit(id_, known, kNow + i, submission()).hold) << i;
  auto d = l.submit(id_, known, kNow + 30, submission());
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "21 messages in an hour, far above its busiest hour of the past weeks (3)");
  // New recipients: ten are within 4 x 1 (floor 10); the eleventh is not.
  // What it sent is history for later hours (the 20 accepted messages above)...
  EXPECT_EQ(store_->send_baseline(id_, kNow / 3600, kNow / 3600 + 1)->peak_messages, 20);
  SendingLimits l2(Limits{100, 500, 40}, *store_);
  EXPECT_EQ(store_->send_baseline(id_, kNow / 3600 - 28 * 24, kNow / 3600 + 1)->active_days, 15);
  l2.close_history(id_, kNow + 40);  // held (and stored): the day that led to it is closed
  l2.forget(id_);                    // released: a window of its own, not this hour's record of the 20 above
  // ... until it is held: then its peaks are not (an hour sent in after the release starts
  // afresh), but its day still counts as active (the burst check needs 7 of them).
  EXPECT_EQ(store_->send_baseline(id_, kNow / 3600, kNow / 3600 + 1)->peak_messages, 0);
  EXPECT_EQ(store_->send_baseline(id_, kNow / 3600 - 28 * 24, kNow / 3600 + 1)->active_days, 15);
  EXPECT_EQ(store_->send_baseline(id_, kNow / 3600 - 28 * 24, kNow / 3600)->peak_messages, 3);
  EXPECT_FALSE(l2.submit(id_, fresh(10), kNow + 40, submission()).hold);
  EXPECT_TRUE(l2.submit(id_, fresh(1), kNow + 41, submission()).hold);
  EXPECT_EQ(store_->send_baseline(id_, kNow / 3600, kNow / 3600 + 1)->peak_messages, 1);
}

TEST_F(DetectorTest, WithoutASendingBaselineOnlyTheBudgetsJudge) {
  SendingLimits l(Limits{100, 500, 40}, *store_);
  EXPECT_FALSE(l.submit(id_, fresh(30), kNow, submission()).hold);
  EXPECT_EQ(l.submit(id_, fresh(11), kNow, submission()).reason, "more than 40 new recipients in an hour");
}

TEST_F(DetectorTest, RepliesWithLinksToOldThreads) {
  // An old conversation in the mailbox, and a live one.
  auto old_msg = message("Message-ID: <old-1@remote.example>\r\nSubject: invoice\r\n\r\nhi\r\n", id_);
  old_msg.internaldate = kNow - 200 * kDay;
  ASSERT_TRUE(store_->deliver_sync(old_msg).ok());
  auto live = message("Message-Id:  <live-1@remote.example> \r\n\r\nhi\r\n", id_);
  live.internaldate = kNow - kDay;
  ASSERT_TRUE(store_->deliver_sync(live).ok());
  EXPECT_EQ(**store_->newest_in_thread(id_, {"nothing@x", "old-1@remote.example"}), kNow - 200 * kDay);
  EXPECT_EQ(**store_->newest_in_thread(id_, {"old-1@remote.example", "live-1@remote.example"}), kNow - kDay);
  EXPECT_FALSE(store_->newest_in_thread(id_, {"nothing@x"})->has_value());
  const auto bob = account_with_domain("bob@example.org");
  EXPECT_FALSE(store_->newest_in_thread(bob, {"old-1@remote.example"})->has_value());  // not bob's

  SendingLimits l(Limits{100, 500, 40}, *store_);
  const std::vector<std::string> to{"partner@remote.example"};
  const MessageTraits old_with_links{kNow - 200 * kDay, true, {}};
  EXPECT_FALSE(l.submit(id_, to, kNow, submission(established(), {kNow - 200 * kDay, false, {}})).hold);  // no links
  EXPECT_FALSE(l.submit(id_, to, kNow, submission(established(), {kNow - kDay, true, {}})).hold);         // live thread
  EXPECT_FALSE(l.submit(id_, to, kNow, submission(established(), old_with_links)).hold);
  EXPECT_FALSE(l.submit(id_, to, kNow + 1, submission(established(), old_with_links)).hold);
  auto d = l.submit(id_, to, kNow + 2, submission(established(), old_with_links));
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "3 replies carrying links to threads older than 30 days within an hour");
  EXPECT_FALSE(l.submit(id_, to, kNow + 3602, submission(established(), old_with_links)).hold);  // an hour later: one
}

TEST_F(DetectorTest, CopiesKeepTheirMessageId) {
  auto m = message("Message-ID: <c@remote.example>\r\n\r\nhi\r\n", id_);
  m.internaldate = kNow - 100 * kDay;
  ASSERT_TRUE(store_->deliver_sync(m).ok());
  const auto old = store_->create_mailbox(id_, "Old", "");
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(store_->copy_messages(inbox(id_), {1}, *old, true).ok());  // MOVE
  EXPECT_EQ(**store_->newest_in_thread(id_, {"c@remote.example"}), kNow - 100 * kDay);
}

TEST_F(DetectorTest, RemoteRefusals) {
  SendingLimits l(Limits{}, *store_);
  EXPECT_FALSE(l.outcomes(id_, 2, 5, kNow).hold);
  EXPECT_FALSE(l.outcomes(id_, 0, 4, kNow + 1).hold);
  const auto d = l.outcomes(id_, 0, 1, kNow + 2);
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "remote servers refused 10 of its last 12 recipients within an hour");
  SendingLimits fresh_limits(Limits{}, *store_);
  EXPECT_FALSE(fresh_limits.outcomes(id_, 0, 9, kNow).hold);
  EXPECT_FALSE(fresh_limits.outcomes(id_, 0, 9, kNow + 3601).hold);  // the first nine have expired
}

}  // namespace
}  // namespace mk::guard
