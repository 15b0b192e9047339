// smtp::Server's connection loop over in-memory streams, with a real session on a real
// SQLite store: a message delivered on the MX, STARTTLS dropping what was pipelined behind it,
// a client timed out, and on submission failed AUTH answered late, then the network banned
// with the 421 the clients know and its next connections refused before the greeting.
#include "smtp/server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "auth/password.hpp"
#include "auth/throttle.hpp"
#include "log_capture.hpp"
#include "memory_stream.hpp"
#include "message/codec.hpp"
#include "message/parsed.hpp"
#include "smtp/hooks.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::smtp {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDelay = 150ms;
const std::string kBanned =
    "421 4.7.0 mail.example.org Too many failed logins from your network; try again later\r\n";
const std::string kFailed = "535 5.7.8 Authentication credentials invalid\r\n";

std::string auth_plain(const std::string& user, const std::string& pass) {
  return "AUTH PLAIN " + message::base64_encode(std::string(1, '\0') + user + '\0' + pass) + "\r\n";
}

class SmtpServer : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    ASSERT_TRUE(store_->add_account("alice@example.org", *auth::hash_password("s3cret pass")).ok());
    capture_.emplace(dir_ + "/server.log");
    ASSERT_TRUE(capture_->ok());
    log_ = capture_->logger();
    cfg_.session.hostname = "mail.example.org";
    cfg_.login = &policy_;
  }
  void TearDown() override {
    server_.reset();
    capture_.reset();
    StoreTest::TearDown();
  }
  // Submission (587 with STARTTLS, 465 with implicit TLS) whose failed logins are answered
  // at once for the first `before_delay`, after kDelay from then on; the `ban`th bans.
  void submission(int ban, int before_delay) {
    cfg_.name = "submission";
    cfg_.session.submission = true;
    auth::ThrottleConfig t;
    t.failures_before_ban = ban;
    t.failures_before_delay = before_delay;
    t.first_delay = kDelay;
    t.max_delay = kDelay;
    throttle_ = std::make_unique<auth::Throttle>(t, nullptr);
    policy_.throttle = throttle_.get();
  }
  Server& server() {
    // The in-memory stream pretends the handshake; the context is never used.
    if (!server_)
      server_ = std::make_unique<Server>(
          io_, cfg_, *store_, std::make_shared<net::TlsContext>(net::TlsContext::tls_server), log_);
    return *server_;
  }
  test::MemoryStream& connect(bool implicit_tls = false, const std::string& ip = "192.0.2.7") {
    return clients_.connect([&](std::shared_ptr<net::Conn> c) { return server().serve(c, implicit_tls); }, ip);
  }
  // The test's client side runs as a coroutine; when it is done, every connection still open
  // sees its peer leave, so a failed expectation cannot hang the test.
  void run(std::function<asio::awaitable<void>()> client) { clients_.run(std::move(client)); }
  // One reply, all of its lines (RFC 5321 §4.2.1: the last has a space after the code).
  static asio::awaitable<std::string> reply(test::MemoryStream& c) {
    std::string all;
    for (;;) {
      const std::string line = co_await c.expect("\r\n");
      all += line;
      if (line.size() < 4 || line[3] != '-') co_return all;
    }
  }
  // Sends a line (views of literals and named strings: GCC 12 mishandles temporaries in
  // co_await expressions) and returns the reply.
  static asio::awaitable<std::string> command(test::MemoryStream& c, std::string_view line) {
    c.send(line);
    co_return co_await reply(c);
  }
  std::string server_log() { return capture_->text(); }

  asio::io_context io_;
  ServerConfig cfg_;
  auth::LoginPolicy policy_;
  std::unique_ptr<auth::Throttle> throttle_;
  std::unique_ptr<Server> server_;
  test::MemoryClients clients_{io_};
  std::optional<test::LogCapture> capture_;
  log::Logger log_;
};

