// net/stream.hpp: a TCP connection that can switch to TLS in place (STARTTLS) or start in
// TLS (implicit TLS ports), with coroutine reads and writes that return error codes instead
// of throwing: the production net::ByteStream (net/byte_stream.hpp), and the outbound SMTP
// client's connection. Deadlines are enforced by the caller (net::Conn's watchdog, the
// outbound client's timer), which cancels pending operations through cancel().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "net/byte_stream.hpp"
#include "net/tls.hpp"

namespace mk::net {

using tcp = asio::ip::tcp;

class Stream final : public ByteStream {
 public:
  explicit Stream(tcp::socket sock) : sock_(std::move(sock)) {}

  asio::any_io_executor get_executor() override { return sock_.get_executor(); }
  // Runs the server side of the TLS handshake on the connected socket.
  asio::awaitable<error_code> start_tls(TlsContext& ctx) override;
  // The client side, sending SNI and checking the certificate against `host` (the result is
  // in SSL_get_verify_result; the handshake itself does not fail on it).
  // prepare, if given, configures the connection before the handshake (DANE TLSA records).
  asio::awaitable<error_code> start_tls_client(TlsContext& ctx, const std::string& host,
                                               std::function<bool(SSL*)> prepare = {});

  // Shuts the socket down; errors are ignored.
  asio::awaitable<void> shutdown() override;
  void cancel() override;
  void close() override;

  bool is_tls() const override { return tls_ != nullptr; }
  SSL* ssl() override { return tls_ ? tls_->native_handle() : nullptr; }
  std::string local_address() const override;
  tcp::socket& socket() { return sock_; }

 protected:
  asio::awaitable<std::pair<error_code, std::size_t>> transport_read(asio::mutable_buffer buf) override;
  asio::awaitable<error_code> transport_write(std::string_view data) override;

 private:
  tcp::socket sock_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace mk::net
