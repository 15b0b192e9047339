// tests/memory_stream.hpp: an in-memory net::ByteStream, so unit tests can drive a
// connection loop (net::ConnIo, smtp::Server::serve, imap::Server::serve) without a socket.
// The test plays the peer: it sends bytes, closes its side, waits for what the server wrote,
// and injects faults (a read or write error, a peer that stops reading, a failed handshake).
// The stream "starts TLS" without encrypting anything (ssl() stays null), which is enough for
// the sessions, which only ask whether TLS is on.
//
// Everything runs on one single-threaded io_context: the peer's calls and the server's
// coroutines never race.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/byte_stream.hpp"
#include "net/listener.hpp"

namespace mk::test {

namespace asio = boost::asio;

// How long a test waits for output that should come: a hang guard, never a timing check.
inline constexpr std::chrono::milliseconds kHangGuard{10000};

class MemoryStream final : public net::ByteStream {
 public:
  explicit MemoryStream(asio::any_io_executor ex)
      : ex_(ex), readable_(ex), written_(ex), stalled_(ex) {}

  // The peer's side.
  void send(std::string_view bytes) {
    input_ += bytes;
    readable_.cancel();
  }
  void send_eof() {
    eof_ = true;
    readable_.cancel();
  }
  void fail_reads(net::error_code ec) {
    read_error_ = ec;
    readable_.cancel();
  }
  void fail_writes(net::error_code ec) { write_error_ = ec; }
  // A peer that stops reading: writes hang until cancelled (by the watchdog).
  void stall_writes(bool on) { stall_ = on; }
  void fail_tls() { tls_fails_ = true; }

  // What the server wrote that the test has not taken yet.
  const std::string& output() const { return output_; }
  std::string take() { return std::exchange(output_, {}); }
  // Waits until the server wrote `what`, then takes and returns everything up to and
  // including it; gives up after `limit` (a hang guard) and returns what there is.
  asio::awaitable<std::string> expect(std::string_view what,
                                      std::chrono::milliseconds limit = kHangGuard) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (const auto at = output_.find(what); at != std::string::npos) {
        std::string got = output_.substr(0, at + what.size());
        output_.erase(0, at + what.size());
        co_return got;
      }
      if (std::chrono::steady_clock::now() >= deadline) co_return std::exchange(output_, {});
      written_.expires_at(deadline);
      co_await written_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  // Waits until the server shut the stream down (or `limit`); whether it did.
  asio::awaitable<bool> expect_shutdown(std::chrono::milliseconds limit = kHangGuard) {
    co_return co_await wait_for(shut_down_, limit);
  }
  // Waits until the stream is closed (the connection ended, or `limit`); whether it was.
  asio::awaitable<bool> expect_closed(std::chrono::milliseconds limit = kHangGuard) {
    co_return co_await wait_for(closed_, limit);
  }
  bool shut_down() const { return shut_down_; }
  bool closed() const { return closed_; }

  // net::ByteStream
  asio::any_io_executor get_executor() override { return ex_; }
  asio::awaitable<net::error_code> start_tls(net::TlsContext&) override {
    if (tls_fails_) co_return asio::ssl::error::stream_truncated;
    tls_ = true;
    co_return net::error_code();
  }
  bool is_tls() const override { return tls_; }
  SSL* ssl() override { return nullptr; }
  std::string local_address() const override { return "192.0.2.1"; }
  asio::awaitable<void> shutdown() override {
    shut_down_ = true;
    written_.cancel();
    co_return;
  }
  void cancel() override {
    if (reading_) abort_read_ = true;
    readable_.cancel();
    stalled_.cancel();
  }
  void close() override {
    closed_ = true;
    cancel();
    written_.cancel();
  }

