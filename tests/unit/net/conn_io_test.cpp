// net::ConnIo over an in-memory stream: fill, flush and goodbye, the reasons input ends
// (eof, an error, the watchdog's timeout, the server's shutdown), and the goodbye's bound.
#include "net/conn_io.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.hpp"
#include "memory_stream.hpp"

namespace mk::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kChunk = 1024;

// One connection over a MemoryStream with its watchdog; body runs as the connection's loop.
class ConnIoTest : public ::testing::Test {
 protected:
  void run(std::function<asio::awaitable<void>(ConnIo&, test::MemoryStream&)> body,
           std::size_t keep = std::numeric_limits<std::size_t>::max()) {
    auto mc = test::memory_conn(io_.get_executor());
    conn_ = mc.conn;
    ConnIo cio(*mc.conn, kChunk, keep);
    bool finished = false;
    // Named: the coroutine refers to the lambda's captures until it ends.
    auto loop = [&]() -> asio::awaitable<void> {
      co_await body(cio, *mc.peer);
      finished = true;
    };
    test::spawn_conn(io_.get_executor(), mc, loop());
    io_.run();
    EXPECT_TRUE(finished);
  }
  asio::io_context io_;
  std::shared_ptr<Conn> conn_;
};

TEST_F(ConnIoTest, FillAppendsWhatArrived) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    cio.in = "A1 ";
    peer.send("NOOP\r\n");
    std::string why;
    EXPECT_TRUE(co_await cio.fill(Clock::now() + 10s, why));
    EXPECT_EQ(cio.in, "A1 NOOP\r\n");
    EXPECT_EQ(why, "");
  });
}

TEST_F(ConnIoTest, FillWaitsForInput) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::post(ex, [&peer] { peer.send("late\r\n"); });
    std::string why;
    EXPECT_TRUE(co_await cio.fill(Clock::now() + 10s, why));
    EXPECT_EQ(cio.in, "late\r\n");
  });
}

TEST_F(ConnIoTest, FillEndsAtEof) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    peer.send_eof();
    std::string why;
    EXPECT_FALSE(co_await cio.fill(Clock::now() + 10s, why));
    EXPECT_EQ(why, "eof");
    EXPECT_EQ(cio.in, "");
  });
}

TEST_F(ConnIoTest, FillEndsOnAnErrorWithItsMessage) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    const error_code reset = asio::error::connection_reset;
    peer.fail_reads(reset);
    std::string why;
    EXPECT_FALSE(co_await cio.fill(Clock::now() + 10s, why));
    EXPECT_EQ(why, reset.message());
  });
}

TEST_F(ConnIoTest, FillTimesOutAtTheDeadline) {
  constexpr auto kDeadline = 50ms;
  run([&](ConnIo& cio, test::MemoryStream&) -> asio::awaitable<void> {
    const auto start = Clock::now();
    std::string why;
    EXPECT_FALSE(co_await cio.fill(start + kDeadline, why));
    EXPECT_EQ(why, "timeout");
    EXPECT_TRUE(cio.conn().timed_out);
    EXPECT_GE(Clock::now() - start, kDeadline);
  });
}

// What Listener::shutdown does to a connection: it wakes the ones that wait idle, and only
// those. then: what the peer does next.
asio::awaitable<void> shut_down_later(Conn& conn, std::function<void()> then = {}) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  conn.shutdown_requested = true;
  if (conn.idle) conn.stream->cancel();
  if (then) then();
}

TEST_F(ConnIoTest, ShutdownEndsAnIdleWait) {
  run([](ConnIo& cio, test::MemoryStream&) -> asio::awaitable<void> {
    asio::co_spawn(co_await asio::this_coro::executor, shut_down_later(cio.conn()), asio::detached);
    std::string why;
    EXPECT_FALSE(co_await cio.fill(Clock::now() + 10s, why, Wait::idle));
    EXPECT_EQ(why, "shutdown");
    EXPECT_FALSE(cio.conn().idle);
  });
}

TEST_F(ConnIoTest, ShutdownLetsABusyReadFinish) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, shut_down_later(cio.conn(), [&peer] { peer.send("rest\r\n"); }),
                   asio::detached);
    std::string why;
    EXPECT_TRUE(co_await cio.fill(Clock::now() + 10s, why, Wait::busy));
    EXPECT_EQ(cio.in, "rest\r\n");
    EXPECT_TRUE(cio.conn().shutdown_requested);
  });
}

TEST_F(ConnIoTest, FlushWritesAndEmptiesTheOutput) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await cio.flush(10s));  // nothing to write
    EXPECT_EQ(peer.output(), "");
    cio.out = "250 OK\r\n";
    EXPECT_TRUE(co_await cio.flush(10s));
    EXPECT_EQ(cio.out, "");
    EXPECT_EQ(peer.output(), "250 OK\r\n");
  });
}

