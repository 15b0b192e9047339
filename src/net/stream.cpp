#include "net/stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace mk::net {

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<std::pair<error_code, std::size_t>> Stream::transport_read(asio::mutable_buffer buf) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buf, kTuple);
    co_return std::make_pair(ec, n);
  }
  auto [ec, n] = co_await sock_.async_read_some(buf, kTuple);
  co_return std::make_pair(ec, n);
}

asio::awaitable<error_code> Stream::transport_write(std::string_view data) {
  auto b = asio::buffer(data.data(), data.size());
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, b, kTuple);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(sock_, b, kTuple);
  co_return ec;
}

asio::awaitable<error_code> Stream::start_tls(TlsContext& ctx) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, ctx);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  co_return ec;
}

asio::awaitable<error_code> Stream::start_tls_client(TlsContext& ctx, const std::string& host,
                                                     std::function<bool(SSL*)> prepare) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, ctx);
  SSL* ssl = tls_->native_handle();
  SSL_set_tlsext_host_name(ssl, host.c_str());
  SSL_set1_host(ssl, host.c_str());
  if (prepare && !prepare(ssl)) co_return asio::error::invalid_argument;
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kTuple);
  co_return ec;
}

asio::awaitable<void> Stream::shutdown() {
  // No TLS close_notify exchange: the mail transaction is already complete (the last reply
  // was written) and many clients never answer one, which would hold the connection open.
  error_code ignored;
  sock_.shutdown(tcp::socket::shutdown_both, ignored);
  co_return;
}

std::string Stream::local_address() const {
  error_code ec;
  const auto local = sock_.local_endpoint(ec);
  return ec ? std::string() : local.address().to_string();
}

void Stream::cancel() {
  error_code ignored;
  sock_.cancel(ignored);
}

void Stream::close() {
  error_code ignored;
  sock_.close(ignored);
}

}  // namespace mk::net
