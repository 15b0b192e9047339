// imap::Server's connection loop over in-memory streams, with a real session on a real
// SQLite store: IDLE pushes a delivery and ends at DONE, COMPRESS switches the stream to
// DEFLATE, an idle client is logged out, and failed logins (LOGIN or AUTHENTICATE
// SCRAM-SHA-256) are answered late, then banned with the BYE the clients know, the next
// connection refused at once.
#include "imap/server/server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

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
#include "auth/scram.hpp"
#include "auth/throttle.hpp"
#include "log_capture.hpp"
#include "memory_stream.hpp"
#include "unit/imap/scram_client.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::imap {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDelay = 150ms;
const std::string kBanned = "* BYE Too many failed logins from your network; try again later\r\n";
const std::string kLogin = "LOGIN me@example.org \"correct horse battery\"\r\n";

class ImapServer : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    ASSERT_TRUE(
        store_->add_account("me@example.org", *auth::hash_password("correct horse battery")).ok());
    // As app/runtime.cpp wires it: a commit wakes the sessions in IDLE.
    store_->set_change_listener([this](std::int64_t mailbox) { notifier_.notify(mailbox); });
    capture_.emplace(dir_ + "/server.log");
    ASSERT_TRUE(capture_->ok());
    log_ = capture_->logger();
  }
  void TearDown() override {
    server_.reset();
    store_->set_change_listener({});
    capture_.reset();
    StoreTest::TearDown();
  }
  // Failed logins: the first `before_delay` are answered at once, later ones after kDelay;
  // the `ban`th bans the network.
  void throttle(int ban, int before_delay) {
    auth::ThrottleConfig t;
    t.failures_before_ban = ban;
    t.failures_before_delay = before_delay;
    t.first_delay = kDelay;
    t.max_delay = kDelay;
    throttle_ = std::make_unique<auth::Throttle>(t, nullptr);
    policy_.throttle = throttle_.get();
    cfg_.session.login = &policy_;
  }
  Server& server() {
    if (!server_) server_ = std::make_unique<Server>(io_, cfg_, *store_, nullptr, notifier_, log_);
    return *server_;
  }
  // A client connecting to port 143 (or 993 with implicit_tls) from `ip`.
  test::MemoryStream& connect(bool implicit_tls = false, const std::string& ip = "192.0.2.7") {
    return clients_.connect([&](std::shared_ptr<net::Conn> c) { return server().serve(c, implicit_tls); }, ip);
  }
  // The test's client side runs as a coroutine; when it is done, every connection still open
  // sees its peer leave, so a failed expectation cannot hang the test.
  void run(std::function<asio::awaitable<void>()> client) { clients_.run(std::move(client)); }
  // Sends a command line and returns the response up to and including its tagged line.
  // (Views, of literals and named strings: GCC 12 mishandles temporaries in co_await
  // expressions.)
  static asio::awaitable<std::string> command(test::MemoryStream& c, std::string_view tag,
                                              std::string_view line) {
    c.send(std::string(tag) + " ");
    c.send(line);
    co_return co_await response(c, tag);
  }
  // The response up to and including the tagged line.
  static asio::awaitable<std::string> response(test::MemoryStream& c, std::string_view tag) {
    const std::string t(tag);
    const std::string tagged = "\r\n" + t + " ";
    std::string got = co_await c.expect(" ");
    if (got != t + " ") got += co_await c.expect(tagged);
    got += co_await c.expect("\r\n");
    co_return got;
  }
  std::string server_log() { return capture_->text(); }

  asio::io_context io_;
  Notifier notifier_;
  ServerConfig cfg_;
  auth::LoginPolicy policy_;
  std::unique_ptr<auth::Throttle> throttle_;
  std::unique_ptr<Server> server_;
  test::MemoryClients clients_{io_};
  std::optional<test::LogCapture> capture_;
  log::Logger log_;
};

