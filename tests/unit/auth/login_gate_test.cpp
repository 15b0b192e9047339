// auth::LoginGate: a banned network is refused at connect, a failed login is counted,
// recorded, logged and delayed, a network that keeps failing is banned, and a successful
// login clears its failures; the security log and the server log carry the events the
// operators' tools read.
#include "auth/login_gate.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "log_capture.hpp"

namespace mk::auth {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDelay = 100ms;
constexpr const char* kClient = "192.0.2.7";

class LoginGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mk-gate-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto audit = audit::Log::open(dir_ + "/security.log");
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(*audit);
    capture_.emplace(dir_ + "/server.log");
    ASSERT_TRUE(capture_->ok());
    log_ = capture_->logger();
  }
  void TearDown() override {
    capture_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A throttle that delays every failure by kDelay and bans at the `ban`th.
  void throttle(int ban, int before_delay = 0) {
    ThrottleConfig cfg;
    cfg.failures_before_delay = before_delay;
    cfg.failures_before_ban = ban;
    cfg.first_delay = kDelay;
    cfg.max_delay = kDelay;
    throttle_ = std::make_unique<Throttle>(cfg, nullptr);
    policy_.throttle = throttle_.get();
    policy_.audit = audit_.get();
  }
  LoginGate gate(const char* ip = kClient) {
    return LoginGate(&policy_, "imap", ip, nullptr, log_);
  }
  void run(std::function<asio::awaitable<void>()> body) {
    asio::io_context io;
    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await body();
          finished = true;
        },
        asio::detached);
    io.run();
    EXPECT_TRUE(finished);
  }
  // A failed login as `user` (GCC 12 mishandles temporaries in co_await expressions: the
  // coroutine gets a named string).
  static asio::awaitable<Throttle::Verdict> fail(LoginGate& g, const char* user) {
    std::string u = user;
    co_return co_await g.failed(std::move(u));
  }
  std::string security_log() { return test::slurp(dir_ + "/security.log"); }
  std::string server_log() { return capture_->text(); }

  std::string dir_;
  std::unique_ptr<audit::Log> audit_;
  std::optional<test::LogCapture> capture_;
  log::Logger log_;
  std::unique_ptr<Throttle> throttle_;
  LoginPolicy policy_;
};

TEST_F(LoginGateTest, WithoutAPolicyEverythingPasses) {
  run([&]() -> asio::awaitable<void> {
    LoginGate open(nullptr, "smtp", kClient, nullptr, log_);
    EXPECT_FALSE(co_await open.banned_at_connect());
    const auto v = co_await fail(open, "bob@example.org");
    EXPECT_EQ(v.delay, 0ms);
    EXPECT_FALSE(v.banned);
    std::string user = "bob@example.org", client;
    co_await open.succeeded(std::move(user), std::move(client));
  });
  EXPECT_EQ(server_log(), "");
  EXPECT_EQ(security_log(), "");
}

TEST_F(LoginGateTest, AFailureIsRecordedLoggedAndAnsweredAfterTheDelay) {
  throttle(/*ban=*/10);
  run([&]() -> asio::awaitable<void> {
    auto g = gate();
    const auto start = Clock::now();
    const auto v = co_await fail(g, "bob@example.org");
    EXPECT_EQ(v.delay, kDelay);
    EXPECT_FALSE(v.banned);
    EXPECT_GE(Clock::now() - start, kDelay);
  });
  const std::string sec = security_log();
  EXPECT_NE(
      sec.find(
          R"("event":"login_failed","service":"imap","ip":"192.0.2.7","user":"bob@example.org")"),
      std::string::npos)
      << sec;
  EXPECT_EQ(sec.find(R"("event":"ban")"), std::string::npos);
  const std::string log = server_log();
  EXPECT_NE(
      log.find(
          "event=imap.auth_failed ip=192.0.2.7 user=bob@example.org delay_ms=100 banned=false"),
      std::string::npos)
      << log;
}

TEST_F(LoginGateTest, TheNthFailureBansTheNetworkWhichIsThenRefusedAtConnect) {
  throttle(/*ban=*/3);
  run([&]() -> asio::awaitable<void> {
    auto first = gate();
    EXPECT_FALSE(co_await first.banned_at_connect());
    const auto one = co_await fail(first, "a");
    EXPECT_FALSE(one.banned);
    const auto two = co_await fail(first, "b");
    EXPECT_FALSE(two.banned);
    const auto start = Clock::now();
    const auto third = co_await fail(first, "c");
    EXPECT_TRUE(third.banned);
    EXPECT_GE(Clock::now() - start, kDelay);  // the ban is answered late too

    auto next = gate();  // the next connection from that network
    EXPECT_TRUE(co_await next.banned_at_connect());
    auto other = gate("198.51.100.1");
    EXPECT_FALSE(co_await other.banned_at_connect());
  });
  const std::string sec = security_log();
  EXPECT_NE(sec.find(R"("event":"ban","network":"192.0.2.7","service":"imap")"), std::string::npos)
      << sec;
  EXPECT_NE(sec.find(R"("event":"connection_refused_banned","service":"imap","ip":"192.0.2.7")"),
            std::string::npos)
      << sec;
  const std::string log = server_log();
  EXPECT_NE(log.find("event=imap.auth_failed ip=192.0.2.7 user=c delay_ms=100 banned=true"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("event=imap.banned ip=192.0.2.7"), std::string::npos) << log;
}

TEST_F(LoginGateTest, ASuccessClearsTheNetworksFailures) {
  // The first failure is answered at once, the second is delayed, the second one banned.
  throttle(/*ban=*/2, /*before_delay=*/1);
  run([&]() -> asio::awaitable<void> {
    auto g = gate();
    const auto u = co_await fail(g, "me@example.org");
    EXPECT_EQ(u.delay, 0ms);
    std::string user = "me@example.org", client = "Thunderbird 128";
    co_await g.succeeded(std::move(user), std::move(client));
    const auto v = co_await fail(g, "me@example.org");  // the first again
    EXPECT_EQ(v.delay, 0ms);
    EXPECT_FALSE(v.banned);
    const auto w = co_await fail(g, "me@example.org");
    EXPECT_EQ(w.delay, kDelay);
    EXPECT_TRUE(w.banned);
  });
  const std::string sec = security_log();
  EXPECT_NE(
      sec.find(
          R"("event":"login","service":"imap","ip":"192.0.2.7","user":"me@example.org","client":"Thunderbird 128")"),
      std::string::npos)
      << sec;
}

TEST_F(LoginGateTest, UnparsableAddressesAreNotThrottled) {
  throttle(/*ban=*/1);
  run([&]() -> asio::awaitable<void> {
    auto g = gate("not-an-ip");
    EXPECT_FALSE(co_await g.banned_at_connect());
    const auto v = co_await fail(g, "x");
    EXPECT_FALSE(v.banned);
  });
}

}  // namespace
}  // namespace mk::auth
