// net::offload: the work runs on the pool, the coroutine resumes on its own strand.
#include "net/offload.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace mk::net {
namespace {

namespace asio = boost::asio;

TEST(Offload, RunsOnThePoolAndResumesOnTheStrand) {
  asio::io_context io;
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(io);
  std::thread::id io_thread, work_thread, after;
  bool on_strand_after = false;
  int result = 0;
  asio::co_spawn(strand, [&]() -> asio::awaitable<void> {
    io_thread = std::this_thread::get_id();
    auto work = [&] {
      work_thread = std::this_thread::get_id();
      return 42;
    };
    result = co_await offload(&pool, work);
    after = std::this_thread::get_id();
    on_strand_after = strand.running_in_this_thread();
  }, asio::detached);
  io.run();
  pool.join();
  EXPECT_EQ(result, 42);
  EXPECT_NE(work_thread, io_thread);  // the blocking part left the io thread
  EXPECT_EQ(after, io_thread);
  EXPECT_TRUE(on_strand_after);
}

TEST(Offload, InlineWithoutAPoolAndExceptionsReachTheCaller) {
  asio::io_context io;
  std::thread::id io_thread, work_thread;
  bool caught = false;
  asio::thread_pool pool(1);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    io_thread = std::this_thread::get_id();
    auto work = [&] { work_thread = std::this_thread::get_id(); };
    co_await offload(nullptr, work);
    auto fails = []() -> int { throw std::runtime_error("boom"); };
    try {
      (void)co_await offload(&pool, fails);
    } catch (const std::runtime_error&) {
      caught = true;
    }
  }, asio::detached);
  io.run();
  EXPECT_EQ(work_thread, io_thread);
  EXPECT_TRUE(caught);
}

// While one connection's work blocks on the pool, another's coroutine keeps running on the
// single io thread: the io thread is never the one waiting.
TEST(Offload, BlockedWorkDoesNotStallTheIoThread) {
  asio::io_context io;
  asio::thread_pool pool(2);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> other_ran{false}, gave_up{false};
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    // Hang guard: had the work run on the io thread, the release could never come.
    auto blocks = [released, &gave_up] {
      gave_up = released.wait_for(std::chrono::seconds(60)) == std::future_status::timeout;
    };
    co_await offload(&pool, blocks);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    other_ran = true;
    release.set_value();  // only reachable while the first waits on the pool
    co_return;
  }, asio::detached);
  io.run();
  pool.join();
  EXPECT_TRUE(other_ran);
  EXPECT_FALSE(gave_up);
}

}  // namespace
}  // namespace mk::net
