// Tests for base/all.hpp: the parts run at the same time, and a part that throws is
// rethrown only after every part has finished.
#include "base/all.hpp"

#include <chrono>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

namespace mk {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs the coroutine on a fresh io_context until it ends; an exception reaches the caller.
template <class F>
void run(F f) {
  asio::io_context io;
  std::exception_ptr thrown;
  bool done = false;
  asio::co_spawn(io, f(), [&](std::exception_ptr e) { thrown = e, done = true; });
  io.run_for(60s);  // hang guard
  ASSERT_TRUE(done) << "all() did not return";
  if (thrown) std::rethrow_exception(thrown);
}

TEST(All, PartsRunAtTheSameTime) {
  // The first part can only finish once the second has started: sequentially, they would
  // wait for each other forever (and the hang guard would end the test).
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer gate(ex, asio::steady_timer::time_point::max());
    bool second_started = false;
    auto first = [&]() -> asio::awaitable<void> {
      boost::system::error_code ec;
      co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      EXPECT_TRUE(second_started);
    };
    auto second = [&]() -> asio::awaitable<void> {
      second_started = true;
      gate.cancel();
      co_return;
    };
    auto both = all(first(), second());
    co_await std::move(both);
  });
}

TEST(All, AFailureIsRethrownAfterEveryPartEnded) {
  bool slow_finished = false;
  EXPECT_THROW(run([&]() -> asio::awaitable<void> {
                 auto failing = []() -> asio::awaitable<void> {
                   throw std::runtime_error("part failed");
                   co_return;
                 };
                 auto slow = [&]() -> asio::awaitable<void> {
                   asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
                   co_await t.async_wait(asio::use_awaitable);
                   slow_finished = true;
                 };
                 auto both = all(failing(), slow());
                 co_await std::move(both);
               }),
               std::runtime_error);
  EXPECT_TRUE(slow_finished);
}

TEST(All, EveryPartRunsToItsEnd) {
  int ended = 0;
  run([&]() -> asio::awaitable<void> {
    auto part = [&]() -> asio::awaitable<void> {
      ++ended;
      co_return;
    };
    auto three = all(part(), part(), part());
    co_await std::move(three);
  });
  EXPECT_EQ(ended, 3);
}

}  // namespace
}  // namespace mk
