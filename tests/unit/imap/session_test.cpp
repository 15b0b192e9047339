// Scenario tests for imap/server/session: commands in, exact responses out, on a real
// SQLite store in a temporary directory.
#include "imap/server/session.hpp"

#include "imap/server/account_slots.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <future>

#include <sqlite3.h>

#include "auth/password.hpp"
#include "imap/proto/summary.hpp"
#include "imap/server/summary_cache.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::imap {
namespace {

class ImapSession : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    acct_ = *store_->add_account("me@example.org", *auth::hash_password("correct horse battery"));
    s_ = make();
  }
  std::unique_ptr<Session> make() { return std::make_unique<Session>(SessionConfig{}, *store_, "127.0.0.1"); }
  // Runs a command to completion (APPEND included) and returns everything sent.
  std::string run(Session& s, std::string_view cmd) {
    auto out = s.on_command(cmd);
    std::string all = out.data;
    while (out.next == Next::more) {
      out = s.on_more();
      all += out.data;
    }
    if (out.next == Next::append) {
      std::promise<store::DeliverResult> p;
      store_->deliver_all(s.take_append(), [&p](store::DeliverResult r) { p.set_value(std::move(r)); });
      all += s.on_appended(p.get_future().get()).data;
    }
    return all;
  }
  std::string run(std::string_view cmd) { return run(*s_, cmd); }
  void login(Session& s) { ASSERT_NE(run(s, "l LOGIN me@example.org \"correct horse battery\"").find("l OK"), std::string::npos); }
  void append(const std::string& msg, const std::string& flags = "") {
    auto r = run(fmt::format("ap APPEND INBOX {}{{{}}}\r\n{}", flags.empty() ? "" : "(" + flags + ") ", msg.size(), msg));
    ASSERT_NE(r.find("ap OK [APPENDUID"), std::string::npos) << r;
  }
  std::int64_t acct_ = 0;
  std::unique_ptr<Session> s_;
};

const std::string kMsg1 = "From: Alice <alice@example.net>\r\nTo: me@example.org\r\nSubject: Lunch\r\n"
                          "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nPizza at noon?\r\n";
const std::string kMsg2 = "From: bob@example.net\r\nSubject: =?utf-8?q?R=C3=A9union?=\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                          "Q2Fmw6kgZGUgbGEgZ2FyZQ==\r\n";

