// The outbound queue: queued in the same commit as local copies, per-recipient state, admin
// actions, and the shared message file's lifetime.
#include <gtest/gtest.h>

#include <ctime>

#include "store/blob.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::store {
namespace {

class QueueTest : public StoreSuite {
 protected:
  NewMessage submission(std::int64_t sender) {
    NewMessage m;
    m.data = std::make_shared<const std::string>("From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n");
    m.mail_from = "a@example.org";
    m.dsn = "RET=HDRS";
    m.sender_account = sender;
    m.deliveries.push_back(Delivery{sender, "Sent", "a@example.org", ""});  // a local copy
    m.outbound.push_back(OutboundRcpt{"x@remote.example", "NOTIFY=FAILURE"});
    m.outbound.push_back(OutboundRcpt{"y@Other.Example", ""});
    return m;
  }
};

MK_EVERY_BACKEND(QueueTest);

TEST_P(QueueTest, QueuedWithTheLocalCopiesAndSurvivesReopen) {
  auto id = account_with_domain();
  ASSERT_TRUE(store_->deliver_sync(submission(id)).ok());
  reopen();
  auto q = *store_->list_queue();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].mail_from, "a@example.org");
  EXPECT_EQ(q[0].dsn, "RET=HDRS");
  EXPECT_EQ(q[0].sender_account, id);
  ASSERT_EQ(q[0].rcpts.size(), 2u);
  EXPECT_EQ(q[0].rcpts[0].rcpt, "x@remote.example");
  EXPECT_EQ(q[0].rcpts[0].dsn, "NOTIFY=FAILURE");
  EXPECT_EQ(q[0].rcpts[1].domain, "other.example");
  EXPECT_EQ(q[0].rcpts[1].state, RcptState::queued);
  EXPECT_EQ(*store_->read_queued(q[0]), "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n");
  EXPECT_EQ(store_->list_messages(mailbox(id, "Sent"))->size(), 1u);
  EXPECT_EQ(*store_->recover(), 0u);  // the shared file is referenced
}

TEST_P(QueueTest, StatsCountWhatWaits) {
  auto id = account_with_domain();
  EXPECT_EQ(store_->queue_stats()->messages, 0);
  EXPECT_EQ(store_->queue_stats()->oldest, 0);
  const std::int64_t before = std::time(nullptr);
  ASSERT_TRUE(store_->deliver_sync(submission(id)).ok());
  ASSERT_TRUE(store_->deliver_sync(submission(id)).ok());
  auto st = *store_->queue_stats();
  EXPECT_EQ(st.messages, 2);
  EXPECT_EQ(st.recipients, 4);
  EXPECT_EQ(st.held_recipients, 0);
  EXPECT_GE(st.oldest, before);
  EXPECT_LE(st.oldest, std::time(nullptr));
  // One message held, and one recipient of the other delivered: each message counted once.
  const auto q = *store_->list_queue();
  ASSERT_TRUE(store_->queue_action(q[0].id, QueueAction::hold).ok());
  AttemptRecord done;
  done.rcpt_id = q[1].rcpts[0].id;
  done.state = RcptState::delivered;
  ASSERT_TRUE(store_->record_attempts({done}, {}).ok());
  st = *store_->queue_stats();
  EXPECT_EQ(st.messages, 2);
  EXPECT_EQ(st.recipients, 1);
  EXPECT_EQ(st.held_recipients, 2);
  EXPECT_EQ(st.oldest, q[1].created);
  // Held mail waits for a person: alone in the queue, it makes nothing old.
  ASSERT_TRUE(store_->queue_action(q[1].id, QueueAction::drop).ok());
  st = *store_->queue_stats();
  EXPECT_EQ(st.messages, 1);
  EXPECT_EQ(st.held_recipients, 2);
  EXPECT_EQ(st.oldest, 0);
  ASSERT_TRUE(store_->queue_action(q[0].id, QueueAction::drop).ok());
  EXPECT_EQ(store_->queue_stats()->messages, 0);
}

TEST_P(QueueTest, AFailedLocalCopyQueuesNothing) {
  auto id = account_with_domain();
  auto m = submission(id);
  m.deliveries[0].mailbox = "Nope";
  m.deliveries[0].exact = true;
  EXPECT_FALSE(store_->deliver_sync(m).ok());
  EXPECT_TRUE(store_->list_queue()->empty());
}

