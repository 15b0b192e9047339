// base/all.hpp: runs independent coroutines of one task at the same time and waits for all.
//
// The MX's DNS lookups (SPF, DKIM keys, ARC, reverse DNS, the DNS lists) do not depend on
// each other: asked one after the other they would add up their round trips under the
// message's one DNS deadline. Each part keeps its own result (they write to separate
// fields); what is shared here is the waiting and what happens when a part throws.
#pragma once

#include <exception>
#include <tuple>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mk {

// Starts every part on the caller's executor, returns when all have finished, and then
// rethrows the first exception a part ended with (a bug or resource exhaustion, STYLE.md):
// no part is abandoned half way while another one is still running.
// Build the call before awaiting it (`auto both = all(a(), b()); co_await std::move(both);`):
// GCC 12 mishandles temporaries in a co_await's operand.
template <class... Parts>
boost::asio::awaitable<void> all(boost::asio::awaitable<void> first, Parts... rest) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  auto group = asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(first), asio::deferred),
                                                       asio::co_spawn(ex, std::move(rest), asio::deferred)...);
  auto ended = co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  std::apply(
      [](const auto& /*order*/, const auto&... errors) {
        for (const std::exception_ptr& e : {errors...})
          if (e) std::rethrow_exception(e);
      },
      ended);
}

}  // namespace mk