TEST_F(ImapSession, GreetingAndAuth) {
  EXPECT_TRUE(s_->greeting().starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "));
  EXPECT_EQ(run("a SELECT INBOX"), "a BAD Log in first\r\n");
  EXPECT_EQ(run("a LOGIN me@example.org wrong"), "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
  EXPECT_EQ(run("a LOGIN nobody@example.org wrong"), "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
  EXPECT_EQ(run("a FOO"), "a BAD Unknown command\r\n");
  // AUTHENTICATE PLAIN with SASL-IR: "\0me@example.org\0correct horse battery"
  auto r = run("b AUTHENTICATE PLAIN AG1lQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==");
  EXPECT_TRUE(r.starts_with("b OK [CAPABILITY ")) << r;
  EXPECT_EQ(run("c LOGIN x y"), "c BAD Already authenticated\r\n");
  // Without SASL-IR the response comes on its own line after a continuation.
  auto s2 = make();
  EXPECT_EQ(run(*s2, "d AUTHENTICATE PLAIN"), "+ \r\n");
  EXPECT_TRUE(run(*s2, "AG1lQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==").starts_with("d OK [CAPABILITY "));
  auto s3 = make();
  run(*s3, "e AUTHENTICATE PLAIN");
  EXPECT_EQ(run(*s3, "*"), "e BAD Authentication cancelled\r\n");
}

// The command table: each command runs only in the states RFC 9051 allows it, and only the
// commands with a UID form take "UID".
TEST_F(ImapSession, CommandsAndTheirStates) {
  struct Row {
    const char* cmd;
    const char* reply;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"a FETCH 1 FLAGS", "a BAD Log in first\r\n"},
           {"a UID FETCH 1 FLAGS", "a BAD Log in first\r\n"},
           {"a CHECK", "a BAD Log in first\r\n"},
           {"a UID CAPABILITY", "a BAD Unknown UID command\r\n"},
           {"a UID LOGIN x y", "a BAD Unknown UID command\r\n"},
           {"a XYZZY", "a BAD Unknown command\r\n"},
           {"a NOOP", "a OK NOOP completed\r\n"}}) {
    EXPECT_EQ(run(r.cmd), r.reply) << r.cmd;
  }
  login(*s_);
  for (const Row& r : std::initializer_list<Row>{
           {"a LOGIN x y", "a BAD Already authenticated\r\n"},
           {"a STARTTLS", "a BAD Already authenticated\r\n"},
           {"a FETCH 1 FLAGS", "a BAD No mailbox selected\r\n"},
           {"a UID EXPUNGE 1", "a BAD No mailbox selected\r\n"},
           {"a UID SELECT INBOX", "a BAD Unknown UID command\r\n"},
           {"a UID CHECK", "a BAD Unknown UID command\r\n"}}) {
    EXPECT_EQ(run(r.cmd), r.reply) << r.cmd;
  }
  EXPECT_NE(run("a SELECT INBOX").find("a OK [READ-WRITE]"), std::string::npos);
  EXPECT_EQ(run("a CHECK"), "a OK CHECK completed\r\n");
  EXPECT_EQ(run("a UID SEARCH ALL"), "* SEARCH\r\na OK SEARCH completed\r\n");
}

TEST_F(ImapSession, IdNamesTheClient) {
  const std::string ours = "* ID (\"name\" \"mailkeep\")\r\n";
  EXPECT_EQ(run("a ID NIL"), ours + "a OK ID completed\r\n");
  EXPECT_EQ(s_->client(), "");
  EXPECT_EQ(run("b ID (\"name\" \"Thunderbird\" \"os\" NIL \"version\" \"115.5\")"), ours + "b OK ID completed\r\n");
  EXPECT_EQ(s_->client(), "Thunderbird 115.5");
  EXPECT_FALSE(s_->take_client_event());  // named before logging in: the login reports it
  EXPECT_EQ(run("c ID"), "c BAD ID needs a parameter list or NIL\r\n");
  EXPECT_EQ(run("c ID (\"name\")"), "c BAD Bad ID parameter list\r\n");
  EXPECT_EQ(run("c ID (\"name\" \"x\"\"version\" \"1\")"), "c BAD Bad ID parameter list\r\n");
  EXPECT_EQ(run("c ID () x"), "c BAD Unexpected characters after ID\r\n");
  std::string many = "d ID (";
  for (int i = 0; i < 31; ++i) many += (i ? " " : "") + std::string("\"k\" \"v\"");
  EXPECT_EQ(run(many + ")"), "d BAD Bad ID parameter list\r\n");
  login(*s_);
  EXPECT_EQ(run("e ID (\"name\" \"Evil\\\\Mailer\")"), ours + "e OK ID completed\r\n");
  EXPECT_EQ(s_->take_client_event().value_or(""), "Evil\\Mailer");  // named after the login: reported now
  EXPECT_FALSE(s_->take_client_event());
}

TEST_F(ImapSession, SessionsPerAccountAreCapped) {
  AccountSlots slots(2);
  SessionConfig cfg;
  cfg.slots = &slots;
  auto a = std::make_unique<Session>(cfg, *store_, "127.0.0.1");
  auto b = std::make_unique<Session>(cfg, *store_, "127.0.0.1");
  auto c = std::make_unique<Session>(cfg, *store_, "127.0.0.1");
  login(*a);
  login(*b);
  EXPECT_EQ(run(*c, "l LOGIN me@example.org \"correct horse battery\""),
            "l NO [LIMIT] Too many sessions for this account; close some and retry\r\n");
  b.reset();  // a session ends: its slot is free again
  login(*c);
}

TEST_F(ImapSession, NoLoginBeforeTls) {
  SessionConfig cfg;
  cfg.tls_available = true;
  Session s(cfg, *store_, "127.0.0.1");
  EXPECT_NE(s.greeting().find("STARTTLS LOGINDISABLED"), std::string::npos);
  EXPECT_EQ(run(s, "a LOGIN me@example.org \"correct horse battery\""),
            "a NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
  auto st = s.on_command("b STARTTLS");
  EXPECT_EQ(st.next, Next::start_tls);
  s.on_tls();
  EXPECT_NE(run(s, "c CAPABILITY").find("AUTH=PLAIN"), std::string::npos);
  EXPECT_NE(run(s, "d LOGIN me@example.org \"correct horse battery\"").find("d OK"), std::string::npos);
}

TEST_F(ImapSession, ListSelectFetch) {
  login(*s_);
  EXPECT_EQ(run("l LIST \"\" \"\""), "* LIST (\\Noselect) \"/\" \"\"\r\nl OK LIST completed\r\n");
  auto list = run("l LIST \"\" *");
  EXPECT_NE(list.find("* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n"), std::string::npos) << list;
  EXPECT_NE(list.find("* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"), std::string::npos);
  append(kMsg1, "\\Flagged");
  append(kMsg2);
  auto sel = run("s SELECT inbox");
  EXPECT_NE(sel.find("* 2 EXISTS\r\n* 2 RECENT\r\n"), std::string::npos) << sel;
  EXPECT_NE(sel.find("* OK [UNSEEN 1]"), std::string::npos);
  EXPECT_NE(sel.find("* OK [UIDNEXT 3]"), std::string::npos);
  EXPECT_NE(sel.find("s OK [READ-WRITE] SELECT completed"), std::string::npos);
  EXPECT_EQ(run("f FETCH 1:2 (UID FLAGS RFC822.SIZE)"),
            fmt::format("* 1 FETCH (UID 1 FLAGS (\\Recent \\Flagged) RFC822.SIZE {})\r\n"
                        "* 2 FETCH (UID 2 FLAGS (\\Recent) RFC822.SIZE {})\r\nf OK FETCH completed\r\n",
                        kMsg1.size(), kMsg2.size()));
  auto env = run("f UID FETCH 1 ENVELOPE");
  EXPECT_NE(env.find("* 1 FETCH (UID 1 ENVELOPE (\"Mon, 23 Nov 2026 10:00:00 +0000\" \"Lunch\" "
                     "((\"Alice\" NIL \"alice\" \"example.net\"))"), std::string::npos) << env;
  // BODY[] sets \Seen and reports FLAGS; BODY.PEEK does not.
  auto peek = run("f FETCH 2 BODY.PEEK[TEXT]");
  EXPECT_EQ(peek, "* 2 FETCH (BODY[TEXT] {26}\r\nQ2Fmw6kgZGUgbGEgZ2FyZQ==\r\n)\r\nf OK FETCH completed\r\n");
  auto body = run("f FETCH 2 BODY[HEADER.FIELDS (SUBJECT)]");
  EXPECT_EQ(body, "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {37}\r\nSubject: =?utf-8?q?R=C3=A9union?=\r\n\r\n"
                  " FLAGS (\\Recent \\Seen))\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(run("f FETCH 2 BINARY[1]"), "* 2 FETCH (BINARY[1] {16}\r\nCaf\xc3\xa9 de la gare)\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(run("f FETCH 3 FLAGS"), "f BAD Invalid message sequence number\r\n");
  EXPECT_EQ(run("f FETCH 1 (FLAGS"), "f BAD Missing ) after fetch attributes\r\n");
}

TEST_F(ImapSession, StoreSearchExpunge) {
  login(*s_);
  append(kMsg1);
  append(kMsg2);
  append("Subject: third\r\n\r\nnothing\r\n");
  run("s SELECT INBOX");
  EXPECT_EQ(run("t STORE 1 +FLAGS (\\Seen $Label1)"), "* 1 FETCH (FLAGS (\\Recent $Label1 \\Seen))\r\nt OK STORE completed\r\n");
  EXPECT_EQ(run("t UID STORE 2 +FLAGS.SILENT (\\Deleted)"), "t OK STORE completed\r\n");
  EXPECT_EQ(run("q SEARCH UNSEEN"), "* SEARCH 2 3\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH SUBJECT réunion"), "* SEARCH 2\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH CHARSET UTF-8 BODY \"café\""), "* SEARCH 2\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH OR FROM alice KEYWORD $Label1"), "* SEARCH 1\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH NOT DELETED SINCE 1-Jan-2000"), "* SEARCH 1 3\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q UID SEARCH RETURN (MIN MAX COUNT) ALL"),
            "* ESEARCH (TAG \"q\") UID MIN 1 MAX 3 COUNT 3\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH (LARGER 10 SMALLER 40)"), "* SEARCH 3\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH FROBNICATE"), "q BAD Unknown search key\r\n");
  EXPECT_EQ(run("x EXPUNGE"), "* 2 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
  EXPECT_EQ(run("f FETCH 2 UID"), "* 2 FETCH (UID 3)\r\nf OK FETCH completed\r\n");
}

