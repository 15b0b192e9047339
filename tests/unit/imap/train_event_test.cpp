// The spam filter's training events from imap/server/session: what the user's own commands
// say about mail (moves into and out of Junk, unread mail deleted from Junk), exactly once,
// with the bytes of messages that are gone.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <future>

#include "auth/password.hpp"
#include "imap/server/session.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::imap {
namespace {

class TrainEvents : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    acct_ = *store_->add_account("me@example.org", *auth::hash_password("correct horse battery"));
    s_ = std::make_unique<Session>(SessionConfig{}, *store_, "127.0.0.1");
    ASSERT_NE(run("l LOGIN me@example.org \"correct horse battery\"").find("l OK"), std::string::npos);
  }
  std::string run(std::string_view cmd) {
    auto out = s_->on_command(cmd);
    std::string all = out.data;
    while (out.next == Next::more) all += (out = s_->on_more()).data;
    if (out.next == Next::append) {
      std::promise<store::DeliverResult> p;
      store_->deliver_all(s_->take_append(), [&p](store::DeliverResult r) { p.set_value(std::move(r)); });
      all += s_->on_appended(p.get_future().get()).data;
    }
    return all;
  }
  void append(const std::string& mailbox, const std::string& msg, const std::string& flags = "") {
    auto r = run(fmt::format("ap APPEND {} {}{{{}}}\r\n{}", mailbox, flags.empty() ? "" : "(" + flags + ") ", msg.size(), msg));
    ASSERT_NE(r.find("ap OK [APPENDUID"), std::string::npos) << r;
  }
  static std::string msg(int i) {
    return fmt::format("From: offers{}@spam.example\r\nSubject: offer {}\r\n\r\nBuy now {}\r\n", i, i, i);
  }
  std::int64_t acct_ = 0;
  std::unique_ptr<Session> s_;
};

TEST_F(TrainEvents, ExpungingUnreadJunkIsSpamWithTheMessagesBytes) {
  append("Junk", msg(1), "\\Seen");  // read: the user looked, deleting it says nothing
  append("Junk", msg(2));
  append("Junk", msg(3));
  append("Junk", msg(4));
  run("s SELECT Junk");
  run("t STORE 1:3 +FLAGS.SILENT (\\Deleted)");  // 4 stays
  ASSERT_EQ(run("x EXPUNGE"), "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
  auto ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->account_id, acct_);
  EXPECT_TRUE(ev->spam);
  EXPECT_TRUE(ev->unread_deletion);
  EXPECT_EQ(ev->uids, (std::vector<std::uint32_t>{2, 3}));
  ASSERT_EQ(ev->gone.size(), 2u);
  EXPECT_EQ(ev->gone[0].text, msg(2));
  EXPECT_EQ(ev->gone[1].text, msg(3));
  EXPECT_FALSE(ev->gone[0].blob.empty());
  EXPECT_FALSE(s_->take_train_event().has_value());  // once
  // CLOSE expunges silently, and teaches the same.
  run("t STORE 1 +FLAGS.SILENT (\\Deleted)");
  EXPECT_EQ(run("c CLOSE"), "c OK CLOSE completed\r\n");
  ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->uids, (std::vector<std::uint32_t>{4}));
  EXPECT_EQ(ev->gone.at(0).text, msg(4));
}

TEST_F(TrainEvents, ExpungingElsewhereTeachesNothing) {
  append("INBOX", msg(1));
  append("Trash", msg(2));
  for (const char* box : {"INBOX", "Trash"}) {
    run(fmt::format("s SELECT {}", box));
    run("t STORE 1 +FLAGS.SILENT (\\Deleted)");
    ASSERT_EQ(run("x EXPUNGE"), "* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    EXPECT_FALSE(s_->take_train_event().has_value()) << box;
  }
}

TEST_F(TrainEvents, MovingUnreadJunkToTrashIsSpam) {
  append("Junk", msg(1), "\\Seen");
  append("Junk", msg(2));
  append("Junk", msg(9));  // stays: moving everything would be emptying Junk
  run("s SELECT Junk");
  const auto trash = mailbox(acct_, "Trash");
  ASSERT_NE(run("m MOVE 1:2 Trash").find("m OK MOVE completed"), std::string::npos);
  auto ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->spam);
  EXPECT_TRUE(ev->unread_deletion);
  EXPECT_EQ(ev->mailbox, trash);
  EXPECT_EQ(ev->uids, (std::vector<std::uint32_t>{2}));  // where the unread one is now
  EXPECT_TRUE(ev->gone.empty());                         // still there to be read
  // Read mail moved to Trash says nothing; COPY (clients without MOVE) counts like MOVE.
  append("Junk", msg(3), "\\Seen");
  append("Junk", msg(4));
  run("s SELECT Junk");  // 1: msg 9, 2: msg 3 (read), 3: msg 4
  run("c COPY 2 Trash");
  EXPECT_FALSE(s_->take_train_event().has_value());
  run("c COPY 3 Trash");
  ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->unread_deletion);
}

