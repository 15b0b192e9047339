// audit/socket_deadline.hpp: one deadline over a TLS connection's operations, for the log
// shipper and the collector.
//
// When the deadline passes, the socket is closed: every pending operation then fails, which
// is how connect, handshake, reads and writes are bounded without cancelling TLS mid-record.
// The watchdog coroutine may resume after its owner is gone: it shares only `done` with it and
// touches the stream and the timer only while `done` is false.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mk::audit {

class SocketDeadline {
 public:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  using Clock = std::chrono::steady_clock;

  SocketDeadline(Stream& stream, Clock::time_point first) : timer_(stream.get_executor(), first) {
    boost::asio::co_spawn(
        stream.get_executor(),
        [&stream, &timer = timer_, done = done_]() -> boost::asio::awaitable<void> {
          while (!*done) {
            co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (*done) co_return;
            if (timer.expiry() <= Clock::now()) {
              boost::system::error_code ignored;
              stream.lowest_layer().close(ignored);
              co_return;
            }
          }
        },
        boost::asio::detached);
  }
  ~SocketDeadline() {
    *done_ = true;
    timer_.cancel();
  }
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

  void at(Clock::time_point t) { timer_.expires_at(t); }
  void after(std::chrono::milliseconds d) { timer_.expires_after(d); }
  void never() { timer_.expires_at(Clock::time_point::max()); }

 private:
  std::shared_ptr<bool> done_ = std::make_shared<bool>(false);
  boost::asio::steady_timer timer_;
};

}  // namespace mk::audit
