// Scenario tests for smtp/session: every RFC 5321 reply path, driven line by line, asserting
// the exact reply code and enhanced code.
#include "smtp/session.hpp"

#include <gtest/gtest.h>

#include <map>

#include "base/strings.hpp"

namespace mk::smtp {
namespace {

class FakeRecipients : public Recipients {
 public:
  RcptVerdict resolve(const message::Mailbox& mb) override {
    if (mb.domain.empty()) return {RcptVerdict::Kind::accept, {Target::mailbox(1, "postmaster")}};
    if (mb.domain_literal || mb.domain != "example.org") return {RcptVerdict::Kind::relay_denied, {}};
    const std::string local = to_lower(mb.local);
    if (local == "full") return {RcptVerdict::Kind::mailbox_full, {}};
    if (local == "tempfail") return {RcptVerdict::Kind::temp_fail, {}};
    if (local == "alice" || local == "bob" || local == "üser") return {RcptVerdict::Kind::accept, {Target::mailbox(2, local)}};
    return {RcptVerdict::Kind::unknown_user, {}};
  }
};

struct Harness {
  FakeRecipients rcpts;
  SessionConfig cfg;
  std::unique_ptr<Session> s;
  explicit Harness(SessionConfig c = {}) : cfg(std::move(c)) {
    cfg.hostname = "mx.example.org";
    cfg.starttls_available = true;
    s = std::make_unique<Session>(cfg, rcpts, ConnInfo{"c1", "192.0.2.1", "198.51.100.1"});
  }
  Step cmd(std::string_view line) { return s->on_command(line); }
  // Feeds DATA content in one piece and returns the final step (after delivery, if any).
  Step data(std::string_view content, bool deliver_ok = true) {
    std::size_t used = 0;
    auto st = s->on_data(content, used);
    EXPECT_TRUE(st.has_value());
    if (st && st->next == Next::deliver) return s->on_delivered(deliver_ok, "");
    return *st;
  }
};

struct Line {
  const char* in;
  int code;
  const char* enhanced;
};

void run_script(Harness& h, const std::vector<Line>& script) {
  for (const auto& l : script) {
    auto st = h.cmd(l.in);
    ASSERT_TRUE(st.reply.has_value()) << l.in;
    EXPECT_EQ(st.reply->code, l.code) << l.in << " -> " << st.reply->wire();
    EXPECT_EQ(st.reply->enhanced, l.enhanced) << l.in << " -> " << st.reply->wire();
  }
}

TEST(Session, GreetingHasNoEnhancedCode) {
  Harness h;
  auto g = h.s->greet();
  EXPECT_EQ(g.reply->wire(), "220 mx.example.org ESMTP mailkeep\r\n");
}

TEST(Session, ReplyPathsTable) {
  struct Case {
    const char* name;
    std::vector<Line> script;
  };
  const std::vector<Case> cases = {
      {"mail before helo", {{"MAIL FROM:<a@b.example>", 503, "5.5.1"}}},
      {"rcpt before mail", {{"EHLO c.example", 250, ""}, {"RCPT TO:<alice@example.org>", 503, "5.5.1"}}},
      {"data before rcpt", {{"EHLO c.example", 250, ""}, {"DATA", 503, "5.5.1"}}},
      {"data with no valid rcpt",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<nobody@example.org>", 550, "5.1.1"}, {"DATA", 554, "5.5.1"}}},
      {"nested mail",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"MAIL FROM:<a@b.example>", 503, "5.5.1"}}},
      {"unknown command", {{"FOO bar", 500, "5.5.2"}}},
      {"empty ehlo", {{"EHLO", 501, "5.5.4"}, {"HELO ", 501, "5.5.4"}}},
      {"helo then mail", {{"HELO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"}}},
      {"helo rejects params",
       {{"HELO c.example", 250, ""}, {"MAIL FROM:<a@b.example> SIZE=10", 555, "5.5.4"}}},
      {"relay denied",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<x@gmail.com>", 554, "5.7.1"}}},
      {"relay via percent hack is unknown user not relay",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<x%gmail.com@example.org>", 550, "5.1.1"}}},
      {"relay via bang path",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<gmail.com!x@example.org>", 550, "5.1.1"}}},
      {"relay via quoted local part",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<\"x@gmail.com\"@example.org>", 550, "5.1.1"}}},
      {"relay via source route",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<@example.org:x@gmail.com>", 554, "5.7.1"}}},
      {"relay via address literal",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<x@[127.0.0.1]>", 554, "5.7.1"}}},
      {"quoted local part of a real user",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<\"alice\"@example.org>", 250, "2.1.5"}}},
      {"postmaster without domain",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<>", 250, "2.1.0"}, {"RCPT TO:<Postmaster>", 250, "2.1.5"}}},
      {"bad address syntax",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<alice@example..org>", 501, "5.1.3"}, {"RCPT TO:alice@example.org", 501, "5.1.3"},
        {"RCPT TO:<>", 501, "5.1.3"}}},
      {"bad sender syntax", {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@>", 501, "5.1.7"},
                             {"MAIL TO:<a@b.example>", 501, "5.5.4"}}},
      {"temp failure", {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                        {"RCPT TO:<tempfail@example.org>", 451, "4.3.0"}}},
      {"mailbox full", {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                        {"RCPT TO:<full@example.org>", 452, "4.2.2"}}},
      {"size too big at MAIL",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example> SIZE=999999999999", 552, "5.3.4"}}},
      {"unknown MAIL param", {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example> FOO=BAR", 555, "5.5.4"}}},
      {"BINARYMIME not offered",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example> BODY=BINARYMIME", 555, "5.5.4"}}},
      {"utf8 address needs SMTPUTF8",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<ü@b.example>", 553, "5.6.7"},
        {"MAIL FROM:<ü@b.example> SMTPUTF8", 250, "2.1.0"}, {"RCPT TO:<üser@example.org>", 250, "2.1.5"}}},
      {"utf8 rcpt without SMTPUTF8",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<üser@example.org>", 553, "5.6.7"}}},
      {"dsn params",
       {{"EHLO c.example", 250, ""},
        {"MAIL FROM:<a@b.example> RET=HDRS ENVID=QQ314159+2B1", 250, "2.1.0"},
        {"RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice+40example.org", 250, "2.1.5"},
        {"RCPT TO:<bob@example.org> NOTIFY=NEVER,SUCCESS", 501, "5.5.4"}}},
      {"requiretls needs tls",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example> REQUIRETLS", 530, "5.7.10"}}},
      {"rset", {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"}, {"RSET", 250, "2.0.0"},
                {"MAIL FROM:<a@b.example>", 250, "2.1.0"}, {"RSET x", 501, "5.5.4"}}},
      {"noop vrfy expn help",
       {{"NOOP", 250, "2.0.0"}, {"VRFY alice", 252, "2.5.0"}, {"VRFY", 501, "5.5.4"},
        {"EXPN list", 502, "5.5.1"}, {"HELP", 214, "2.0.0"}}},
      {"auth not on port 25", {{"EHLO c.example", 250, ""}, {"AUTH PLAIN AGFAYg==", 502, "5.5.1"}}},
      {"starttls", {{"EHLO c.example", 250, ""}, {"STARTTLS x", 501, "5.5.4"}, {"STARTTLS", 220, "2.0.0"}}},
      {"starttls before ehlo", {{"STARTTLS", 454, "4.7.0"}}},
      {"starttls inside transaction",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"}, {"STARTTLS", 503, "5.5.1"}}},
      {"quit", {{"QUIT", 221, "2.0.0"}}},
      {"data with args",
       {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
        {"RCPT TO:<alice@example.org>", 250, "2.1.5"}, {"DATA x", 501, "5.5.4"}, {"DATA", 354, ""}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h;
    run_script(h, c.script);
  }
}

TEST(Session, EhloAdvertisesExtensions) {
  Harness h;
  auto st = h.cmd("EHLO client.example");
  const auto w = st.reply->wire();
  EXPECT_EQ(w,
            "250-mx.example.org Hello client.example [192.0.2.1]\r\n250-PIPELINING\r\n"
            "250-SIZE 52428800\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n"
            "250-CHUNKING\r\n250-DSN\r\n250-STARTTLS\r\n250 HELP\r\n");
}

TEST(Session, TooManyRecipients) {
  Harness h;
  run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"}});
  // The fake resolver knows few users; fill the transaction up to the limit directly.
  for (int i = 0; i < 100; ++i)
    h.s->transaction().rcpts.push_back({"x", {Target::mailbox(i + 10, "INBOX")}, {}});
  run_script(h, {{"RCPT TO:<alice@example.org>", 452, "4.5.3"}});
}

TEST(Session, DataDeliversWithTraceHeaders) {
  Harness h;
  run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                 {"RCPT TO:<alice@example.org>", 250, "2.1.5"},
                 {"RCPT TO:<ALICE@example.org>", 250, "2.1.5"},  // same mailbox: kept once
                 {"DATA", 354, ""}});
  std::size_t used = 0;
  const std::string content = "Subject: t\r\n\r\n..dot\r\nbody\r\n.\r\nNOOP\r\n";
  auto st = h.s->on_data(content, used);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->next, Next::deliver);
  EXPECT_EQ(content.substr(used), "NOOP\r\n");
  const auto& txn = h.s->transaction();
  EXPECT_EQ(txn.rcpts.size(), 1u);
  // Our trace fields are kept apart from the content as received.
  EXPECT_TRUE(txn.trace.starts_with("Return-Path: <a@b.example>\r\nReceived: from c.example ([192.0.2.1])\r\n"
                                    "\tby mx.example.org (mailkeep) with ESMTP id "))
      << txn.trace;
  EXPECT_NE(txn.trace.find("\tfor <alice@example.org>; "), std::string::npos);
  EXPECT_TRUE(txn.trace.ends_with("\r\n"));
  EXPECT_EQ(txn.message, "Subject: t\r\n\r\n.dot\r\nbody\r\n");
  auto done = h.s->on_delivered(true, "");
  EXPECT_EQ(done.reply->code, 250);
  EXPECT_EQ(done.reply->enhanced, "2.0.0");
  EXPECT_EQ(h.s->state(), Session::State::ready);
}

TEST(Session, DeliveryFailureIs451) {
  Harness h;
  run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                 {"RCPT TO:<alice@example.org>", 250, "2.1.5"}, {"DATA", 354, ""}});
  auto st = h.data("x\r\n.\r\n", false);
  EXPECT_EQ(st.reply->code, 451);
  EXPECT_EQ(st.reply->enhanced, "4.3.0");
}

TEST(Session, OversizedDataIs552AfterReadingIt) {
  SessionConfig c;
  c.max_message_size = 10;
  Harness h(c);
  run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                 {"RCPT TO:<alice@example.org>", 250, "2.1.5"}, {"DATA", 354, ""}});
  auto st = h.data("0123456789abcdef\r\n.\r\n");
  EXPECT_EQ(st.reply->code, 552);
  EXPECT_EQ(st.reply->enhanced, "5.3.4");
  EXPECT_EQ(st.next, Next::read_command);
}

TEST(Session, BareLineEndingsInDataCloseTheConnection) {
  for (const char* bad : {"a\n.\n", "a\r.\r", "a\r\n.\n", "a\n.\r\n", "x\ry\r\n.\r\n"}) {
    Harness h;
    run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                   {"RCPT TO:<alice@example.org>", 250, "2.1.5"}, {"DATA", 354, ""}});
    std::size_t used = 0;
    auto st = h.s->on_data(bad, used);
    ASSERT_TRUE(st) << bad;
    EXPECT_EQ(st->reply->code, 554) << bad;
    EXPECT_EQ(st->reply->enhanced, "5.6.11");
    EXPECT_EQ(st->next, Next::close);
  }
}

TEST(Session, BareLineEndingInCommandCloses) {
  Harness h;
  auto st = h.s->on_line_error(LineStatus::bare_lf);
  EXPECT_EQ(st.reply->code, 554);
  EXPECT_EQ(st.next, Next::close);
  auto tl = h.s->on_line_error(LineStatus::too_long);
  EXPECT_EQ(tl.reply->code, 500);
  EXPECT_EQ(tl.next, Next::read_command);
}

TEST(Session, BdatChunks) {
  Harness h;
  run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                 {"RCPT TO:<alice@example.org>", 250, "2.1.5"}});
  auto st = h.cmd("BDAT 12");
  EXPECT_FALSE(st.reply);
  EXPECT_EQ(st.next, Next::read_chunk);
  std::size_t used = 0;
  auto c1 = h.s->on_chunk("Subject: x\r\nBDAT", used);  // only 12 bytes belong to the chunk
  EXPECT_EQ(used, 12u);
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->reply->code, 250);
  EXPECT_EQ(c1->reply->lines[0], "12 octets received");
  run_script(h, {{"DATA", 503, "5.5.1"}, {"MAIL FROM:<a@b.example>", 503, "5.5.1"}});
  st = h.cmd("BDAT 7 LAST");
  auto c2 = h.s->on_chunk("\nbody\n", used);  // bare LFs are normalized for BDAT
  EXPECT_FALSE(c2);
  auto c3 = h.s->on_chunk("!", used);
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->next, Next::deliver);
  EXPECT_TRUE(h.s->transaction().message.ends_with("Subject: x\r\n\r\nbody\r\n!\r\n"))
      << h.s->transaction().message;
  EXPECT_EQ(h.s->on_delivered(true, "").reply->code, 250);
}

