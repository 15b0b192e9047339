#include "net/stream.hpp"

#include <zlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace mk::net {

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

struct Stream::Zlib {
  z_stream in{};
  z_stream out{};
  std::string pending;  // compressed bytes received but not yet inflated
  std::size_t pending_off = 0;
};

void Stream::ZlibDeleter::operator()(Zlib* z) const {
  inflateEnd(&z->in);
  deflateEnd(&z->out);
  delete z;
}

void Stream::enable_deflate(std::string_view already_read) {
  auto z = std::unique_ptr<Zlib, ZlibDeleter>(new Zlib);
  // RFC 4978 §4: raw DEFLATE (no zlib header), so negative window bits.
  inflateInit2(&z->in, -15);
  deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  z->pending.assign(already_read);
  z_ = std::move(z);
}

asio::awaitable<std::pair<error_code, std::size_t>> Stream::read_some(asio::mutable_buffer buf) {
  if (!z_) co_return co_await raw_read(buf);
  // Inflate into the caller's buffer, reading more compressed input until some output.
  for (;;) {
    if (z_->pending_off < z_->pending.size()) {
      z_->in.next_in = reinterpret_cast<Bytef*>(z_->pending.data() + z_->pending_off);
      z_->in.avail_in = static_cast<uInt>(z_->pending.size() - z_->pending_off);
      z_->in.next_out = static_cast<Bytef*>(buf.data());
      z_->in.avail_out = static_cast<uInt>(buf.size());
      const int rc = inflate(&z_->in, Z_SYNC_FLUSH);
      z_->pending_off = z_->pending.size() - z_->in.avail_in;
      if (z_->pending_off == z_->pending.size()) z_->pending.clear(), z_->pending_off = 0;
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
        co_return std::make_pair(asio::error::make_error_code(asio::error::invalid_argument), std::size_t(0));
      const std::size_t produced = buf.size() - z_->in.avail_out;
      if (produced > 0) co_return std::make_pair(error_code(), produced);
    }
    char raw[16 * 1024];
    auto [ec, n] = co_await raw_read(asio::buffer(raw));
    if (ec) co_return std::make_pair(ec, std::size_t(0));
    z_->pending.append(raw, n);
  }
}

asio::awaitable<error_code> Stream::write_all(std::string_view data) {
  if (!z_) co_return co_await raw_write(data);
  std::string out;
  z_->out.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_->out.avail_in = static_cast<uInt>(data.size());
  char chunk[16 * 1024];
  // Z_SYNC_FLUSH: the client can decode every response as soon as it arrives.
  do {
    z_->out.next_out = reinterpret_cast<Bytef*>(chunk);
    z_->out.avail_out = sizeof chunk;
    deflate(&z_->out, Z_SYNC_FLUSH);
    out.append(chunk, sizeof chunk - z_->out.avail_out);
  } while (z_->out.avail_out == 0);
  co_return co_await raw_write(out);
}

asio::awaitable<std::pair<error_code, std::size_t>> Stream::raw_read(asio::mutable_buffer buf) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buf, kTuple);
    co_return std::make_pair(ec, n);
  }
  auto [ec, n] = co_await sock_.async_read_some(buf, kTuple);
  co_return std::make_pair(ec, n);
}

asio::awaitable<error_code> Stream::raw_write(std::string_view data) {
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

void Stream::cancel() {
  error_code ignored;
  sock_.cancel(ignored);
}

void Stream::close() {
  error_code ignored;
  sock_.close(ignored);
}

}  // namespace mk::net