TEST_F(ImapSession, CopyMoveAndMailboxes) {
  login(*s_);
  append(kMsg1);
  append(kMsg2);
  run("s SELECT INBOX");
  EXPECT_EQ(run("c COPY 1:2 Nope"), "c NO [TRYCREATE] No such mailbox\r\n");
  EXPECT_EQ(run("c CREATE Projects/2026"), "c OK CREATE completed\r\n");
  EXPECT_EQ(run("c CREATE Projects"), "c NO [ALREADYEXISTS] Mailbox already exists\r\n");
  auto uv = store_->find_mailbox(acct_, "Projects/2026").value()->uidvalidity;
  EXPECT_EQ(run("c COPY 1:2 Projects/2026"), fmt::format("c OK [COPYUID {} 1:2 1:2] COPY completed\r\n", uv));
  EXPECT_EQ(run("m UID MOVE 1 Archive"),
            fmt::format("* OK [COPYUID {} 1 1] Moved\r\n* 1 EXPUNGE\r\nm OK MOVE completed\r\n",
                        store_->find_mailbox(acct_, "Archive").value()->uidvalidity));
  EXPECT_EQ(run("st STATUS Projects/2026 (MESSAGES UIDNEXT UNSEEN)"),
            "* STATUS \"Projects/2026\" (MESSAGES 2 UIDNEXT 3 UNSEEN 2)\r\nst OK STATUS completed\r\n");
  EXPECT_EQ(run("r RENAME Projects Work"), "r OK RENAME completed\r\n");
  auto list = run("l LIST \"\" Work*");
  EXPECT_EQ(list, "* LIST (\\HasChildren) \"/\" \"Work\"\r\n* LIST (\\HasNoChildren) \"/\" \"Work/2026\"\r\nl OK LIST completed\r\n");
  EXPECT_EQ(run("l LIST \"\" %"), run("l LIST \"\" %"));  // stable
  EXPECT_EQ(run("d DELETE Sent"), "d NO [CANNOT] Special-use mailboxes cannot be deleted\r\n");
  EXPECT_EQ(run("d DELETE Work/2026"), "d OK DELETE completed\r\n");
  // Modified UTF-7 for IMAP4rev1 clients, UTF-8 after ENABLE UTF8=ACCEPT.
  EXPECT_EQ(run("c CREATE Entw&APw-rfe"), "c OK CREATE completed\r\n");
  EXPECT_NE(store_->find_mailbox(acct_, "Entw\xc3\xbcrfe").value(), std::nullopt);
  EXPECT_EQ(run("c CREATE &Jjo"), "c BAD Syntax: CREATE mailbox\r\n");
  EXPECT_EQ(run("e ENABLE UTF8=ACCEPT"), "* ENABLED UTF8=ACCEPT\r\ne OK ENABLE completed\r\n");
  EXPECT_NE(run("l LIST \"\" Entw*").find("\"Entw\xc3\xbcrfe\""), std::string::npos);
}

