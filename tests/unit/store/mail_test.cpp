// The IMAP-facing store operations: flags with MODSEQ, expunge with VANISHED data, copy and
// move with COPYUID data, mailbox rename/delete, APPEND into an exact mailbox.
#include <gtest/gtest.h>

#include "store/blob.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::store {
namespace {

class MailOps : public StoreSuite {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    acct_ = account_with_domain();
    inbox_ = mailbox(acct_, "INBOX");
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store_->deliver_sync(message("m" + std::to_string(i) + "\r\n", acct_)).ok());
  }
  std::vector<std::uint32_t> uids(std::int64_t mb) {
    std::vector<std::uint32_t> out;
    for (const auto& m : *store_->list_messages(mb)) out.push_back(m.uid);
    return out;
  }
  std::int64_t acct_ = 0, inbox_ = 0;
};

MK_EVERY_BACKEND(MailOps);

TEST_P(MailOps, DeliverReportsWhereItStored) {
  auto r = store_->deliver_sync(message("x\r\n", acct_));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].uid, 6u);
  EXPECT_EQ((*r)[0].mailbox_id, inbox_);
  EXPECT_EQ((*r)[0].uidvalidity, store_->mailbox_by_id(inbox_)->uidvalidity);
  // APPEND to a missing mailbox fails instead of falling back to INBOX.
  auto m = message("y\r\n", acct_, "Nope");
  m.deliveries[0].exact = true;
  auto missing = store_->deliver_sync(m);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(errc(missing.error()), Errc::not_found);
}

TEST_P(MailOps, FlagsAndModseq) {
  const auto before = store_->mailbox_by_id(inbox_)->highestmodseq;
  auto r = store_->update_flags(inbox_, {1, 2, 9}, {FlagUpdate::Op::add, {"\\Seen", "$Junk", "\\Recent"}, {}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->changed.size(), 2u);  // UID 9 does not exist
  EXPECT_EQ(r->changed[0].flags, "$Junk \\Seen");
  EXPECT_GT(r->changed[0].modseq, before);
  EXPECT_EQ(store_->mailbox_by_id(inbox_)->highestmodseq, r->changed[0].modseq);
  // No change, no new MODSEQ.
  auto again = store_->update_flags(inbox_, {1}, {FlagUpdate::Op::add, {"\\Seen"}, {}});
  EXPECT_TRUE(again->changed.empty());
  auto rm = store_->update_flags(inbox_, {1}, {FlagUpdate::Op::remove, {"$Junk"}, {}});
  EXPECT_EQ(rm->changed[0].flags, "\\Seen");
  auto rep = store_->update_flags(inbox_, {1, 2}, {FlagUpdate::Op::replace, {"\\Flagged"}, {}});
  EXPECT_EQ(rep->changed.size(), 2u);
  // CONDSTORE UNCHANGEDSINCE: a message modified later is reported, not changed.
  const auto ms = rep->changed[0].modseq;
  auto cond = store_->update_flags(inbox_, {1, 3}, {FlagUpdate::Op::add, {"\\Draft"}, ms - 1});
  EXPECT_EQ(cond->failed, (std::vector<std::uint32_t>{1}));
  ASSERT_EQ(cond->changed.size(), 1u);
  EXPECT_EQ(cond->changed[0].uid, 3u);
  auto changed = store_->changed_since(inbox_, ms);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].uid, 3u);
}

TEST_P(MailOps, ExpungeRecordsVanished) {
  const auto ms = store_->mailbox_by_id(inbox_)->highestmodseq;
  auto r = store_->expunge(inbox_, {2, 4, 77});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::uint32_t>{2, 4}));
  EXPECT_EQ(uids(inbox_), (std::vector<std::uint32_t>{1, 3, 5}));
  EXPECT_EQ(*store_->expunged_since(inbox_, ms), (std::vector<std::uint32_t>{2, 4}));
  EXPECT_TRUE(store_->expunged_since(inbox_, ms + 1)->empty());
  EXPECT_EQ((*store_->find_account("a@example.org"))->used_bytes, 3u * 4u);
  if (!backend().blob_files) return;  // what follows looks at the files
  BlobStore blobs(dir_ + "/blobs");
  EXPECT_EQ(blobs.list().size(), 3u);  // files of expunged messages are gone
}

