// dns/deadline.hpp: one deadline for all of a message's lookups.
#include "dns/deadline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "await.hpp"
#include "dns/mock.hpp"

namespace mk::dns {
namespace {

using namespace std::chrono_literals;

// A resolver that never answers until the test lets it (or its hang guard runs out).
class SilentLookup final : public Lookup {
 public:
  static constexpr std::chrono::seconds kHangGuard{30};
  boost::asio::awaitable<Result<Answer>> query(std::string, int) override {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, kHangGuard);
    pending_.push_back(&t);
    boost::system::error_code ec;
    co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_return Answer{};
  }
  void release() {
    for (auto* t : pending_) t->cancel();
  }

 private:
  std::vector<boost::asio::steady_timer*> pending_;  // timers live until their query returns
};

TEST(DeadlineLookup, PassesAnswersThroughAndCountsThem) {
  MockLookup mock;
  mock.add_txt("example.org", "v=spf1 -all");
  DeadlineLookup dl(mock, 10s, 5s);
  auto r = test::await(dl.query("example.org", kTxt));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rdata.size(), 1u);
  auto nx = test::await(dl.query("missing.example", kTxt));
  ASSERT_TRUE(nx.ok());
  EXPECT_TRUE(nx->nxdomain);  // a definite answer too
  EXPECT_EQ(dl.answered(), 2);
  EXPECT_EQ(dl.failed(), 0);
  EXPECT_FALSE(dl.unreachable());
}

TEST(DeadlineLookup, ASilentResolverCostsTheBudgetOnceThenNothing) {
  SilentLookup silent;
  const auto created = std::chrono::steady_clock::now();  // the budget runs from construction
  DeadlineLookup dl(silent, 300ms, 200ms);
  boost::asio::io_context io;
  std::vector<bool> ok;
  std::chrono::steady_clock::duration first{}, all{};
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) {
      auto r = co_await dl.query("q" + std::to_string(i) + ".example", kTxt);
      ok.push_back(r.ok());
      if (i == 0) first = std::chrono::steady_clock::now() - start;
      if (!r) {
        EXPECT_EQ(r.error().code, kDeadline);
      }
    }
    all = std::chrono::steady_clock::now() - created;
    silent.release();
  }, boost::asio::detached);
  io.run();  // also runs the abandoned queries to their end
  EXPECT_EQ(ok, std::vector<bool>(5, false));
  EXPECT_GE(first, 200ms);  // the per-query timeout, not less
  EXPECT_GE(all, 300ms);    // the budget was spent...
  // ...and then the other queries failed at once: far below five timeouts. A hang guard
  // 100x the budget; without the deadline the loop would wait for the silent resolver.
  EXPECT_LT(all, SilentLookup::kHangGuard / 3);
  EXPECT_EQ(dl.failed(), 5);
  EXPECT_TRUE(dl.unreachable());
}

TEST(DeadlineLookup, SomeAnswersMeanTheResolverWorks) {
  MockLookup mock;
  mock.add_txt("example.org", "v=spf1 -all");
  mock.fail("slow.example");
  DeadlineLookup dl(mock, 10s, 5s);
  EXPECT_TRUE(test::await(dl.query("example.org", kTxt)).ok());
  EXPECT_FALSE(test::await(dl.query("slow.example", kTxt)).ok());
  EXPECT_EQ(dl.answered(), 1);
  EXPECT_EQ(dl.failed(), 1);
  EXPECT_FALSE(dl.unreachable());
  // SERVFAIL alone is no answer either.
  MockLookup broken;
  broken.fail("example.org");
  DeadlineLookup dl2(broken, 10s, 5s);
  EXPECT_FALSE(test::await(dl2.query("example.org", kTxt)).ok());
  EXPECT_TRUE(dl2.unreachable());
}

}  // namespace
}  // namespace mk::dns
