// tests/await.hpp: runs a coroutine to completion on a private io_context, for unit tests of
// modules whose API is asynchronous (SPF, DKIM, DMARC against dns::MockLookup).
#pragma once

#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace mk::test {

template <class T>
T await(boost::asio::awaitable<T> a) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(a)); },
                        boost::asio::detached);
  io.run();
  return std::move(*out);
}

}  // namespace mk::test
