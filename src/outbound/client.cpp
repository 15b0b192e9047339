#include "outbound/client.hpp"

#include <functional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "smtp/reply_reader.hpp"

namespace mk::outbound {

namespace asio = boost::asio;
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxReplyLine = 4096;
}  // namespace

std::string SmtpReply::text() const {
  if (lines.empty()) return code ? std::to_string(code) : "no reply";
  return fmt::format("{} {}", code, lines.front());
}

std::string SmtpReply::enhanced() const { return lines.empty() ? std::string() : smtp::enhanced_code(code, lines.front()); }

void Connection::arm(std::chrono::milliseconds timeout) {
  timed_out_ = false;
  timer_.expires_after(timeout);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    timed_out_ = true;
    // After connect the socket lives in the stream: cancel whichever holds it.
    if (stream_) {
      stream_->cancel();
    } else {
      boost::system::error_code ignored;
      sock_.cancel(ignored);
    }
  });
}

asio::awaitable<Result<void>> Connection::connect(std::string ip, std::uint16_t port, std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(ip, ec);
  if (ec) co_return err(fmt::format("bad address {}", ip));
  arm(timeout);
  auto [cec] = co_await sock_.async_connect({addr, port}, kTuple);
  timer_.cancel();
  if (cec) co_return err(timed_out_ ? "connection timed out" : cec.message());
  sock_.set_option(net::tcp::no_delay(true), ec);
  stream_ = std::make_unique<net::Stream>(std::move(sock_));
  co_return Result<void>{};
}

asio::awaitable<Result<SmtpReply>> Connection::open(std::string ip, std::uint16_t port,
                                                     std::chrono::milliseconds timeout) {
  auto c = co_await connect(ip, port, timeout);
  if (!c) co_return c.error();
  auto greeting = co_await read_reply(timeout);
  co_return greeting;
}

asio::awaitable<Result<void>> Connection::start_tls_now(net::TlsContext& ctx, std::string host,
                                                         std::chrono::milliseconds timeout) {
  // Bytes that arrived before the handshake would be taken as protected (CVE-2011-0411).
  if (!in_.empty()) co_return err("data before the TLS handshake");
  arm(timeout);
  auto ec = co_await stream_->start_tls_client(ctx, host);
  timer_.cancel();
  if (ec) co_return err("TLS handshake failed: " + (timed_out_ ? std::string("timeout") : ec.message()));
  co_return Result<void>{};
}

asio::awaitable<bool> Connection::send(std::string data, std::chrono::milliseconds timeout) {
  auto ok = co_await write(data, timeout);
  co_return ok;
}

asio::awaitable<Result<std::string>> Connection::read_all(std::size_t max, std::chrono::milliseconds timeout) {
  std::string out = std::move(in_);
  in_.clear();
  arm(timeout);
  for (;;) {
    const std::size_t old = out.size();
    out.resize(old + 16384);
    auto [ec, n] = co_await stream_->read_some(asio::buffer(out.data() + old, 16384));
    out.resize(old + n);
    if (out.size() > max) {
      timer_.cancel();
      co_return err("response too large");
    }
    if (ec) {
      timer_.cancel();
      // A TLS peer that closes without close_notify still ends the body (HTTP/1.1 with
      // Connection: close): the length check of the parser catches truncation.
      if (timed_out_) co_return err("timed out");
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return out;
      co_return err(ec.message());
    }
  }
}

asio::awaitable<Result<std::string>> Connection::read_line(std::size_t max, std::chrono::milliseconds timeout) {
  arm(timeout);
  for (;;) {
    if (auto eol = in_.find("\r\n"); eol != std::string::npos) {
      timer_.cancel();
      std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      co_return line;
    }
    if (in_.size() > max) break;
    const std::size_t old = in_.size();
    in_.resize(old + 4096);
    auto [ec, n] = co_await stream_->read_some(asio::buffer(in_.data() + old, 4096));
    in_.resize(old + n);
    if (ec) {
      timer_.cancel();
      co_return err(timed_out_ ? "timed out" : ec.message());
    }
  }
  timer_.cancel();
  co_return err("line too long");
}

long Connection::tls_verify_code() {
  SSL* ssl = stream_ ? stream_->ssl() : nullptr;
  return ssl ? SSL_get_verify_result(ssl) : -1;
}

bool Connection::tls_verified() {
  SSL* ssl = stream_ ? stream_->ssl() : nullptr;
  return ssl && SSL_get0_peer_certificate(ssl) && SSL_get_verify_result(ssl) == X509_V_OK;
}

std::string Connection::tls_verify_error() {
  SSL* ssl = stream_ ? stream_->ssl() : nullptr;
  if (!ssl) return "no TLS";
  if (!SSL_get0_peer_certificate(ssl)) return "no certificate";
  return X509_verify_cert_error_string(SSL_get_verify_result(ssl));
}

asio::awaitable<bool> Connection::write(std::string_view data, std::chrono::milliseconds timeout) {
  arm(timeout);
  auto ec = co_await stream_->write_all(data);
  timer_.cancel();
  co_return !ec && !timed_out_;
}