TEST_F(ImapSession, LargeFetchComesInPieces) {
  login(*s_);
  const std::string body(10000, 'x');
  for (int i = 0; i < 40; ++i) append(fmt::format("Subject: m{}\r\n\r\n{}\r\n", i, body));
  run("s SELECT INBOX");
  auto o = s_->on_command("f FETCH 1:* BODY.PEEK[]");
  ASSERT_EQ(o.next, Next::more);
  EXPECT_TRUE(o.data.ends_with(")\r\n"));
  EXPECT_EQ(o.data.find("f OK"), std::string::npos);
  std::string all = o.data;
  int pieces = 1;
  while (o.next == Next::more) {
    o = s_->on_more();
    all += o.data;
    ++pieces;
  }
  EXPECT_EQ(pieces, 2);
  EXPECT_TRUE(all.ends_with("f OK FETCH completed\r\n"));
  EXPECT_NE(all.find("* 40 FETCH (BODY[] {10018}\r\nSubject: m39\r\n"), std::string::npos);
  EXPECT_EQ(all.find("* 41 FETCH"), std::string::npos);
  // The session takes the next command normally afterwards.
  EXPECT_EQ(run("n NOOP"), "n OK NOOP completed\r\n");
}

TEST_F(ImapSession, OtherSessionsChangesAreReported) {
  login(*s_);
  append(kMsg1);
  append(kMsg2);
  auto other = make();
  login(*other);
  run("s SELECT INBOX");
  run(*other, "s SELECT INBOX");
  // Another session flags and expunges; a delivery arrives.
  run(*other, "t STORE 1 +FLAGS (\\Deleted)");
  run(*other, "x EXPUNGE");
  store::NewMessage m;
  m.data = std::make_shared<const std::string>("Subject: new\r\n\r\nx\r\n");
  m.deliveries.push_back({acct_, "INBOX", "me@example.org", ""});
  ASSERT_TRUE(store_->deliver_sync(m).ok());
  auto idle = s_->on_command("i IDLE");
  EXPECT_EQ(idle.next, Next::idle);
  // s_ selected first, so it holds \Recent for message 2 and, idling, for the new delivery.
  EXPECT_EQ(idle.data, "+ idling\r\n* 1 EXPUNGE\r\n* 2 EXISTS\r\n* 2 RECENT\r\n");
  EXPECT_EQ(s_->on_idle_line("DONE").data, "i OK IDLE terminated\r\n");
  EXPECT_EQ(run("f FETCH 1:* UID"), "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(run(*other, "n NOOP"), "* 2 EXISTS\r\n* 0 RECENT\r\nn OK NOOP completed\r\n");
}

TEST_F(ImapSession, RecentBelongsToTheFirstSession) {
  login(*s_);
  append(kMsg1);
  append(kMsg2);
  auto other = make();
  login(*other);
  EXPECT_EQ(run(*other, "st STATUS INBOX (RECENT)"), "* STATUS \"INBOX\" (RECENT 2)\r\nst OK STATUS completed\r\n");
  // EXAMINE sees \Recent without taking it.
  EXPECT_NE(run(*other, "e EXAMINE INBOX").find("* 2 RECENT\r\n"), std::string::npos);
  EXPECT_EQ(run(*other, "q SEARCH RECENT"), "* SEARCH 1 2\r\nq OK SEARCH completed\r\n");
  EXPECT_NE(run("s SELECT INBOX").find("* 2 RECENT\r\n"), std::string::npos);
  EXPECT_EQ(run("q SEARCH NEW"), "* SEARCH 1 2\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH OLD"), "* SEARCH\r\nq OK SEARCH completed\r\n");
  // Once one session has seen them, nobody else does.
  EXPECT_NE(run(*other, "s SELECT INBOX").find("* 0 RECENT\r\n"), std::string::npos);
  EXPECT_EQ(run(*other, "q SEARCH OLD"), "* SEARCH 1 2\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run(*other, "f FETCH 1 FLAGS"), "* 1 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(run(*other, "st STATUS INBOX (RECENT)"), "* STATUS \"INBOX\" (RECENT 0)\r\nst OK STATUS completed\r\n");
  EXPECT_EQ(run("t STORE 1 +FLAGS (\\Recent)"), "t BAD \\Recent cannot be stored\r\n");
  // IMAP4rev2 has no \Recent.
  auto rev2 = make();
  login(*rev2);
  run(*rev2, "e ENABLE IMAP4rev2");
  EXPECT_EQ(run(*rev2, "s SELECT INBOX").find("RECENT"), std::string::npos);
  EXPECT_EQ(run("f FETCH 1 FLAGS"), "* 1 FETCH (FLAGS (\\Recent))\r\nf OK FETCH completed\r\n");
}

TEST_F(ImapSession, QresyncReportsVanished) {
  login(*s_);
  for (int i = 0; i < 4; ++i) append("Subject: q\r\n\r\nx\r\n");
  EXPECT_EQ(run("e ENABLE QRESYNC"), "* ENABLED QRESYNC\r\ne OK ENABLE completed\r\n");
  auto sel = run("s SELECT INBOX");
  const auto uv = store_->find_mailbox(acct_, "INBOX").value()->uidvalidity;
  const auto ms = store_->find_mailbox(acct_, "INBOX").value()->highestmodseq;
  auto other = make();
  login(*other);
  run(*other, "s SELECT INBOX");
  run(*other, "t STORE 2 +FLAGS (\\Deleted)");
  run(*other, "x EXPUNGE");
  run(*other, "t STORE 3 +FLAGS (\\Seen)");  // old UID 4 is now sequence 3
  // Expunges arrive as VANISHED, by UID.
  auto noop = run("n NOOP");
  EXPECT_NE(noop.find("* VANISHED 2\r\n"), std::string::npos) << noop;
  EXPECT_EQ(noop.find("EXPUNGE"), std::string::npos);
  // A client resynchronising from the old MODSEQ learns both changes at SELECT.
  auto third = make();
  login(*third);
  run(*third, "e ENABLE QRESYNC");
  auto re = run(*third, fmt::format("s SELECT INBOX (QRESYNC ({} {} 1:4))", uv, ms));
  EXPECT_NE(re.find("* VANISHED (EARLIER) 2\r\n"), std::string::npos) << re;
  EXPECT_NE(re.find("* 3 FETCH (UID 4 FLAGS (\\Seen) MODSEQ ("), std::string::npos) << re;
  auto f = run(*third, fmt::format("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE {} VANISHED)", ms));
  EXPECT_TRUE(f.starts_with("* VANISHED (EARLIER) 2\r\n* 3 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (")) << f;
  EXPECT_EQ(run(*third, "f FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
            "f BAD VANISHED needs UID FETCH with QRESYNC enabled\r\n");
}

TEST_F(ImapSession, MultiAppendIsAtomic) {
  login(*s_);
  auto r = run("a APPEND INBOX (\\Seen) {8}\r\nA: 1\r\n\r\n {8}\r\nB: 2\r\n\r\n");
  const auto uv = store_->find_mailbox(acct_, "INBOX").value()->uidvalidity;
  EXPECT_EQ(r, fmt::format("a OK [APPENDUID {} 1:2] APPEND completed\r\n", uv));
  EXPECT_EQ(run("b APPEND INBOX {8}\r\nA: 1\r\n\r\n {0}\r\n"), "b NO Empty message\r\n");
  EXPECT_EQ(run("c APPEND Nope {8}\r\nA: 1\r\n\r\n"), "c NO [TRYCREATE] No such mailbox\r\n");
  EXPECT_EQ(store_->list_messages(store_->find_mailbox(acct_, "INBOX").value()->id)->size(), 2u);
}

TEST_F(ImapSession, Quota) {
  login(*s_);
  EXPECT_EQ(run("q GETQUOTAROOT INBOX"), "* QUOTAROOT \"INBOX\"\r\nq OK GETQUOTAROOT completed\r\n");
  EXPECT_EQ(run("q GETQUOTA \"\""), "q NO [NONEXISTENT] No such quota root\r\n");
  ASSERT_TRUE(store_->set_quota("me@example.org", 10 * 1024).ok());
  append(std::string(6000, 'x'));
  EXPECT_EQ(run("q GETQUOTAROOT INBOX"),
            "* QUOTAROOT \"INBOX\" \"\"\r\n* QUOTA \"\" (STORAGE 6 10)\r\nq OK GETQUOTAROOT completed\r\n");
  EXPECT_EQ(run("a APPEND INBOX {6000}\r\n" + std::string(6000, 'y')), "a NO [OVERQUOTA] Mailbox is full\r\n");
  run("s SELECT INBOX");
  EXPECT_EQ(run("c COPY 1 Archive"), "c NO [OVERQUOTA] Not enough room for the copies\r\n");
  EXPECT_EQ(run("q SETQUOTA \"\" (STORAGE 1)"), "q NO [NOPERM] Quotas are set by the administrator\r\n");
}

TEST(BaseSubject, Rfc5256) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"Hello", "hello"},
      {"Re: Hello", "hello"},
      {"RE: re:  Fwd: Hello", "hello"},
      {"Re[2]: Hello", "hello"},
      {"[list] Re: Hello (fwd)", "hello"},
      {"[fwd: Re: Hello]", "hello"},
      {"  Hello   world  ", "hello world"},
      {"=?utf-8?q?Re=3A_Caf=C3=A9?=", "caf\xc3\xa9"},
      {"[only a blob]", "[only a blob]"},
      {"Re:", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(base_subject(c.in), c.want) << c.in;
}

TEST_F(ImapSession, SortAndThread) {
  login(*s_);
  append("From: Carol <carol@x.example>\r\nSubject: Beta\r\nDate: Tue, 3 Jan 2023 10:00:00 +0000\r\n\r\nxxxxxxxxxx\r\n");
  append("From: alice@x.example\r\nSubject: Re: alpha\r\nDate: Mon, 2 Jan 2023 10:00:00 +0000\r\n\r\nx\r\n");
  append("From: Bob <bob@x.example>\r\nSubject: Alpha\r\nDate: Sun, 1 Jan 2023 10:00:00 +0000\r\n\r\nxxxxx\r\n");
  append("From: dave@x.example\r\nSubject: [list] RE: Alpha\r\nDate: Wed, 4 Jan 2023 10:00:00 +0000\r\n\r\nxx\r\n");
  run("s SELECT INBOX");
  // "Re: alpha", "Alpha" and "[list] RE: Alpha" share a base subject: ties go by number.
  EXPECT_EQ(run("a SORT (SUBJECT) UTF-8 ALL"), "* SORT 2 3 4 1\r\na OK SORT completed\r\n");
  EXPECT_EQ(run("a SORT (REVERSE DATE) UTF-8 ALL"), "* SORT 4 1 2 3\r\na OK SORT completed\r\n");
  EXPECT_EQ(run("a SORT (FROM) US-ASCII ALL"), "* SORT 2 3 1 4\r\na OK SORT completed\r\n");
  EXPECT_EQ(run("a UID SORT (SIZE) UTF-8 NOT FROM dave"), "* SORT 2 3 1\r\na OK SORT completed\r\n");
  EXPECT_EQ(run("t THREAD ORDEREDSUBJECT UTF-8 ALL"), "* THREAD (3 (2)(4))(1)\r\nt OK THREAD completed\r\n");
  EXPECT_EQ(run("q SEARCH SENTON 2-Jan-2023"), "* SEARCH 2\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("q SEARCH SENTSINCE 3-Jan-2023"), "* SEARCH 1 4\r\nq OK SEARCH completed\r\n");
  EXPECT_EQ(run("t THREAD BOGUS UTF-8 ALL"), "t BAD Unsupported threading algorithm\r\n");
  EXPECT_EQ(run("a SORT (SUBJECT) KOI8-R ALL"), "a NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  EXPECT_EQ(run("a SORT (NAME) UTF-8 ALL"), "a BAD Unknown sort criterion NAME\r\n");
}

TEST_F(ImapSession, Compress) {
  login(*s_);
  auto o = s_->on_command("z COMPRESS DEFLATE");
  EXPECT_EQ(o.data, "z OK DEFLATE active\r\n");
  EXPECT_EQ(o.next, Next::compress);
  EXPECT_EQ(run("z COMPRESS DEFLATE"), "z NO [COMPRESSIONACTIVE] Compression is already on\r\n");
  EXPECT_EQ(run("z COMPRESS LZ4"), "z NO Unknown compression mechanism\r\n");
}

TEST_F(ImapSession, ThreadReferences) {
  login(*s_);
  auto msg = [&](const char* id, const char* refs, const char* subject, int day) {
    append(fmt::format("Message-ID: <{}>\r\n{}Subject: {}\r\nDate: {} Jan 2023 10:00:00 +0000\r\n\r\nx\r\n", id,
                       refs, subject, day));
  };
  msg("a@x", "", "Plans", 1);
  msg("b@x", "In-Reply-To: <a@x>\r\n", "Re: Plans", 2);
  msg("c@x", "References: <a@x> <b@x>\r\n", "Re: Plans", 3);
  msg("d@x", "References: <gone@x>\r\n", "Other", 4);
  msg("e@x", "References: <gone@x>\r\n", "Re: Other", 5);
  msg("f@x", "", "Re: Plans", 6);           // no references: joins "Plans" by subject
  msg("a@x", "", "Duplicate id", 7);         // a duplicate Message-ID is its own thread
  run("s SELECT INBOX");
  EXPECT_EQ(run("t THREAD REFERENCES UTF-8 ALL"),
            "* THREAD (1 (2 3)(6))((4)(5))(7)\r\nt OK THREAD completed\r\n");
  EXPECT_EQ(run("t UID THREAD REFERENCES UTF-8 NOT SUBJECT other"),
            "* THREAD (1 (2 3)(6))(7)\r\nt OK THREAD completed\r\n");
}

TEST_F(ImapSession, BadInput) {
  login(*s_);
  EXPECT_EQ(run("a FETCH 1 FLAGS"), "a BAD No mailbox selected\r\n");
  EXPECT_EQ(run("+ NOOP"), "* BAD Missing or invalid tag\r\n");
  EXPECT_EQ(run("a"), "a BAD Missing command\r\n");
  run("s SELECT INBOX");
  EXPECT_EQ(run("a UID FROB 1"), "a BAD Unknown command\r\n");
  EXPECT_EQ(run("a STORE 1 FLAGS (\\Recent)"), "a BAD \\Recent cannot be stored\r\n");
  EXPECT_EQ(run("a APPEND INBOX {0}\r\n"), "a NO Empty message\r\n");
  EXPECT_EQ(s_->on_frame_error(Frame::literal_too_big).data, "* NO [TOOBIG] Literal too large\r\n");
  EXPECT_EQ(run("z LOGOUT"), "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
}

// ENVELOPE, BODY and BODYSTRUCTURE of a message are rendered when it is appended and stored
// with it: a session that starts afterwards (a restarted server, an empty cache) answers from
// the store without reading the message again.
TEST_F(ImapSession, AppendStoresTheSummary) {
  login(*s_);
  append(kMsg1);
  auto stored = store_->read_summary(store_->find_mailbox(acct_, "INBOX").value()->id, 1);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(decode_summary(**stored), summarize(message::parse_mime(kMsg1)));
  // The same parse gives the store the Message-ID it indexes for thread lookups.
  append("Message-ID: <lunch@example.net>\r\nSubject: Re: Lunch\r\n\r\nYes\r\n");
  auto thread = store_->thread_messages(acct_, {"lunch@example.net"}, 10);
  ASSERT_TRUE(thread.ok());
  ASSERT_EQ(thread->size(), 1u);
  EXPECT_EQ(thread->at(0).uid, 2u);
}

TEST_F(ImapSession, FetchAnswersFromTheStoredSummary) {
  login(*s_);
  append(kMsg1);
  // What the store holds is what FETCH answers: replace it with a recognizable one.
  const auto box = store_->find_mailbox(acct_, "INBOX").value()->id;
  ASSERT_TRUE(store_->save_summary(box, 1, encode_summary(Summary{"(\"stored\")", "(\"b\")", "(\"bs\")"})).ok());
  auto restarted = make();
  login(*restarted);
  run(*restarted, "s SELECT INBOX");
  EXPECT_EQ(run(*restarted, "f FETCH 1 (ENVELOPE BODY BODYSTRUCTURE)"),
            "* 1 FETCH (ENVELOPE (\"stored\") BODY (\"b\") BODYSTRUCTURE (\"bs\"))\r\nf OK FETCH completed\r\n");
  // With a cache, the first FETCH fills it from the store, the next ones do not ask again.
  SummaryCache cache(1 << 20);
  SessionConfig cfg;
  cfg.cache = &cache;
  Session cached(cfg, *store_, "127.0.0.1");
  login(cached);
  run(cached, "s SELECT INBOX");
  EXPECT_NE(run(cached, "f FETCH 1 ENVELOPE").find("ENVELOPE (\"stored\")"), std::string::npos);
  const auto blob = store_->list_messages(box)->at(0).blob;
  ASSERT_NE(cache.get(blob), nullptr);
  EXPECT_EQ(cache.get(blob)->bodystructure(), "(\"bs\")");
}

// Messages stored without a summary (by an older mailkeep, or by a delivery that set none)
// and messages whose summary is damaged are parsed once more, and the summary is saved.
TEST_F(ImapSession, FetchBackfillsMissingAndDamagedSummaries) {
  login(*s_);
  ASSERT_TRUE(store_->deliver_sync([&] {
    store::NewMessage m;
    m.data = std::make_shared<const std::string>(kMsg1);
    m.deliveries.push_back(store::Delivery{acct_, "INBOX", "", "", true});
    return m;
  }()).ok());
  append(kMsg2);
  const auto box = store_->find_mailbox(acct_, "INBOX").value()->id;
  ASSERT_EQ(store_->read_summary(box, 1).value(), std::nullopt);
  ASSERT_TRUE(store_->save_summary(box, 2, "damaged").ok());
  run("s SELECT INBOX");
  const Summary want1 = summarize(message::parse_mime(kMsg1)), want2 = summarize(message::parse_mime(kMsg2));
  EXPECT_EQ(run("f FETCH 1:2 (ENVELOPE BODYSTRUCTURE)"),
            fmt::format("* 1 FETCH (ENVELOPE {} BODYSTRUCTURE {})\r\n* 2 FETCH (ENVELOPE {} BODYSTRUCTURE {})\r\n"
                        "f OK FETCH completed\r\n",
                        want1.envelope(), want1.bodystructure(), want2.envelope(), want2.bodystructure()));
  EXPECT_FALSE(s_->take_store_warning());
  EXPECT_EQ(decode_summary(store_->read_summary(box, 1)->value()), want1);
  EXPECT_EQ(decode_summary(store_->read_summary(box, 2)->value()), want2);
}

// A store that cannot read or save summaries costs a parse, not the answer; the failure is
// handed to the connection for its log.
TEST_F(ImapSession, FetchWithoutUsableSummaryStoreStillAnswers) {
  login(*s_);
  append(kMsg1);
  run("s SELECT INBOX");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
    const char* drop = "DROP TABLE summaries";
    ASSERT_EQ(sqlite3_exec(db, drop, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const Summary want = summarize(message::parse_mime(kMsg1));
  EXPECT_EQ(run("f FETCH 1 ENVELOPE"),
            fmt::format("* 1 FETCH (ENVELOPE {})\r\nf OK FETCH completed\r\n", want.envelope()));
  auto warning = s_->take_store_warning();
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("summaries"), std::string::npos) << *warning;
}

}  // namespace
}  // namespace mk::imap