TEST(Session, BdatErrorsStillConsumeTheChunk) {
  Harness h;
  h.cmd("EHLO c.example");
  auto st = h.cmd("BDAT 5");
  EXPECT_EQ(st.next, Next::read_chunk);
  std::size_t used = 0;
  auto c = h.s->on_chunk("12345QUIT\r\n", used);
  EXPECT_EQ(used, 5u);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reply->code, 503);
  // BDAT 0 LAST with no transaction: no bytes to read, immediate 503.
  auto z = h.cmd("BDAT 0 LAST");
  EXPECT_EQ(z.reply->code, 503);
  // A BDAT without a size cannot be resynchronised: close.
  auto bad = h.cmd("BDAT x");
  EXPECT_EQ(bad.reply->code, 501);
  EXPECT_EQ(bad.next, Next::close);
}

TEST(Session, BdatOverSizeIs552) {
  SessionConfig c;
  c.max_message_size = 8;
  Harness h(c);
  run_script(h, {{"EHLO c.example", 250, ""}, {"MAIL FROM:<a@b.example>", 250, "2.1.0"},
                 {"RCPT TO:<alice@example.org>", 250, "2.1.5"}});
  h.cmd("BDAT 10 LAST");
  std::size_t used = 0;
  auto r = h.s->on_chunk("0123456789", used);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reply->code, 552);
  EXPECT_EQ(h.s->state(), Session::State::ready);
}