TEST_F(ConnIoTest, FlushFailsWhenThePeerIsGone) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    peer.fail_writes(asio::error::broken_pipe);
    cio.out = "250 OK\r\n";
    EXPECT_FALSE(co_await cio.flush(10s));
    EXPECT_EQ(cio.out, "");
  });
}

TEST_F(ConnIoTest, FlushFailsAtTheDeadlineWhenThePeerDoesNotRead) {
  constexpr auto kLimit = 50ms;
  run([&](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    peer.stall_writes(true);
    cio.out = "* 1 EXISTS\r\n";
    const auto start = Clock::now();
    EXPECT_FALSE(co_await cio.flush(kLimit));
    EXPECT_GE(Clock::now() - start, kLimit);
    EXPECT_TRUE(cio.conn().timed_out);
  });
}

TEST_F(ConnIoTest, AReplyIsSentAfterTheServerItselfTookLong) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    // The watchdog fired while the server worked (no I/O was pending): the next write has a
    // deadline of its own, and the reply (a 250 for a stored message) reaches the client.
    cio.conn().timed_out = true;
    cio.out = "250 2.0.0 OK\r\n";
    EXPECT_TRUE(co_await cio.flush(10s));
    EXPECT_EQ(peer.output(), "250 2.0.0 OK\r\n");
    EXPECT_FALSE(cio.conn().timed_out);
  });
}

TEST_F(ConnIoTest, GoodbyeWritesTheLastWordsEvenAfterATimeout) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    cio.conn().timed_out = true;  // as after a read that timed out
    cio.out = "250 OK\r\n";
    cio.out += "421 4.4.2 Timeout\r\n";
    co_await cio.goodbye();
    EXPECT_EQ(peer.output(), "250 OK\r\n421 4.4.2 Timeout\r\n");
    EXPECT_TRUE(peer.shut_down());
    EXPECT_FALSE(cio.conn().timed_out);
    EXPECT_EQ(cio.out, "");
  });
}

TEST_F(ConnIoTest, GoodbyeIsBoundedWhenThePeerDoesNotRead) {
  run([](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
    peer.stall_writes(true);
    cio.out = "* BYE Autologout\r\n";
    const auto start = Clock::now();
    co_await cio.goodbye();
    EXPECT_GE(Clock::now() - start, kGoodbyeTimeout);
    EXPECT_TRUE(peer.shut_down());
  });
}

TEST_F(ConnIoTest, LargeBuffersAreReleasedOnceEmpty) {
  constexpr std::size_t kKeep = 4 * kChunk;
  constexpr std::size_t kLarge = 64 * kKeep;
  run(
      [&](ConnIo& cio, test::MemoryStream& peer) -> asio::awaitable<void> {
        cio.out.assign(kLarge, 'x');
        EXPECT_TRUE(co_await cio.flush(10s));
        EXPECT_LE(cio.out.capacity(), kKeep);
        cio.in.reserve(kLarge);
        peer.send("a NOOP\r\n");
        std::string why;
        EXPECT_TRUE(co_await cio.fill(Clock::now() + 10s, why));
        EXPECT_LE(cio.in.capacity(), kKeep);
        EXPECT_EQ(cio.in, "a NOOP\r\n");
      },
      kKeep);
}

// A long-lived task spawned with log::LogThrown: the exception that ends it reaches the log
// (asio::detached would drop it), and one that returns logs nothing.
TEST(LogThrown, ATaskThatThrowsIsLoggedAndOneThatReturnsIsNot) {
  struct Lines : log::Tap {
    std::vector<std::string> got;
    void line(log::Level, std::string_view, std::string_view l) override { got.emplace_back(l); }
  };
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto sink = std::make_shared<log::Sink>(::fileno(f), log::Format::kv, log::Level::error);
  auto lines = std::make_shared<Lines>();
  sink->set_tap(lines, log::Level::debug);
  const log::Logger logger(sink);
  asio::io_context io;
  asio::co_spawn(
      io, []() -> asio::awaitable<void> { co_return; }, log::LogThrown{logger, "test.returned"});
  asio::co_spawn(
      io,
      []() -> asio::awaitable<void> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        throw std::runtime_error("the loop broke");
      },
      log::LogThrown{logger, "test.loop_failed"});
  io.run();
  ASSERT_EQ(lines->got.size(), 1u);
  EXPECT_NE(lines->got[0].find("level=error event=test.loop_failed error=\"the loop broke\""),
            std::string::npos)
      << lines->got[0];
  std::fclose(f);
}

}  // namespace
}  // namespace mk::net