asio::awaitable<SmtpReply> Connection::read_reply(std::chrono::milliseconds timeout) {
  smtp::ReplyReader reader;
  arm(timeout);
  for (;;) {
    auto eol = in_.find("\r\n");
    if (eol == std::string::npos) {
      if (in_.size() > kMaxReplyLine) break;
      const std::size_t old = in_.size();
      in_.resize(old + 16384);
      auto [ec, n] = co_await stream_->read_some(asio::buffer(in_.data() + old, 16384));
      in_.resize(old + n);
      if (ec) break;
      continue;
    }
    const auto st = reader.feed(std::string_view(in_).substr(0, eol));
    in_.erase(0, eol + 2);
    if (st == smtp::ReplyReader::Status::error) break;
    if (st == smtp::ReplyReader::Status::done) {
      timer_.cancel();
      SmtpReply r{reader.code(), std::move(reader.lines())};
      co_return r;
    }
  }
  timer_.cancel();
  co_return SmtpReply{};  // lost, timed out or not SMTP
}

asio::awaitable<SmtpReply> Connection::command(std::string line, std::chrono::milliseconds timeout) {
  line += "\r\n";
  if (!co_await write(line, timeout)) co_return SmtpReply{};
  // Not "co_return co_await ...": GCC 12 miscompiles it (SIGILL at run time).
  auto r = co_await read_reply(timeout);
  co_return r;
}

asio::awaitable<SmtpReply> Connection::ehlo(std::string name, std::chrono::milliseconds timeout) {
  std::string line = "EHLO " + name;
  auto r = co_await command(line, timeout);
  ext_.clear();
  if (r.code == 250)
    for (std::size_t i = 1; i < r.lines.size(); ++i) ext_.push_back(to_upper(r.lines[i]));
  co_return r;
}

bool Connection::has(std::string_view e) const {
  for (const auto& x : ext_)
    if (x == e || (x.size() > e.size() && x.compare(0, e.size(), e) == 0 && x[e.size()] == ' ')) return true;
  return false;
}

std::uint64_t Connection::size_limit() const {
  for (const auto& x : ext_)
    if (x.starts_with("SIZE ")) return parse_u64(x.substr(5)).value_or(0);
  return 0;
}

asio::awaitable<Result<void>> Connection::starttls(net::TlsContext& ctx, std::string host,
                                                    std::chrono::milliseconds timeout, std::vector<dns::Tlsa> tlsa) {
  std::string verb = "STARTTLS";
  auto r = co_await command(verb, timeout);
  if (r.code != 220) co_return err("STARTTLS refused: " + r.text());
  if (!in_.empty()) co_return err("data after STARTTLS reply");  // CVE-2011-0411 from the other side
  dane_usable_ = 0;
  std::function<bool(SSL*)> prepare;
  if (!tlsa.empty()) {
    prepare = [this, &host, &tlsa](SSL* ssl) {
      if (SSL_dane_enable(ssl, host.c_str()) <= 0) return false;
      // RFC 7672 §3.1.1: DANE-EE(3) binds the key, not a name, and ignores expiry.
      SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
      for (const auto& t : tlsa) {
        const auto* d = reinterpret_cast<const unsigned char*>(t.data.data());
        if (SSL_dane_tlsa_add(ssl, t.usage, t.selector, t.matching, d, t.data.size()) > 0) ++dane_usable_;
      }
      return true;
    };
  }
  arm(timeout);
  auto ec = co_await stream_->start_tls_client(ctx, host, prepare);
  timer_.cancel();
  if (ec) co_return err("TLS handshake failed: " + (timed_out_ ? std::string("timeout") : ec.message()));
  co_return Result<void>{};
}

bool Connection::dane_verified() {
  SSL* ssl = stream_ ? stream_->ssl() : nullptr;
  return ssl && dane_usable_ > 0 && SSL_get_verify_result(ssl) == X509_V_OK && SSL_get0_dane_authority(ssl, nullptr, nullptr) >= 0;
}

asio::awaitable<SmtpReply> Connection::data(std::string_view message, std::chrono::milliseconds timeout) {
  std::string verb = "DATA";
  auto r = co_await command(verb, timeout);
  if (r.code != 354) co_return r;
  auto reply = co_await body(message, timeout);
  co_return reply;
}

asio::awaitable<std::vector<SmtpReply>> Connection::pipeline(std::vector<std::string> lines,
                                                             std::chrono::milliseconds timeout) {
  std::string all;
  for (const auto& l : lines) all += l + "\r\n";
  std::vector<SmtpReply> out;
  if (!co_await write(all, timeout)) co_return out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto r = co_await read_reply(timeout);
    if (r.code == 0) break;
    out.push_back(std::move(r));
  }
  co_return out;
}

asio::awaitable<SmtpReply> Connection::body(std::string_view message, std::chrono::milliseconds timeout) {
  // Dot-stuffing (RFC 5321 §4.5.2), in pieces so a large message is not copied whole.
  std::string chunk;
  std::size_t pos = 0;
  bool line_start = true;
  while (pos < message.size()) {
    chunk.clear();
    while (pos < message.size() && chunk.size() < 65536) {
      const char c = message[pos++];
      if (line_start && c == '.') chunk += '.';
      chunk += c;
      line_start = c == '\n';
    }
    if (!co_await write(chunk, timeout)) co_return SmtpReply{};
  }
  const std::string_view end = message.ends_with("\r\n") ? ".\r\n" : "\r\n.\r\n";
  if (!co_await write(end, timeout)) co_return SmtpReply{};
  auto reply = co_await read_reply(timeout);
  co_return reply;
}

void Connection::close() {
  timer_.cancel();
  if (stream_) stream_->close();
  boost::system::error_code ignored;
  sock_.close(ignored);
}

std::string xtext_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 33 || c > 126 || c == '+' || c == '=') out += fmt::format("+{:02X}", c);
    else out += char(c);
  }
  return out;
}

}  // namespace mk::outbound