// Emptying Junk (everything in it at once, or more than kMaxJudgedDeletion unread messages in
// one command) judges nothing: what the filter put there wrongly would be learnt as spam.
TEST_F(TrainEvents, EmptyingJunkJudgesNothing) {
  for (int i = 1; i <= 3; ++i) append("Junk", msg(i));
  run("s SELECT Junk");
  run("t STORE 1:3 +FLAGS.SILENT (\\Deleted)");
  ASSERT_NE(run("x EXPUNGE").find("x OK EXPUNGE completed"), std::string::npos);
  EXPECT_FALSE(s_->take_train_event().has_value());
  // Many unread ones in one command, the folder not emptied.
  constexpr int kMany = int(Session::TrainEvent::kMaxJudgedDeletion) + 2;
  for (int i = 0; i < kMany + 1; ++i) append("Junk", msg(10 + i));
  run("s SELECT Junk");
  run(fmt::format("t STORE 1:{} +FLAGS.SILENT (\\Deleted)", kMany));
  ASSERT_NE(run("x EXPUNGE").find("x OK EXPUNGE completed"), std::string::npos);
  EXPECT_FALSE(s_->take_train_event().has_value());
  // The same by MOVE to Trash: "Empty Junk" in clients that move.
  append("Junk", msg(30));
  run("s SELECT Junk");
  ASSERT_NE(run("m MOVE 1:* Trash").find("m OK MOVE completed"), std::string::npos);
  EXPECT_FALSE(s_->take_train_event().has_value());
  // One picked out of several is still the user's word.
  for (int i = 0; i < 3; ++i) append("Junk", msg(40 + i));
  run("s SELECT Junk");
  ASSERT_NE(run("m MOVE 2 Trash").find("m OK MOVE completed"), std::string::npos);
  auto ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->unread_deletion);
  // Emptying a Junk that holds read messages too: nothing (review of issue 18).
  for (int i = 0; i < 3; ++i) append("Junk", msg(50 + i), "\\Seen");
  run("s SELECT Junk");
  ASSERT_NE(run("m MOVE 1:* Trash").find("m OK MOVE completed"), std::string::npos);
  EXPECT_FALSE(s_->take_train_event().has_value());
  append("Junk", msg(60));
  append("Junk", msg(61), "\\Seen");
  run("s SELECT Junk");
  run("t STORE 1:* +FLAGS.SILENT (\\Deleted)");
  ASSERT_NE(run("x EXPUNGE").find("x OK EXPUNGE completed"), std::string::npos);
  EXPECT_FALSE(s_->take_train_event().has_value());
  // UID EXPUNGE of a subset of what is marked: only that subset is judged (one message).
  for (int i = 0; i < 3; ++i) append("Junk", msg(70 + i));
  run("s SELECT Junk");
  run("t STORE 1:3 +FLAGS.SILENT (\\Deleted)");
  const std::string fetched = run("f FETCH 2 (UID)");
  const auto at = fetched.find("UID ");
  ASSERT_NE(at, std::string::npos) << fetched;
  const std::string uid = fetched.substr(at + 4, fetched.find(')', at) - at - 4);
  ASSERT_NE(run("x UID EXPUNGE " + uid).find("x OK EXPUNGE completed"), std::string::npos);
  ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  ASSERT_EQ(ev->gone.size(), 1u);
  EXPECT_EQ(ev->gone[0].text, msg(71));
  EXPECT_TRUE(Session::TrainEvent::judged_deletion(1, 1, 1));  // the only message, alone
  EXPECT_FALSE(Session::TrainEvent::judged_deletion(2, 1, 2));
  EXPECT_TRUE(Session::TrainEvent::judged_deletion(2, 1, 3));
  EXPECT_FALSE(Session::TrainEvent::judged_deletion(7, 6, 100));
}