TEST_F(SmtpServer, AMessageIsDeliveredOnTheMx) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    EXPECT_EQ(co_await reply(c), "220 mail.example.org ESMTP mailkeep\r\n");
    EXPECT_TRUE(
        (co_await command(c, "EHLO client.example.net\r\n")).starts_with("250-mail.example.org"));
    // Pipelined (RFC 2920): the replies come together.
    c.send("MAIL FROM:<bob@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n");
    EXPECT_EQ(co_await reply(c), "250 2.1.0 Sender OK\r\n");
    EXPECT_EQ(co_await reply(c), "250 2.1.5 Recipient OK\r\n");
    EXPECT_TRUE((co_await reply(c)).starts_with("354 "));
    c.send("From: bob@example.net\r\nTo: alice@example.org\r\nSubject: Hi\r\n\r\nHello.\r\n.\r\n");
    EXPECT_TRUE((co_await reply(c)).starts_with("250 2.0.0 OK id=")) << c.output();
    EXPECT_EQ(co_await command(c, "QUIT\r\n"), "221 2.0.0 mail.example.org closing connection\r\n");
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
  const std::string log = server_log();
  EXPECT_NE(log.find("event=smtp.delivered"), std::string::npos) << log;
  EXPECT_NE(log.find("event=smtp.disconnect conn=test reason=quit messages=1"), std::string::npos)
      << log;
}

// A pipeline that adds a field on top and rewrites the content, as sender authentication
// does when it removes a forged Authentication-Results.
class Rewriter final : public Pipeline {
 public:
  asio::awaitable<PipelineDecision> check(const Transaction&, const message::Parsed& msg, std::string,
                                          std::string) override {
    seen = std::string(msg.text());
    PipelineDecision d;
    d.fields = "Authentication-Results: mail.example.org; spf=none\r\n";
    d.content = std::make_shared<const message::Parsed>("X-Rewritten: yes\r\n" + seen);
    co_return d;
  }
  std::string seen;
};

TEST_F(SmtpServer, TheStoredMessageIsTheTraceOnTopOfTheContent) {
  Rewriter rewriter;
  cfg_.pipeline = &rewriter;
  const std::string content = "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: Hi\r\n\r\nHello.\r\n";
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    EXPECT_EQ(co_await reply(c), "220 mail.example.org ESMTP mailkeep\r\n");
    (void)co_await command(c, "EHLO client.example.net\r\n");
    EXPECT_EQ(co_await command(c, "MAIL FROM:<bob@example.net>\r\n"), "250 2.1.0 Sender OK\r\n");
    EXPECT_EQ(co_await command(c, "RCPT TO:<alice@example.org>\r\n"), "250 2.1.5 Recipient OK\r\n");
    EXPECT_TRUE((co_await command(c, "DATA\r\n")).starts_with("354 "));
    const std::string data = content + ".\r\n";
    EXPECT_TRUE((co_await command(c, data)).starts_with("250 2.0.0 OK id=")) << c.output();
    (void)co_await command(c, "QUIT\r\n");
  });
  // The pipeline saw the content as received, without our trace.
  EXPECT_EQ(rewriter.seen, content);
  auto account = store_->find_account("alice@example.org");
  ASSERT_TRUE(account.ok() && account->has_value());
  auto inbox = store_->find_mailbox((*account)->id, "INBOX");
  ASSERT_TRUE(inbox.ok() && inbox->has_value());
  auto list = store_->list_messages((*inbox)->id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  auto stored = store_->read_message((*list)[0]);
  ASSERT_TRUE(stored.ok());
  // Return-Path, the pipeline's field, Received, then the rewritten content, byte for byte.
  const std::string& m = *stored;
  ASSERT_TRUE(m.starts_with("Return-Path: <bob@example.net>\r\n"
                            "Authentication-Results: mail.example.org; spf=none\r\n"
                            "Received: from client.example.net ")) << m;
  EXPECT_TRUE(m.ends_with("\r\nX-Rewritten: yes\r\n" + content)) << m;
  const std::size_t received = m.find("Received: ");
  const std::size_t body = m.find("X-Rewritten: yes\r\n");
  EXPECT_EQ(m.find("\r\n\r\n"), body + std::string("X-Rewritten: yes\r\n").size() + content.find("\r\n\r\n"));
  EXPECT_LT(received, body);
  // The sizes the index keeps are the file's.
  EXPECT_EQ((*list)[0].size, m.size());
  auto after = store_->find_account("alice@example.org");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->used_bytes, m.size());
}

// A pipeline that delivers with a phishing warning, or as it is.
class Warner final : public Pipeline {
 public:
  asio::awaitable<PipelineDecision> check(const Transaction&, const message::Parsed& msg, std::string,
                                          std::string) override {
    PipelineDecision d;
    if (warn) {
      d.warned = true;
      d.content = std::make_shared<const message::Parsed>("Subject: [SUSPECTED PHISHING]\r\n" + std::string(msg.text()));
    }
    co_return d;
  }
  bool warn = false;
};