TEST(Session, StartTlsForgetsState) {
  Harness h;
  run_script(h, {{"EHLO c.example", 250, ""}, {"STARTTLS", 220, "2.0.0"}});
  h.s->on_tls(TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128});
  run_script(h, {{"MAIL FROM:<a@b.example>", 503, "5.5.1"}, {"STARTTLS", 503, "5.5.1"}});
  auto e = h.cmd("EHLO c.example");
  EXPECT_NE(e.reply->wire().find("REQUIRETLS"), std::string::npos);
  EXPECT_EQ(e.reply->wire().find("STARTTLS"), std::string::npos);
  run_script(h, {{"MAIL FROM:<a@b.example> REQUIRETLS", 250, "2.1.0"}});
}

TEST(Session, TooManyErrorsDisconnects) {
  SessionConfig c;
  c.max_errors = 3;
  Harness h(c);
  EXPECT_EQ(h.cmd("X").next, Next::read_command);
  EXPECT_EQ(h.cmd("Y").next, Next::read_command);
  auto st = h.cmd("Z");
  EXPECT_EQ(st.reply->code, 421);
  EXPECT_EQ(st.next, Next::close);
}

TEST(Session, TimeoutAndShutdownReplies) {
  Harness h;
  EXPECT_EQ(h.s->on_timeout().reply->wire(), "421 4.4.2 mx.example.org Timeout, closing connection\r\n");
  EXPECT_EQ(h.s->on_shutdown().reply->code, 421);
  EXPECT_EQ(h.s->on_shutdown().next, Next::close);
}

}  // namespace
}  // namespace mk::smtp
