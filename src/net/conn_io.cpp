#include "net/conn_io.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

namespace mk::net {

asio::awaitable<bool> ConnIo::flush(std::chrono::milliseconds limit) {
  if (out.empty()) co_return true;
  // The write has a deadline of its own: a deadline that passed while the server worked (a
  // slow pipeline after DATA) is not the peer's fault and must not lose the reply; a
  // session past its lifetime still ends (the watchdog fires again at once).
  conn_.timed_out = false;
  conn_.arm(limit);
  const auto ec = co_await conn_.stream->write_all(out);
  out.clear();
  if (out.capacity() > keep_buffer_) std::string().swap(out);
  co_return !ec && !conn_.timed_out;
}

asio::awaitable<bool> ConnIo::fill(Clock::time_point deadline, std::string& why, Wait wait) {
  if (in.empty() && in.capacity() > keep_buffer_) std::string().swap(in);
  conn_.idle = wait == Wait::idle;
  conn_.set_deadline(deadline);
  const std::size_t old = in.size();
  in.resize(old + read_chunk_);
  auto [ec, n] = co_await conn_.stream->read_some(asio::buffer(in.data() + old, read_chunk_));
  in.resize(old + n);
  conn_.idle = false;
  if (conn_.timed_out) co_return why = "timeout", false;
  if (ec == asio::error::operation_aborted && conn_.shutdown_requested)
    co_return why = "shutdown", false;
  if (ec) co_return why = (ec == asio::error::eof ? "eof" : ec.message()), false;
  co_return true;
}

asio::awaitable<void> ConnIo::goodbye() {
  conn_.timed_out = false;
  conn_.arm(kGoodbyeTimeout);
  if (!out.empty()) (void)co_await conn_.stream->write_all(out);
  out.clear();
  co_await conn_.stream->shutdown();
}

}  // namespace mk::net
