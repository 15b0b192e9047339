// net/offload.hpp: runs blocking work away from the io threads.
//
// The io threads (one per core) only move bytes. What can block (a store query or commit on
// a disk or a networked database, argon2id at a login, reading a message file) runs on the
// work pool, and the connection's coroutine resumes on its own executor (its strand)
// afterwards, so one slow query or login never stalls the other connections on that thread.
// The session objects are sans-I/O and touched by one coroutine at a time, so they need no
// locking: the coroutine is suspended while its work runs.
#pragma once

#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mk::net {

// Runs f() on the pool and returns its result; inline without a pool (tests, tools).
// Exceptions from f reach the caller.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> offload(boost::asio::thread_pool* pool, F f) {
  using R = std::invoke_result_t<F&>;
  if (!pool) co_return f();
  co_return co_await boost::asio::co_spawn(
      pool->get_executor(), [&f]() -> boost::asio::awaitable<R> { co_return f(); }, boost::asio::use_awaitable);
}

}  // namespace mk::net
