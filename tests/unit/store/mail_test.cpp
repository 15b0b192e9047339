// The IMAP-facing store operations: flags with MODSEQ, expunge with VANISHED data, copy and
// move with COPYUID data, mailbox rename/delete, APPEND into an exact mailbox, and the
// summaries kept with messages.
#include <gtest/gtest.h>
#include <sqlite3.h>

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
  // SQLite: rows in the summaries table (none may outlive its message).
  std::size_t summary_rows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM summaries", -1, &q, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
    const auto n = std::size_t(sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
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
  // has_blob: a copy's file is in both mailboxes, a moved one's only where it went.
  const auto blob_of = [&](std::int64_t box, std::uint32_t uid) {
    return store_->messages_by_uid(box, {uid})->at(0).blob;
  };
  EXPECT_TRUE(*store_->has_blob(inbox_, blob_of(archive, 2)));  // m3
  EXPECT_TRUE(*store_->has_blob(archive, blob_of(inbox_, 3)));
  EXPECT_FALSE(*store_->has_blob(inbox_, blob_of(archive, 3)));  // m5, moved
  EXPECT_FALSE(*store_->has_blob(inbox_, blob_of(archive, 1)));  // m1, expunged from INBOX
  EXPECT_FALSE(*store_->has_blob(archive, blob_of(inbox_, 2)));
  EXPECT_FALSE(*store_->has_blob(archive, ""));
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

// Summaries are opaque bytes: any byte value, NUL included, comes back as stored.
const std::string kSummary("sum\0mary \xff\x01", 11);

TEST_P(MailOps, SummaryIsStoredOnDeliver) {
  auto m = message("with summary\r\n", acct_);
  m.summary = kSummary;
  // One message for two mailboxes: each of its rows has the summary.
  m.deliveries.push_back(Delivery{acct_, "Archive", "rcpt@example.org", ""});
  auto r = store_->deliver_sync(m);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(store_->read_summary(inbox_, 6).value(), kSummary);
  EXPECT_EQ(store_->read_summary(mailbox(acct_, "Archive"), 1).value(), kSummary);
  // Without one, none; an empty one is still one; a message that does not exist has none.
  EXPECT_EQ(store_->read_summary(inbox_, 1).value(), std::nullopt);
  auto empty = message("empty summary\r\n", acct_);
  empty.summary = "";
  ASSERT_TRUE(store_->deliver_sync(empty).ok());
  EXPECT_EQ(store_->read_summary(inbox_, 7).value(), std::string());
  EXPECT_EQ(store_->read_summary(inbox_, 8).value(), std::nullopt);
  EXPECT_EQ(store_->read_summary(mailbox(acct_, "Trash"), 6).value(), std::nullopt);
  // Many at once, in the order asked: a run of UIDs, and UIDs far apart.
  const std::vector<std::uint32_t> run = {7, 6, 5, 4, 3, 2, 1, 8};
  auto many = store_->read_summaries(inbox_, run);
  ASSERT_TRUE(many.ok()) << many.error().message;
  EXPECT_EQ(*many, (std::vector<std::optional<std::string>>{std::string(), kSummary, std::nullopt, std::nullopt,
                                                            std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  const std::vector<std::uint32_t> apart = {6, 100000, 1, 7, 6};
  EXPECT_EQ(*store_->read_summaries(inbox_, apart),
            (std::vector<std::optional<std::string>>{kSummary, std::nullopt, std::nullopt, std::string(), kSummary}));
  EXPECT_TRUE(store_->read_summaries(inbox_, {})->empty());
}

TEST_P(MailOps, SummaryIsKeptAcrossCopyAndMove) {
  auto m = message("kept\r\n", acct_);
  m.summary = kSummary;
  ASSERT_TRUE(store_->deliver_sync(m).ok());  // INBOX uid 6
  const auto archive = mailbox(acct_, "Archive"), trash = mailbox(acct_, "Trash");
  ASSERT_TRUE(store_->copy_messages(inbox_, {5, 6}, archive, false).ok());  // Archive 1, 2
  ASSERT_TRUE(store_->copy_messages(inbox_, {6}, trash, true).ok());        // Trash 1
  EXPECT_EQ(store_->read_summary(inbox_, 6).value(), std::nullopt);         // moved away
  EXPECT_EQ(store_->read_summary(archive, 1).value(), std::nullopt);        // had none
  EXPECT_EQ(store_->read_summary(archive, 2).value(), kSummary);
  EXPECT_EQ(store_->read_summary(trash, 1).value(), kSummary);
  // Renaming INBOX moves its messages (RFC 9051 §6.3.6): their summaries go along.
  ASSERT_TRUE(store_->copy_messages(trash, {1}, inbox_, true).ok());  // INBOX 7
  ASSERT_TRUE(store_->rename_mailbox(acct_, "INBOX", "Old").ok());
  const auto old = mailbox(acct_, "Old");
  const auto moved = store_->list_messages(old)->back();
  EXPECT_EQ(*store_->read_message(moved), "kept\r\n");
  EXPECT_EQ(store_->read_summary(old, moved.uid).value(), kSummary);
  // Each copy keeps its own: expunging one leaves the other's.
  ASSERT_TRUE(store_->expunge(old, {moved.uid}).ok());
  EXPECT_EQ(store_->read_summary(archive, 2).value(), kSummary);
}

TEST_P(MailOps, SummaryIsAbsentForMessagesStoredWithout) {
  for (const auto& m : *store_->list_messages(inbox_))
    EXPECT_EQ(store_->read_summary(inbox_, m.uid).value(), std::nullopt) << m.uid;
  // Copies of such a message have none either, until one is saved.
  const auto archive = mailbox(acct_, "Archive");
  ASSERT_TRUE(store_->copy_messages(inbox_, {1}, archive, false).ok());
  EXPECT_EQ(store_->read_summary(archive, 1).value(), std::nullopt);
}

TEST_P(MailOps, SummaryBackfill) {
  ASSERT_TRUE(store_->save_summary(inbox_, 1, "one").ok());
  const std::vector<std::pair<std::uint32_t, std::string>> batch = {{2, "two"}, {3, kSummary}};
  ASSERT_TRUE(store_->save_summaries(inbox_, batch).ok());
  EXPECT_EQ(*store_->read_summaries(inbox_, std::vector<std::uint32_t>{1, 2, 3, 4}),
            (std::vector<std::optional<std::string>>{"one", "two", kSummary, std::nullopt}));
  // A summary its reader could not use is replaced.
  ASSERT_TRUE(store_->save_summary(inbox_, 1, "one, again").ok());
  EXPECT_EQ(store_->read_summary(inbox_, 1).value(), "one, again");
  // Saved ones are kept like delivered ones: a copy has it too.
  const auto archive = mailbox(acct_, "Archive");
  ASSERT_TRUE(store_->copy_messages(inbox_, {2}, archive, false).ok());
  EXPECT_EQ(store_->read_summary(archive, 1).value(), "two");
  // A message expunged meanwhile gets none, and no other message gets it.
  ASSERT_TRUE(store_->expunge(inbox_, {5}).ok());
  EXPECT_TRUE(store_->save_summary(inbox_, 5, "late").ok());
  EXPECT_EQ(store_->read_summary(inbox_, 5).value(), std::nullopt);
  ASSERT_TRUE(store_->deliver_sync(message("next\r\n", acct_)).ok());
  EXPECT_EQ(store_->read_summary(inbox_, 6).value(), std::nullopt);
  EXPECT_TRUE(store_->save_summaries(inbox_, {}).ok());
}

// Summaries go with their messages: expunged, moved away, or deleted with the mailbox or
// the account, none is left behind.
TEST_P(MailOps, SummariesGoWithTheirMessages) {
  for (std::uint32_t uid = 1; uid <= 5; ++uid) ASSERT_TRUE(store_->save_summary(inbox_, uid, "s").ok());
  ASSERT_TRUE(store_->create_mailbox(acct_, "Box", "").ok());
  ASSERT_TRUE(store_->copy_messages(inbox_, {1, 2}, mailbox(acct_, "Box"), false).ok());
  ASSERT_TRUE(store_->expunge(inbox_, {3}).ok());
  ASSERT_TRUE(store_->delete_mailbox(acct_, "Box").ok());
  if (backend().name == "sqlite") {
    EXPECT_EQ(summary_rows(), 4u);  // INBOX 1, 2, 4, 5
  }
  ASSERT_TRUE(store_->remove_account("a@example.org").ok());
  if (backend().name == "sqlite") {
    EXPECT_EQ(summary_rows(), 0u);
  }
}

// A database from before summaries: it opens, its messages have none, and everything else
// about them works; new deliveries keep theirs.
class SqliteSchema : public StoreTest {};

TEST_F(SqliteSchema, DatabaseWithoutSummariesMigrates) {
  const auto acct = account_with_domain();
  ASSERT_TRUE(store_->deliver_sync(message("old\r\n", acct)).ok());
  ASSERT_TRUE(store_->add_correspondents(acct, {"friend@elsewhere.example"}, 1).ok());
  ASSERT_TRUE(store_->add_account("quiet@example.org", "h").ok());
  const std::int64_t quiet = (*store_->find_account("quiet@example.org"))->id;
  store_.reset();
  {
    // Take the schema back to the version before summaries: undo it and the migrations
    // appended after it (the tables of containment's correspondence, send_history's held,
    // the counters' daily totals, the web's sessions and tokens, the accounts' forwarding, the
    // version of their correspondents).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    const int version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    const std::string downgrade = "DROP TABLE summaries; DROP TABLE writers; DROP TABLE received; "
                                  "DROP TABLE link_domains; ALTER TABLE send_history DROP COLUMN held; "
                                  "DROP TABLE daily_counts; DROP TABLE web_sessions; DROP TABLE api_tokens; "
                                  "ALTER TABLE accounts DROP COLUMN forward_to; "
                                  "ALTER TABLE accounts DROP COLUMN forward_keep; "
                                  "ALTER TABLE accounts DROP COLUMN correspondents_version; "
                                  "DELETE FROM meta WHERE key = 'correspondents_version'; "
                                  "PRAGMA user_version = " + std::to_string(version - 7);
    ASSERT_EQ(sqlite3_exec(db, downgrade.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  reopen();
  // An account that had correspondents before their version was kept has one; one that had
  // none has none; the next new correspondent moves past both.
  const std::int64_t had = *store_->correspondents_version(acct);
  EXPECT_NE(had, 0);
  EXPECT_EQ(*store_->correspondents_version(quiet), 0);
  ASSERT_TRUE(store_->add_correspondents(quiet, {"someone@elsewhere.example"}, 2).ok());
  EXPECT_NE(*store_->correspondents_version(quiet), 0);
  EXPECT_NE(*store_->correspondents_version(quiet), had);
  // An account from before forwarding does not forward, and would keep a copy.
  const auto migrated = store_->account_by_id(acct);
  ASSERT_TRUE(migrated.ok() && migrated->has_value());
  EXPECT_EQ((*migrated)->forward_to, "");
  EXPECT_TRUE((*migrated)->forward_keep);
  const auto box = inbox(acct), archive = mailbox(acct, "Archive");
  EXPECT_EQ(store_->read_summary(box, 1).value(), std::nullopt);
  EXPECT_EQ(*store_->read_message(store_->list_messages(box)->at(0)), "old\r\n");
  ASSERT_TRUE(store_->copy_messages(box, {1}, archive, true).ok());
  EXPECT_EQ(store_->read_summary(archive, 1).value(), std::nullopt);
  ASSERT_TRUE(store_->save_summary(archive, 1, "backfilled").ok());
  EXPECT_EQ(store_->read_summary(archive, 1).value(), "backfilled");
  auto m = message("new\r\n", acct);
  m.summary = "new summary";
  ASSERT_TRUE(store_->deliver_sync(m).ok());
  EXPECT_EQ(store_->read_summary(box, 2).value(), "new summary");
}

// The one flag test every reader of MessageInfo::flags uses: whole words, any case.
TEST(HasFlag, MatchesWholeFlagsInAnyCase) {
  EXPECT_TRUE(has_flag("\\Seen", "\\Seen"));
  EXPECT_TRUE(has_flag("\\Answered \\Seen $Junk", "\\seen"));
  EXPECT_TRUE(has_flag("\\Answered \\Seen $Junk", "$junk"));
  EXPECT_TRUE(has_flag("\\Answered  \\Deleted", "\\Deleted"));
  EXPECT_FALSE(has_flag("", "\\Seen"));
  EXPECT_FALSE(has_flag("\\Answered", "\\Seen"));
  EXPECT_FALSE(has_flag("foobar $Junked", "foo"));
  EXPECT_FALSE(has_flag("foobar $Junked", "$Junk"));
  EXPECT_FALSE(has_flag("\\Seen", ""));
  EXPECT_FALSE(has_flag("a  b ", ""));
  EXPECT_TRUE(has_flag(" \\Seen ", "\\Seen"));
}

}  // namespace
}  // namespace mk::store
