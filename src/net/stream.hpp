// net/stream.hpp: a TCP connection that can switch to TLS in place (STARTTLS) or start in
// TLS (implicit TLS ports), with coroutine reads and writes that return error codes instead
// of throwing. Deadlines are enforced by the caller (see smtp/server.cpp's watchdog), which
// cancels pending operations through cancel().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "net/tls.hpp"

namespace mk::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class Stream {
 public:
  explicit Stream(tcp::socket sock) : sock_(std::move(sock)) {}

  asio::awaitable<std::pair<error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  asio::awaitable<error_code> write_all(std::string_view data);
  // Runs the server side of the TLS handshake on the connected socket.
  asio::awaitable<error_code> start_tls(TlsContext& ctx);
  // The client side, sending SNI and checking the certificate against `host` (the result is
  // in SSL_get_verify_result; the handshake itself does not fail on it).
  // prepare, if given, configures the connection before the handshake (DANE TLSA records).
  asio::awaitable<error_code> start_tls_client(TlsContext& ctx, const std::string& host,
                                               std::function<bool(SSL*)> prepare = {});
  // RFC 4978 COMPRESS=DEFLATE: from now on both directions are raw DEFLATE streams.
  // already_read holds bytes received after the COMPRESS command (they are compressed).
  void enable_deflate(std::string_view already_read);
  bool deflate_active() const { return z_ != nullptr; }

  // Shuts the socket down; errors are ignored.
  asio::awaitable<void> shutdown();
  void cancel();
  void close();

  bool is_tls() const { return tls_ != nullptr; }
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }
  tcp::socket& socket() { return sock_; }

 private:
  asio::awaitable<std::pair<error_code, std::size_t>> raw_read(asio::mutable_buffer buf);
  asio::awaitable<error_code> raw_write(std::string_view data);

  struct Zlib;
  struct ZlibDeleter {
    void operator()(Zlib* z) const;
  };

  tcp::socket sock_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::unique_ptr<Zlib, ZlibDeleter> z_;
};

}  // namespace mk::net