TEST_F(TrainEvents, MovesIntoAndOutOfJunkAreTheUsersWord) {
  append("INBOX", msg(1), "\\Seen");
  run("s SELECT INBOX");
  run("m MOVE 1 Junk");
  auto ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->spam);
  EXPECT_FALSE(ev->unread_deletion);
  run("s SELECT Junk");
  run("m MOVE 1 Archive");
  ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_FALSE(ev->spam);
  EXPECT_FALSE(ev->unread_deletion);
  EXPECT_EQ(ev->mailbox, mailbox(acct_, "Archive"));
}

// Moving into Junk names what the user read and kept in the folder the spam came from: the
// older \Seen messages still there, newest first, none of the moved ones, none marked
// \Deleted, none unread, none newer than the newest moved message (the user has not judged
// what came after it). Moving out of Junk, and from Sent, Drafts or Trash, names none.
TEST_F(TrainEvents, MovingIntoJunkNamesWhatTheUserReadAndKept) {
  append("INBOX", msg(1), "\\Seen");            // uid 1: kept
  append("INBOX", msg(2));                      // 2: unread
  append("INBOX", msg(3), "\\Seen \\Deleted");  // 3: on its way out
  append("INBOX", msg(4), "\\Seen");            // 4: moved (read, then judged spam)
  append("INBOX", msg(5), "\\Seen");            // 5: kept
  append("INBOX", msg(6), "\\Seen");            // 6: moved
  append("INBOX", msg(7), "\\Seen");            // 7: newer than what was judged
  run("s SELECT INBOX");
  ASSERT_NE(run("m UID MOVE 4,6 Junk").find("m OK MOVE completed"), std::string::npos);
  auto ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->spam);
  EXPECT_EQ(ev->mailbox, mailbox(acct_, "Junk"));
  EXPECT_EQ(ev->kept_mailbox, mailbox(acct_, "INBOX"));
  EXPECT_EQ(ev->kept, (std::vector<std::uint32_t>{5, 1}));
  EXPECT_EQ(ev->kept_uidnext, 8u);  // the folder's UIDNEXT then: what comes later is newer
  // At most kMaxKept, the newest.
  for (int i = 0; i < int(Session::TrainEvent::kMaxKept) + 5; ++i)
    append("INBOX", msg(100 + i), "\\Seen");
  append("INBOX", msg(200));
  run("s SELECT INBOX");
  ASSERT_NE(run("m UID MOVE * Junk").find("m OK MOVE completed"), std::string::npos);
  ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  ASSERT_EQ(ev->kept.size(), Session::TrainEvent::kMaxKept);
  EXPECT_GT(ev->kept.front(), ev->kept.back());
  // Out of Junk: ham, nothing kept beside it.
  run("s SELECT Junk");
  ASSERT_NE(run("m MOVE 1 INBOX").find("m OK MOVE completed"), std::string::npos);
  ev = s_->take_train_event();
  ASSERT_TRUE(ev.has_value());
  EXPECT_FALSE(ev->spam);
  EXPECT_TRUE(ev->kept.empty());
  // From Sent, Drafts (the user's own mail) and Trash: spam learnt, nothing kept.
  for (const char* box : {"Sent", "Drafts", "Trash"}) {
    append(box, msg(300), "\\Seen");
    append(box, msg(301), "\\Seen");
    run(fmt::format("s SELECT {}", box));
    ASSERT_NE(run("m MOVE 2 Junk").find("m OK MOVE completed"), std::string::npos) << box;
    ev = s_->take_train_event();
    ASSERT_TRUE(ev.has_value()) << box;
    EXPECT_TRUE(ev->spam) << box;
    EXPECT_TRUE(ev->kept.empty()) << box;
  }
}

}  // namespace
}  // namespace mk::imap
