// outbound/client.hpp: the SMTP client side of one connection to a remote MX (RFC 5321),
// with opportunistic STARTTLS (RFC 3207). Every wait is bounded by a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/result.hpp"
#include "dns/rdata.hpp"
#include "net/stream.hpp"

namespace mk::outbound {

struct SmtpReply {
  int code = 0;  // 0: no reply (connection lost, timeout)
  std::vector<std::string> lines;
  std::string text() const;      // "550 5.1.1 No such user" (first line, or all joined)
  std::string enhanced() const;  // "5.1.1" when the reply carries one
};

class Connection {
 public:
  explicit Connection(boost::asio::any_io_executor ex) : sock_(ex), timer_(ex) {}

  // Connects without reading anything (HTTPS for MTA-STS policies).
  boost::asio::awaitable<Result<void>> connect(std::string ip, std::uint16_t port, std::chrono::milliseconds timeout);
  // TLS from the first byte, or after another protocol's STARTTLS exchange (then nothing may
  // be left unread), checking the certificate against host (see tls_verified()).
  boost::asio::awaitable<Result<void>> start_tls_now(net::TlsContext& ctx, std::string host,
                                                     std::chrono::milliseconds timeout);
  boost::asio::awaitable<bool> send(std::string data, std::chrono::milliseconds timeout);
  // One line without its CRLF, at most max bytes (other protocols' STARTTLS: mailkeep check
  // upgrades IMAP connections with it).
  boost::asio::awaitable<Result<std::string>> read_line(std::size_t max, std::chrono::milliseconds timeout);
  // Everything until the peer closes, up to max bytes (more is an error).
  boost::asio::awaitable<Result<std::string>> read_all(std::size_t max, std::chrono::milliseconds timeout);
  // Whether the peer's certificate chain verified and matched the host name (WebPKI).
  bool tls_verified();
  // The certificate matched a usable TLSA record (only after starttls with records).
  bool dane_verified();
  std::size_t dane_usable() const { return dane_usable_; }
  std::string tls_verify_error();
  long tls_verify_code();  // X509_V_OK, X509_V_ERR_...
  // Connects and reads the greeting.
  boost::asio::awaitable<Result<SmtpReply>> open(std::string ip, std::uint16_t port,
                                                 std::chrono::milliseconds timeout);
  // Arguments are taken by value: they live in the coroutine frame (GCC 12 can destroy a
  // temporary bound to a reference parameter before the coroutine has used it).
  boost::asio::awaitable<SmtpReply> command(std::string line, std::chrono::milliseconds timeout);
  // EHLO, then the extensions it announced (upper-case keywords; "SIZE 1000" kept whole).
  boost::asio::awaitable<SmtpReply> ehlo(std::string name, std::chrono::milliseconds timeout);
  // With TLSA records, the peer is authenticated by DANE (RFC 7672): see dane_verified().
  boost::asio::awaitable<Result<void>> starttls(net::TlsContext& ctx, std::string host,
                                                std::chrono::milliseconds timeout,
                                                std::vector<dns::Tlsa> tlsa = {});
  // Sends the message (dot-stuffed, ended with ".") and reads the reply.
  boost::asio::awaitable<SmtpReply> data(std::string_view message, std::chrono::milliseconds timeout);
  // After a 354: the dot-stuffed message and its end, then the final reply.
  boost::asio::awaitable<SmtpReply> body(std::string_view message, std::chrono::milliseconds timeout);
  // RFC 2920: the commands in one write, then one reply each, in order.
  boost::asio::awaitable<std::vector<SmtpReply>> pipeline(std::vector<std::string> lines,
                                                          std::chrono::milliseconds timeout);
  void close();

  bool has(std::string_view ext) const;  // an EHLO keyword
  std::uint64_t size_limit() const;      // SIZE value, 0 if none
  bool tls() const { return stream_ && stream_->is_tls(); }
  net::Stream* stream() { return stream_.get(); }

 private:
  boost::asio::awaitable<SmtpReply> read_reply(std::chrono::milliseconds timeout);
  boost::asio::awaitable<bool> write(std::string_view data, std::chrono::milliseconds timeout);
  void arm(std::chrono::milliseconds timeout);

  net::tcp::socket sock_;
  std::unique_ptr<net::Stream> stream_;
  boost::asio::steady_timer timer_;
  bool timed_out_ = false;
  std::string in_;
  std::vector<std::string> ext_;
  std::size_t dane_usable_ = 0;
};

// RFC 3461 §4: xtext for ENVID and ORCPT values.
std::string xtext_encode(std::string_view s);

}  // namespace mk::outbound