// An account's own forwarding sends on what is delivered as it is, and keeps a message that
// carries a phishing warning (its content no longer what the ARC seal signed).
TEST_F(SmtpServer, SuspectedPhishingIsNotForwardedButKept) {
  Warner warner;
  cfg_.pipeline = &warner;
  const auto alice = *store_->find_account("alice@example.org");
  ASSERT_TRUE(store_->set_forward(alice->id, "alice@elsewhere.example", false).ok());
  auto inbox_size = [&]() -> std::size_t {
    auto inbox = store_->find_mailbox(alice->id, "INBOX");
    return inbox.ok() && inbox->has_value() ? store_->list_messages((*inbox)->id)->size() : 0;
  };
  std::size_t queued_first = 0, inbox_first = 0;
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    (void)co_await reply(c);
    (void)co_await command(c, "EHLO client.example.net\r\n");
    for (const char* subject : {"plain", "suspicious"}) {
      warner.warn = std::string_view(subject) == "suspicious";
      (void)co_await command(c, "MAIL FROM:<bob@example.net>\r\n");
      EXPECT_EQ(co_await command(c, "RCPT TO:<alice@example.org>\r\n"), "250 2.1.5 Recipient OK\r\n");
      (void)co_await command(c, "DATA\r\n");
      const std::string data = "From: bob@example.net\r\nSubject: " + std::string(subject) + "\r\n\r\nHello.\r\n.\r\n";
      EXPECT_TRUE((co_await command(c, data)).starts_with("250 2.0.0 OK id=")) << c.output();
      if (!warner.warn) {
        queued_first = store_->list_queue()->size();
        inbox_first = inbox_size();
      }
    }
    (void)co_await command(c, "QUIT\r\n");
  });
  EXPECT_EQ(queued_first, 1u);  // forwarded, no copy here
  EXPECT_EQ(inbox_first, 0u);
  ASSERT_EQ(store_->list_queue()->size(), 1u);
  EXPECT_EQ((*store_->list_queue())[0].rcpts[0].rcpt, "alice@elsewhere.example");  // nothing more left
  EXPECT_EQ(inbox_size(), 1u);  // the suspicious one stays here, with its warning
}

// RFC 5321 §6.3: a message with 100 Received fields is in a loop and refused; 99 pass.
TEST_F(SmtpServer, AMessageInALoopIsRefused) {
  auto hops = [](int n) {
    std::string h;
    for (int i = 0; i < n; ++i) h += "Received: from hop" + std::to_string(i) + ".example by x.example; Thu, 3 Dec 2026 10:00:00 +0000\r\n";
    return h;
  };
  std::vector<std::string> replies;
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    (void)co_await reply(c);
    (void)co_await command(c, "EHLO client.example.net\r\n");
    for (int n : {99, 100}) {
      (void)co_await command(c, "MAIL FROM:<bob@example.net>\r\n");
      (void)co_await command(c, "RCPT TO:<alice@example.org>\r\n");
      (void)co_await command(c, "DATA\r\n");
      const std::string data = hops(n) + "From: bob@example.net\r\nSubject: loop\r\n\r\nHello.\r\n.\r\n";
      replies.push_back(co_await command(c, data));
    }
    (void)co_await command(c, "QUIT\r\n");
  });
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_TRUE(replies[0].starts_with("250 2.0.0 OK")) << replies[0];
  EXPECT_EQ(replies[1], "554 5.4.6 Too many hops (100 Received fields): a mail loop\r\n");
  const auto alice = *store_->find_account("alice@example.org");
  auto inbox = store_->find_mailbox(alice->id, "INBOX");
  ASSERT_TRUE(inbox.ok() && inbox->has_value());
  EXPECT_EQ(store_->list_messages((*inbox)->id)->size(), 1u);
}

TEST_F(SmtpServer, StartTlsDropsWhatWasPipelinedBehindIt) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    (void)co_await reply(c);
    (void)co_await command(c, "EHLO client.example.net\r\n");
    // CVE-2011-0411: a command injected in cleartext must not count under TLS.
    EXPECT_EQ(co_await command(c, "STARTTLS\r\nRSET\r\n"), "220 2.0.0 Ready to start TLS\r\n");
    const std::string ehlo = co_await command(c, "EHLO client.example.net\r\n");
    EXPECT_TRUE(ehlo.starts_with("250-mail.example.org")) << ehlo;  // not RSET's 250 2.0.0 OK
    EXPECT_EQ(c.output(), "");
  });
  const std::string log = server_log();
  EXPECT_NE(log.find("event=smtp.starttls_injection conn=test discarded_bytes=6"),
            std::string::npos)
      << log;
}