 protected:
  asio::awaitable<std::pair<net::error_code, std::size_t>> transport_read(
      asio::mutable_buffer buf) override {
    for (;;) {
      if (abort_read_) {
        abort_read_ = false;
        co_return std::make_pair(net::error_code(asio::error::operation_aborted), std::size_t(0));
      }
      if (read_error_) co_return std::make_pair(read_error_, std::size_t(0));
      if (!input_.empty()) {
        const std::size_t n = std::min(buf.size(), input_.size());
        std::memcpy(buf.data(), input_.data(), n);
        input_.erase(0, n);
        co_return std::make_pair(net::error_code(), n);
      }
      if (eof_ || closed_)
        co_return std::make_pair(net::error_code(asio::error::eof), std::size_t(0));
      reading_ = true;
      readable_.expires_at(asio::steady_timer::time_point::max());
      co_await readable_.async_wait(asio::as_tuple(asio::use_awaitable));
      reading_ = false;
    }
  }
  asio::awaitable<net::error_code> transport_write(std::string_view data) override {
    if (write_error_) co_return write_error_;
    if (stall_) {
      stalled_.expires_at(asio::steady_timer::time_point::max());
      co_await stalled_.async_wait(asio::as_tuple(asio::use_awaitable));
      co_return asio::error::operation_aborted;
    }
    // Completes later, as a socket's write does: other coroutines run meanwhile.
    co_await asio::post(ex_, asio::use_awaitable);
    output_.append(data);
    written_.cancel();
    co_return net::error_code();
  }

 private:
  asio::awaitable<bool> wait_for(const bool& flag, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!flag && std::chrono::steady_clock::now() < deadline) {
      written_.expires_at(deadline);
      co_await written_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return flag;
  }

  asio::any_io_executor ex_;
  asio::steady_timer readable_;  // cancelled when input arrives (a condition, never expires)
  asio::steady_timer written_;   // cancelled when output arrives or the stream shuts down
  asio::steady_timer stalled_;   // a stalled write waits here until cancel()
  std::string input_;
  std::string output_;
  net::error_code read_error_, write_error_;
  bool eof_ = false, stall_ = false, tls_fails_ = false, tls_ = false;
  bool reading_ = false, abort_read_ = false, shut_down_ = false, closed_ = false;
};

// A connection from `ip` over a fresh MemoryStream, as net::Listener would hand it over.
struct MemoryConn {
  std::shared_ptr<net::Conn> conn;
  MemoryStream* peer = nullptr;  // owned by conn
  bool done = false;             // the handler returned
};

inline MemoryConn memory_conn(asio::any_io_executor ex, const std::string& ip = "192.0.2.7") {
  auto stream = std::make_unique<MemoryStream>(ex);
  MemoryConn mc;
  mc.peer = stream.get();
  mc.conn = std::make_shared<net::Conn>(std::move(stream), net::ConnLimiter::Slot(nullptr, ip),
                                        "test", ip);
  return mc;
}

// Runs a connection's handler as net::Listener does: beside its watchdog, and closed when
// the handler returns. mc.done tells when it has; an exception fails the test.
inline void spawn_conn(asio::any_io_executor ex, MemoryConn& mc, asio::awaitable<void> handler) {
  asio::co_spawn(ex, net::watchdog(mc.conn), [](std::exception_ptr) {});
  asio::co_spawn(ex, std::move(handler), [&mc](std::exception_ptr e) {
    mc.done = true;
    mc.conn->closed = true;
    mc.conn->timer.cancel();
    mc.conn->stream->close();
    if (e) std::rethrow_exception(e);
  });
}

// The client side of a server test: connections over in-memory streams, driven by one
// coroutine; when it is done, every connection still open sees its peer leave, so a failed
// expectation cannot hang the test.
class MemoryClients {
 public:
  explicit MemoryClients(asio::io_context& io) : io_(io) {}
  // A connection from `ip`, handled by serve(conn) (a server's connection coroutine).
  MemoryStream& connect(const std::function<asio::awaitable<void>(std::shared_ptr<net::Conn>)>& serve,
                        const std::string& ip = "192.0.2.7") {
    conns_.push_back(memory_conn(io_.get_executor(), ip));
    auto& mc = conns_.back();
    spawn_conn(io_.get_executor(), mc, serve(mc.conn));
    return *mc.peer;
  }
  // Runs the client to its end; every connection's handler must have returned by then.
  void run(std::function<asio::awaitable<void>()> client) {
    bool finished = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          co_await client();
          finished = true;
          for (auto& mc : conns_) mc.peer->send_eof();
        },
        asio::detached);
    io_.run();
    EXPECT_TRUE(finished);
    for (auto& mc : conns_) EXPECT_TRUE(mc.done);
  }

 private:
  asio::io_context& io_;
  std::list<MemoryConn> conns_;
};

}  // namespace mk::test