TEST_P(QueueTest, HoldReleaseRetryDrop) {
  auto id = account_with_domain();
  ASSERT_TRUE(store_->deliver_sync(submission(id)).ok());
  const auto qid = store_->list_queue()->front().id;
  EXPECT_EQ(*store_->queue_action(qid, QueueAction::hold), 2u);
  EXPECT_EQ((*store_->queued_message(qid))->rcpts[0].state, RcptState::held);
  EXPECT_EQ(*store_->queue_action(qid, QueueAction::retry), 0u);  // held: nothing to retry
  EXPECT_EQ(*store_->queue_action(qid, QueueAction::release), 2u);
  EXPECT_EQ(*store_->queue_action(qid, QueueAction::retry), 2u);
  EXPECT_FALSE(store_->queue_action(qid + 1, QueueAction::hold).ok());
  EXPECT_EQ(*store_->queue_action(qid, QueueAction::drop), 2u);
  EXPECT_FALSE(store_->queued_message(qid)->has_value());
  // The local copy still holds the file; removing it removes the file.
  EXPECT_EQ(store_->list_messages(mailbox(id, "Sent"))->size(), 1u);
  ASSERT_TRUE(store_->remove_account("a@example.org").ok());
  if (backend().blob_files) {
    EXPECT_TRUE(BlobStore(dir_ + "/blobs").list().empty());
  }
}

TEST_P(QueueTest, AHoldDuringAnAttemptSurvivesADeferral) {
  auto id = account_with_domain();
  ASSERT_TRUE(store_->deliver_sync(submission(id)).ok());
  auto claimed = *store_->claim_due(std::int64_t(std::time(nullptr)) + 10, std::int64_t(std::time(nullptr)) + 900, 10);
  ASSERT_EQ(claimed.size(), 1u);
  const auto& rc = claimed[0].rcpts;
  ASSERT_EQ(rc.size(), 2u);
  EXPECT_EQ(*store_->queue_action(claimed[0].id, QueueAction::hold), 2u);  // containment, meanwhile
  // The attempt ends: x deferred (4xx), y delivered before the hold could stop it.
  ASSERT_TRUE(store_->record_attempts({{rc[0].id, RcptState::queued, std::int64_t(std::time(nullptr)) + 60, "451 try later"},
                                       {rc[1].id, RcptState::delivered, 0, ""}}, {claimed[0].id}).ok());
  auto q = **store_->queued_message(claimed[0].id);
  ASSERT_EQ(q.rcpts.size(), 2u);
  EXPECT_EQ(q.rcpts[0].rcpt, "x@remote.example");
  EXPECT_EQ(q.rcpts[0].state, RcptState::held);
  EXPECT_EQ(q.rcpts[0].attempts, 1);
  EXPECT_EQ(q.rcpts[1].state, RcptState::delivered);
}

TEST_P(QueueTest, AccountWideActionsForContainment) {
  auto a = account_with_domain("a@example.org");
  auto b = account_with_domain("b@example.org");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->deliver_sync(submission(a)).ok());
  auto other = submission(b);
  other.deliveries[0].account_id = b;
  ASSERT_TRUE(store_->deliver_sync(other).ok());
  EXPECT_EQ(*store_->account_queue_action(a, QueueAction::hold), 3u);
  EXPECT_EQ(*store_->account_queue_action(a, QueueAction::hold), 0u);  // nothing left to hold
  auto states = [&](std::int64_t who) {
    std::string out;
    for (const auto& m : *store_->list_queue())
      if (m.sender_account == who)
        for (const auto& r : m.rcpts) out += r.state == RcptState::held ? 'h' : 'q';
    return out;
  };
  EXPECT_EQ(states(a), "hhhhhh");
  EXPECT_EQ(states(b), "qq");  // another account's mail is untouched
  EXPECT_EQ(*store_->account_queue_action(a, QueueAction::release), 3u);
  EXPECT_EQ(states(a), "qqqqqq");
  EXPECT_EQ(*store_->account_queue_action(a, QueueAction::drop), 0u);  // drop takes held mail only
  ASSERT_TRUE(store_->queue_action(store_->list_queue()->front().id, QueueAction::hold).ok());
  EXPECT_EQ(*store_->account_queue_action(a, QueueAction::drop), 1u);
  EXPECT_EQ(states(a), "qqqq");
  EXPECT_EQ(store_->list_queue()->size(), 3u);
}

TEST_P(QueueTest, DroppingTheOnlyReferenceRemovesTheFile) {
  auto id = account_with_domain();
  auto m = submission(id);
  m.deliveries.clear();
  ASSERT_TRUE(store_->deliver_sync(m).ok());
  if (!backend().blob_files) GTEST_SKIP() << "keeps no message files";
  EXPECT_EQ(BlobStore(dir_ + "/blobs").list().size(), 1u);
  ASSERT_TRUE(store_->queue_action(store_->list_queue()->front().id, QueueAction::drop).ok());
  EXPECT_TRUE(BlobStore(dir_ + "/blobs").list().empty());
}

}  // namespace
}  // namespace mk::store