TEST_F(ImapServer, IdlePushesANewMessageAndDoneEndsIt) {
  run([&]() -> asio::awaitable<void> {
    auto& a = connect();
    const std::string hello = co_await a.expect("\r\n");
    EXPECT_TRUE(hello.starts_with("* OK [CAPABILITY IMAP4rev1 ")) << hello;
    EXPECT_NE((co_await command(a, "l", kLogin)).find("l OK "), std::string::npos);
    EXPECT_NE((co_await command(a, "s", "SELECT INBOX\r\n")).find("* 0 EXISTS\r\n"),
              std::string::npos);
    a.send("i IDLE\r\n");
    EXPECT_EQ(co_await a.expect("\r\n"), "+ idling\r\n");

    // Another client delivers a message meanwhile.
    auto& b = connect();
    (void)co_await b.expect("\r\n");
    (void)co_await command(b, "l", kLogin);
    const std::string msg = "From: alice@example.net\r\nSubject: Lunch\r\n\r\nPizza?\r\n";
    b.send("ap APPEND INBOX {" + std::to_string(msg.size()) + "}\r\n");
    EXPECT_EQ(co_await b.expect("\r\n"), "+ Ready for literal data\r\n");
    b.send(msg + "\r\n");
    std::string appended = co_await response(b, "ap");
    EXPECT_TRUE(appended.starts_with("ap OK [APPENDUID ")) << appended;

    // Pushed without a command from the client in IDLE.
    const std::string pushed = co_await a.expect("* 1 RECENT\r\n");
    EXPECT_EQ(pushed, "* 1 EXISTS\r\n* 1 RECENT\r\n");
    a.send("DONE\r\n");
    EXPECT_EQ(co_await a.expect("\r\n"), "i OK IDLE terminated\r\n");
    EXPECT_EQ(co_await command(a, "z", "LOGOUT\r\n"),
              "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
    EXPECT_TRUE(co_await a.expect_shutdown());
    EXPECT_EQ(co_await command(b, "z", "LOGOUT\r\n"),
              "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
    EXPECT_TRUE(co_await b.expect_shutdown());
  });
  EXPECT_NE(server_log().find("event=imap.disconnect conn=test reason=logout"), std::string::npos)
      << server_log();
}

TEST_F(ImapServer, CompressSwitchesTheStreamToDeflate) {
  run([&]() -> asio::awaitable<void> {
    auto& a = connect();
    (void)co_await a.expect("\r\n");
    (void)co_await command(a, "l", kLogin);
    EXPECT_EQ(co_await command(a, "c", "COMPRESS DEFLATE\r\n"), "c OK DEFLATE active\r\n");
    // From here both directions are raw DEFLATE (RFC 4978 §4).
    z_stream out{}, in{};
    deflateInit2(&out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    inflateInit2(&in, -15);
    std::string line = "n NOOP\r\n", packed(256, '\0');
    out.next_in = reinterpret_cast<Bytef*>(line.data());
    out.avail_in = static_cast<uInt>(line.size());
    out.next_out = reinterpret_cast<Bytef*>(packed.data());
    out.avail_out = static_cast<uInt>(packed.size());
    deflate(&out, Z_SYNC_FLUSH);
    packed.resize(packed.size() - out.avail_out);
    a.send(packed);
    // A sync flush ends with an empty stored block: 00 00 ff ff.
    std::string reply = co_await a.expect(std::string("\x00\x00\xff\xff", 4));
    std::string plain(256, '\0');
    in.next_in = reinterpret_cast<Bytef*>(reply.data());
    in.avail_in = static_cast<uInt>(reply.size());
    in.next_out = reinterpret_cast<Bytef*>(plain.data());
    in.avail_out = static_cast<uInt>(plain.size());
    inflate(&in, Z_SYNC_FLUSH);
    plain.resize(plain.size() - in.avail_out);
    EXPECT_EQ(plain, "n OK NOOP completed\r\n");
    deflateEnd(&out);
    inflateEnd(&in);
  });
}

TEST_F(ImapServer, AnIdleClientIsLoggedOut) {
  // Long enough that flushing the greeting, which shares this deadline, cannot run out of it
  // on a busy machine (the timeout under test is the wait for the client's first command).
  cfg_.login_timeout = 1s;
  run([&]() -> asio::awaitable<void> {
    // Before the connection: the server's timer starts once its greeting is sent, which can
    // be a while before the greeting arrives here on a busy machine.
    const auto start = Clock::now();
    auto& a = connect();
    (void)co_await a.expect("\r\n");
    EXPECT_EQ(co_await a.expect("\r\n"), "* BYE Autologout; idle for too long\r\n");
    EXPECT_GE(Clock::now() - start, cfg_.login_timeout);
    EXPECT_TRUE(co_await a.expect_shutdown());
  });
  EXPECT_NE(server_log().find("event=imap.disconnect conn=test reason=timeout"), std::string::npos)
      << server_log();
}

TEST_F(ImapServer, FailedLoginsAreAnsweredLateThenTheNetworkIsBanned) {
  throttle(/*ban=*/2, /*before_delay=*/0);
  run([&]() -> asio::awaitable<void> {
    auto& a = connect();
    (void)co_await a.expect("\r\n");
    auto start = Clock::now();
    EXPECT_EQ(co_await command(a, "a", "LOGIN me@example.org wrong\r\n"),
              "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
    EXPECT_GE(Clock::now() - start, kDelay);
    start = Clock::now();
    a.send("b LOGIN me@example.org wrong\r\n");
    EXPECT_EQ(co_await a.expect(kBanned),
              "b NO [AUTHENTICATIONFAILED] Invalid credentials\r\n" + kBanned);
    EXPECT_GE(Clock::now() - start, kDelay);
    EXPECT_TRUE(co_await a.expect_shutdown());

    // The network's next connections: a BYE and nothing else on 143, not even that on 993.
    auto& again = connect();
    EXPECT_TRUE(co_await again.expect_shutdown());
    EXPECT_EQ(again.take(), kBanned);
    auto& tls = connect(/*implicit_tls=*/true);
    EXPECT_TRUE(co_await tls.expect_shutdown());
    EXPECT_EQ(tls.take(), "");
    // Another network is served.
    auto& other = connect(false, "198.51.100.1");
    EXPECT_TRUE((co_await other.expect("\r\n")).starts_with("* OK "));
  });
  const std::string log = server_log();
  EXPECT_NE(log.find("event=imap.auth_failed conn=test ip=192.0.2.7 user=me@example.org "
                     "delay_ms=150 banned=false"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("event=imap.auth_failed conn=test ip=192.0.2.7 user=me@example.org "
                     "delay_ms=150 banned=true"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("event=imap.banned conn=test ip=192.0.2.7"), std::string::npos) << log;
}

TEST_F(ImapServer, ASuccessfulLoginClearsTheFailures) {
  throttle(/*ban=*/2, /*before_delay=*/1);
  run([&]() -> asio::awaitable<void> {
    auto& a = connect();
    (void)co_await a.expect("\r\n");
    EXPECT_EQ(co_await command(a, "a", "LOGIN me@example.org wrong\r\n"),
              "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
    EXPECT_NE((co_await command(a, "b", kLogin)).find("b OK "), std::string::npos);
    (void)co_await command(a, "z", "LOGOUT\r\n");
    // Without the success this failure would be the second, and ban the network.
    auto& b = connect();
    (void)co_await b.expect("\r\n");
    EXPECT_EQ(co_await command(b, "c", "LOGIN me@example.org wrong\r\n"),
              "c NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
    EXPECT_EQ(co_await command(b, "z", "LOGOUT\r\n"),
              "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
  });
}

// SCRAM goes through the same gate as LOGIN: a wrong proof is a failure the throttle counts
// (here the one that bans), a right one a login that is logged.
TEST_F(ImapServer, ScramLoginsPassTheSameGate) {
  throttle(/*ban=*/2, /*before_delay=*/0);
  ASSERT_TRUE(store_->set_scram("me@example.org", auth::make_scram_secret("correct horse battery", 4096)).ok());
  // The base64 of a challenge line "+ ...\r\n".
  auto challenge = [](const std::string& line) { return line.substr(2, line.size() - 4); };
  run([&]() -> asio::awaitable<void> {
    auto& a = connect();
    (void)co_await a.expect("\r\n");
    test::ScramClient good("me@example.org", "correct horse battery");
    a.send("a AUTHENTICATE SCRAM-SHA-256 " + good.first() + "\r\n");
    const std::string final = good.final(challenge(co_await a.expect("\r\n")));
    a.send(final + "\r\n");
    EXPECT_EQ(co_await a.expect("\r\n"), "+ " + message::base64_encode(good.server_signature) + "\r\n");
    a.send("\r\n");
    EXPECT_TRUE((co_await a.expect("\r\n")).starts_with("a OK [CAPABILITY "));
    (void)co_await command(a, "z", "LOGOUT\r\n");

    auto& b = connect();
    (void)co_await b.expect("\r\n");
    for (const char* tag : {"b", "c"}) {
      test::ScramClient bad("me@example.org", "wrong horse");
      b.send(std::string(tag) + " AUTHENTICATE SCRAM-SHA-256\r\n");
      EXPECT_EQ(co_await b.expect("\r\n"), "+ \r\n");
      b.send(bad.first() + "\r\n");
      b.send(bad.final(challenge(co_await b.expect("\r\n"))) + "\r\n");
      const std::string no = std::string(tag) + " NO [AUTHENTICATIONFAILED] Invalid credentials\r\n";
      if (std::string(tag) == "b") EXPECT_EQ(co_await b.expect("\r\n"), no);
      else EXPECT_EQ(co_await b.expect(kBanned), no + kBanned);
    }
    EXPECT_TRUE(co_await b.expect_shutdown());
  });
  const std::string log = server_log();
  EXPECT_NE(log.find("event=imap.login conn=test user=me@example.org"), std::string::npos) << log;
  EXPECT_NE(log.find("event=imap.auth_failed conn=test ip=192.0.2.7 user=me@example.org delay_ms=150 banned=true"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace mk::imap