TEST_F(SmtpServer, AFailedHandshakeEndsTheConnection) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.fail_tls();
    (void)co_await reply(c);
    (void)co_await command(c, "EHLO client.example.net\r\n");
    EXPECT_EQ(co_await command(c, "STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_TRUE(co_await c.expect_closed());
    EXPECT_EQ(c.take(), "");  // nothing more, and never in cleartext
  });
  const std::string log = server_log();
  EXPECT_NE(log.find("event=smtp.tls_failed conn=test"), std::string::npos) << log;
  EXPECT_NE(log.find("event=smtp.disconnect conn=test reason=\"tls failed\""), std::string::npos)
      << log;
}

TEST_F(SmtpServer, AClientThatSaysNothingIsTimedOut) {
  // Long enough that writing the greeting, which may share this deadline, cannot run out of it
  // on a busy machine.
  cfg_.session.command_timeout = 1s;
  run([&]() -> asio::awaitable<void> {
    // Before the connection: the server's timer starts before the greeting reaches us.
    const auto start = Clock::now();
    auto& c = connect();
    (void)co_await reply(c);
    const std::string bye = co_await reply(c);
    EXPECT_TRUE(bye.starts_with("421 4.4.2 ")) << bye;
    EXPECT_GE(Clock::now() - start, cfg_.session.command_timeout);
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
}

TEST_F(SmtpServer, FailedLoginsAreAnsweredLateThenTheNetworkIsBanned) {
  submission(/*ban=*/2, /*before_delay=*/0);
  const std::string wrong = auth_plain("alice@example.org", "guess");
  run([&]() -> asio::awaitable<void> {
    auto& c = connect(/*implicit_tls=*/true);
    EXPECT_EQ(co_await reply(c), "220 mail.example.org ESMTP mailkeep\r\n");
    (void)co_await command(c, "EHLO client.example.net\r\n");
    auto start = Clock::now();
    EXPECT_EQ(co_await command(c, wrong), kFailed);
    EXPECT_GE(Clock::now() - start, kDelay);
    start = Clock::now();
    c.send(wrong);
    EXPECT_EQ(co_await c.expect(kBanned), kFailed + kBanned);
    EXPECT_GE(Clock::now() - start, kDelay);
    EXPECT_TRUE(co_await c.expect_shutdown());

    // The network's next connections: the 421 before a greeting on 587, nothing on 465.
    auto& again = connect();
    EXPECT_TRUE(co_await again.expect_shutdown());
    EXPECT_EQ(again.take(), kBanned);
    auto& tls = connect(/*implicit_tls=*/true);
    EXPECT_TRUE(co_await tls.expect_shutdown());
    EXPECT_EQ(tls.take(), "");
    auto& other = connect(false, "198.51.100.1");
    EXPECT_EQ(co_await reply(other), "220 mail.example.org ESMTP mailkeep\r\n");
  });
  const std::string log = server_log();
  EXPECT_NE(log.find("event=submission.auth_failed conn=test ip=192.0.2.7 user=alice@example.org "
                     "delay_ms=150 banned=true"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("event=submission.reply conn=test code=421 enhanced=4.7.0"), std::string::npos)
      << log;
  EXPECT_NE(log.find("event=submission.banned conn=test ip=192.0.2.7"), std::string::npos) << log;
}

TEST_F(SmtpServer, ASuccessfulLoginClearsTheFailures) {
  submission(/*ban=*/2, /*before_delay=*/1);
  const std::string wrong = auth_plain("alice@example.org", "guess");
  const std::string right = auth_plain("alice@example.org", "s3cret pass");
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    (void)co_await reply(c);
    (void)co_await command(c, "EHLO client.example.net\r\n");
    (void)co_await command(c, "STARTTLS\r\n");
    (void)co_await command(c, "EHLO client.example.net\r\n");
    EXPECT_EQ(co_await command(c, wrong), kFailed);
    EXPECT_EQ(co_await command(c, right), "235 2.7.0 Authentication successful\r\n");
    (void)co_await command(c, "QUIT\r\n");
    // Without the success this failure would be the second, and ban the network.
    auto& again = connect(/*implicit_tls=*/true);
    (void)co_await reply(again);
    (void)co_await command(again, "EHLO client.example.net\r\n");
    EXPECT_EQ(co_await command(again, wrong), kFailed);
    EXPECT_EQ(co_await command(again, "QUIT\r\n"),
              "221 2.0.0 mail.example.org closing connection\r\n");
  });
  EXPECT_NE(server_log().find("event=submission.auth conn=test user=alice@example.org"),
            std::string::npos);
}

}  // namespace
}  // namespace mk::smtp
