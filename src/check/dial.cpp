// check/dial.cpp: dialling the listeners and collecting their chains (see dial.hpp).
#include "check/dial.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/ssl.h>

#include <algorithm>

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include "base/ip.hpp"
#include "outbound/client.hpp"

namespace mk::check {

namespace asio = boost::asio;

namespace {

// A greeting or a tagged IMAP reply longer than this is not a server we know how to talk to.
constexpr std::size_t kMaxLine = 8192;
constexpr int kMaxImapLines = 50;

bool is_v4(const std::string& ip) { return ip.find(':') == std::string::npos; }

}  // namespace

std::string Target::name() const {
  return fmt::format("{} {}:{}", listener.service, is_v4(ip) ? ip : "[" + ip + "]", listener.port);
}

std::vector<Target> dial_targets(const std::vector<Listener>& listeners, const std::vector<std::string>& host_addresses,
                                 const std::function<bool(const std::string&)>& is_local) {
  std::vector<Target> out;
  auto add = [&out](const Listener& l, std::string ip) {
    for (const auto& t : out)
      if (t.ip == ip && t.listener.port == l.port) return;
    out.push_back(Target{l, std::move(ip)});
  };
  for (const auto& l : listeners) {
    const bool any4 = l.host == "0.0.0.0", any6 = l.host == "::";
    std::vector<std::string> reach;
    for (const auto& a : host_addresses) {
      auto ip = IpAddr::parse(a);
      if (!ip || !is_local(ip->to_string())) continue;
      const std::string text = ip->to_string();
      const bool accepts = (any4 && ip->v4) || (any6 && !ip->v4) || IpAddr::parse(l.host) == ip;
      if (accepts) reach.push_back(text);
    }
    if (reach.empty()) reach.push_back(any4 ? "127.0.0.1" : any6 ? "::1" : l.host);
    for (auto& ip : reach) add(l, std::move(ip));
  }
  return out;
}

bool is_local_address(const std::string& ip) {
  auto want = IpAddr::parse(ip);
  if (!want) return false;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    std::optional<IpAddr> a;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      a = IpAddr::from_bytes(std::string_view(reinterpret_cast<const char*>(&sin->sin_addr), 4));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      a = IpAddr::from_bytes(std::string_view(reinterpret_cast<const char*>(&sin6->sin6_addr), 16));
    }
    found = a && *a == *want;
  }
  ::freeifaddrs(list);
  return found;
}

asio::awaitable<Result<std::vector<std::string>>> fetch_chain(Target t, std::string hostname, net::TlsContext& tls,
                                                              std::chrono::milliseconds timeout) {
  outbound::Connection c(co_await asio::this_coro::executor);
  switch (t.listener.mode) {
    case TlsMode::smtp_starttls: {
      auto greeting = co_await c.open(t.ip, t.listener.port, timeout);
      if (!greeting) co_return err(fmt::format("cannot connect: {}", greeting.error().message));
      if (greeting->code != 220) co_return err(fmt::format("greeted with \"{}\", not 220", greeting->text()));
      auto ehlo = co_await c.ehlo(hostname, timeout);
      if (ehlo.code != 250) co_return err(fmt::format("EHLO answered \"{}\"", ehlo.text()));
      if (!c.has("STARTTLS")) co_return err("STARTTLS is not offered", kNoStartTls);
      auto up = co_await c.starttls(tls, hostname, timeout);
      if (!up) co_return up.error();
      break;
    }
    case TlsMode::imap_starttls: {
      auto open = co_await c.connect(t.ip, t.listener.port, timeout);
      if (!open) co_return err(fmt::format("cannot connect: {}", open.error().message));
      auto greeting = co_await c.read_line(kMaxLine, timeout);
      if (!greeting) co_return err(fmt::format("no greeting: {}", greeting.error().message));
      if (!greeting->starts_with("* OK")) co_return err(fmt::format("greeted with \"{}\"", *greeting));
      if (!co_await c.send("C1 STARTTLS\r\n", timeout)) co_return err("the connection was closed");
      // RFC 9051 §6.2.1: untagged data may come first; the tagged OK starts the handshake.
      bool ok = false;
      for (int i = 0; i < kMaxImapLines && !ok; ++i) {
        auto line = co_await c.read_line(kMaxLine, timeout);
        if (!line) co_return err(fmt::format("no answer to STARTTLS: {}", line.error().message));
        if (line->starts_with("C1 ")) {
          if (!line->starts_with("C1 OK")) co_return err(fmt::format("STARTTLS refused: \"{}\"", *line));
          ok = true;
        }
      }
      if (!ok) co_return err("no answer to STARTTLS");
      auto up = co_await c.start_tls_now(tls, hostname, timeout);
      if (!up) co_return up.error();
      break;
    }
    case TlsMode::implicit: {
      auto open = co_await c.connect(t.ip, t.listener.port, timeout);
      if (!open) co_return err(fmt::format("cannot connect: {}", open.error().message));
      auto up = co_await c.start_tls_now(tls, hostname, timeout);
      if (!up) co_return up.error();
      break;
    }
  }
  SSL* ssl = c.stream() ? c.stream()->ssl() : nullptr;
  std::vector<std::string> chain;
  if (STACK_OF(X509)* sk = ssl ? SSL_get_peer_cert_chain(ssl) : nullptr) {
    for (int i = 0; i < sk_X509_num(sk); ++i) {
      unsigned char* buf = nullptr;
      const int n = i2d_X509(sk_X509_value(sk, i), &buf);
      if (n <= 0) continue;
      chain.emplace_back(reinterpret_cast<char*>(buf), std::size_t(n));
      OPENSSL_free(buf);
    }
  }
  c.close();
  co_return chain;
}

}  // namespace mk::check