TEST_P(MailOps, CopyAndMove) {
  const auto archive = mailbox(acct_, "Archive");
  auto c = store_->copy_messages(inbox_, {1, 3}, archive, false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->uidvalidity, store_->mailbox_by_id(archive)->uidvalidity);
  EXPECT_EQ(c->uids, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1, 1}, {3, 2}}));
  EXPECT_EQ(uids(inbox_).size(), 5u);
  auto m = store_->copy_messages(inbox_, {5}, archive, true);
  EXPECT_EQ(m->uids, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{5, 3}}));
  EXPECT_EQ(uids(inbox_), (std::vector<std::uint32_t>{1, 2, 3, 4}));
  auto moved = store_->list_messages(archive)->back();
  EXPECT_EQ(*store_->read_message(moved), "m5\r\n");
  // Shared files survive the expunge of one copy.
  ASSERT_TRUE(store_->expunge(inbox_, {1}).ok());
  EXPECT_EQ(*store_->read_message(store_->list_messages(archive)->front()), "m1\r\n");
}

TEST_P(MailOps, RenameAndDelete) {
  ASSERT_TRUE(store_->create_mailbox(acct_, "Work", "").ok());
  ASSERT_TRUE(store_->create_mailbox(acct_, "Work/Projects", "").ok());
  ASSERT_TRUE(store_->create_mailbox(acct_, "Workshop", "").ok());
  ASSERT_TRUE(store_->rename_mailbox(acct_, "Work", "Job").ok());
  EXPECT_NE(mailbox(acct_, "Job"), 0);
  EXPECT_NE(mailbox(acct_, "Job/Projects"), 0);
  EXPECT_NE(mailbox(acct_, "Workshop"), 0);  // not a child of Work
  EXPECT_FALSE(store_->rename_mailbox(acct_, "Job", "Workshop").ok());
  EXPECT_EQ(errc(store_->rename_mailbox(acct_, "Nope", "X").error()), Errc::not_found);
  // Renaming INBOX moves its messages and leaves it empty.
  ASSERT_TRUE(store_->rename_mailbox(acct_, "INBOX", "Old").ok());
  EXPECT_TRUE(uids(inbox_).empty());
  EXPECT_EQ(uids(mailbox(acct_, "Old")), (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  ASSERT_TRUE(store_->deliver_sync(message("new\r\n", acct_)).ok());
  EXPECT_EQ(uids(inbox_), (std::vector<std::uint32_t>{6}));  // UIDs never reused
  ASSERT_TRUE(store_->delete_mailbox(acct_, "Old").ok());
  EXPECT_EQ(mailbox(acct_, "Old"), 0);
  ASSERT_TRUE(store_->set_subscribed(acct_, "Job", false).ok());
  EXPECT_FALSE((*store_->find_mailbox(acct_, "Job"))->subscribed);
}

// RFC 9051 §6.3.6 with a target that is taken: nothing moves, nothing is left behind.
TEST_P(MailOps, RenamingInboxOntoAnExistingNameMovesNothing) {
  ASSERT_TRUE(store_->create_mailbox(acct_, "Old/Child", "").ok());
  EXPECT_TRUE(is(store_->rename_mailbox(acct_, "INBOX", "Archive").error(), Errc::already_exists));
  EXPECT_TRUE(is(store_->rename_mailbox(acct_, "INBOX", "Old").error(), Errc::already_exists));  // a child exists
  EXPECT_EQ(mailbox(acct_, "Old"), 0);
  EXPECT_EQ(uids(inbox_), (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  // The moved messages are reported as expunged from INBOX (QRESYNC clients learn it).
  const auto ms = store_->mailbox_by_id(inbox_)->highestmodseq;
  ASSERT_TRUE(store_->rename_mailbox(acct_, "INBOX", "Before2027").ok());
  EXPECT_EQ(*store_->expunged_since(inbox_, ms), (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(store_->list_messages(mailbox(acct_, "Before2027"))->size(), 5u);
}

TEST_P(MailOps, ChangeListenerSeesCommits) {
  std::vector<std::int64_t> seen;
  store_->set_change_listener([&](std::int64_t id) { seen.push_back(id); });
  ASSERT_TRUE(store_->deliver_sync(message("x\r\n", acct_)).ok());
  ASSERT_TRUE(store_->update_flags(inbox_, {1}, {FlagUpdate::Op::add, {"\\Seen"}, {}}).ok());
  ASSERT_TRUE(store_->expunge(inbox_, {2}).ok());
  EXPECT_EQ(seen, (std::vector<std::int64_t>{inbox_, inbox_, inbox_}));
  store_->set_change_listener(nullptr);
}

}  // namespace
}  // namespace mk::store
