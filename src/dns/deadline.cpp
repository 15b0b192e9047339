#include "dns/deadline.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace mk::dns {
namespace asio = boost::asio;

namespace {

// Shared by the waiting query and the (possibly abandoned) inner one.
struct Pending {
  explicit Pending(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Result<Answer>> result;
};

asio::awaitable<void> run_inner(Lookup& inner, std::shared_ptr<Pending> p, std::string name, int type) {
  auto r = co_await inner.query(std::move(name), type);
  p->result.emplace(std::move(r));
  p->timer.cancel();
}

}  // namespace

DeadlineLookup::DeadlineLookup(Lookup& inner, Clock::duration budget, Clock::duration per_query)
    : st_(std::make_shared<State>(State{inner, Clock::now() + budget, per_query})) {}

asio::awaitable<Result<Answer>> DeadlineLookup::query(std::string name, int type) {
  // From here on only `st` is used, never `this`: the caller may stop waiting for this query
  // and destroy the DeadlineLookup before it ends.
  const std::shared_ptr<State> st = st_;
  const auto now = Clock::now();
  if (now >= st->deadline) {
    ++st->failed;
    co_return Error{fmt::format("DNS: the message's lookup time is spent; {} not asked", name), kDeadline};
  }
  const auto until = std::min(st->deadline, now + st->per_query);
  auto p = std::make_shared<Pending>(co_await asio::this_coro::executor);
  p->timer.expires_at(until);
  asio::co_spawn(p->timer.get_executor(), run_inner(st->inner, p, name, type), asio::detached);
  if (!p->result) {  // a mock may have answered already
    boost::system::error_code ec;
    co_await p->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!p->result) {
    ++st->failed;
    co_return Error{fmt::format("DNS: no answer for {} in time", name), kDeadline};
  }
  Result<Answer> r = std::move(*p->result);
  if (r && (r->rcode == 0 || r->rcode == 3) && !r->bogus) ++st->answered;
  else ++st->failed;
  co_return r;
}

}  // namespace mk::dns
