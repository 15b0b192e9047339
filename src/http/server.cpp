#include "http/server.hpp"

#include <ctime>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "http/request_reader.hpp"
#include "net/conn_io.hpp"
#include "net/offload.hpp"

namespace mk::http {

namespace asio = boost::asio;
using net::Clock;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// Input or output buffers that grew past this (a large body or page) are released once empty.
constexpr std::size_t kKeepBuffer = 64 * 1024;
constexpr std::string_view kTooMany =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 10\r\n\r\n";
// The longest path written to the access log.
constexpr std::size_t kLoggedPath = 200;

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);  // RFC 9110 §5.6.7 IMF-fixdate
  return buf;
}

// A header value written into the response: no CR or LF can reach the wire (response
// splitting), whatever a handler put there.
std::string field_value(std::string_view v) {
  std::string out(v);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

bool has_field(const Fields& f, std::string_view name) {
  for (const auto& [k, v] : f)
    if (iequals(k, name)) return true;
  return false;
}

}  // namespace

std::string serialize(const Response& r, bool tls, bool keep_alive, bool head_only, int http_minor) {
  std::string out = fmt::format("HTTP/1.{} {} {}\r\n", http_minor == 0 ? 0 : 1, r.status, reason(r.status));
  out += "Date: " + http_date(std::time(nullptr)) + "\r\n";
  const bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
  if (!r.content_type.empty()) out += "Content-Type: " + field_value(r.content_type) + "\r\n";
  if (!bodiless) out += fmt::format("Content-Length: {}\r\n", r.body.size());
  if (!keep_alive) out += "Connection: close\r\n";
  else if (http_minor == 0) out += "Connection: keep-alive\r\n";
  if (!has_field(r.headers, "Cache-Control")) out += "Cache-Control: no-store\r\n";
  for (const auto& [k, v] : security_headers(tls))
    if (!has_field(r.headers, k)) out += k + ": " + v + "\r\n";
  for (const auto& [k, v] : r.headers) out += field_value(k) + ": " + field_value(v) + "\r\n";
  out += "\r\n";
  if (!head_only && !bodiless) out += r.body;
  return out;
}

Server::Server(asio::io_context& io, ServerConfig cfg, const Router& router, std::shared_ptr<net::TlsContext> tls,
               log::Logger log)
    : cfg_(std::move(cfg)),
      router_(router),
      tls_(std::move(tls)),
      log_(std::move(log)),
      // No bound on a whole connection beyond its requests' own: a kept-alive one ends after
      // max_requests_per_connection or idle_timeout.
      plain_(io, net::ListenerConfig{"http", cfg_.max_connections, cfg_.max_connections_per_ip,
                                     std::chrono::hours(24), std::string(kTooMany), cfg_.metrics},
             log_, [this](std::shared_ptr<net::Conn> c) { return serve(std::move(c), false); }),
      // Over the limits an HTTPS connection is closed before the handshake: nothing to say.
      secure_(io, net::ListenerConfig{"https", cfg_.max_connections, cfg_.max_connections_per_ip,
                                      std::chrono::hours(24), "", cfg_.metrics},
              log_, [this](std::shared_ptr<net::Conn> c) { return serve(std::move(c), true); }) {}

Status Server::listen(const std::vector<net::tcp::endpoint>& plain, const std::vector<net::tcp::endpoint>& tls) {
  if (auto s = plain_.listen(plain); !s) return s;
  if (!tls.empty() && !tls_) return err("HTTPS listeners need a TLS certificate");
  return secure_.listen(tls);
}

void Server::start() {
  plain_.start();
  secure_.start();
}

void Server::shutdown(std::chrono::milliseconds grace) {
  plain_.shutdown(grace);
  secure_.shutdown(grace);
}

asio::awaitable<void> Server::serve(std::shared_ptr<net::Conn> conn, bool tls) {
  log::Logger log = log_.with({{"conn", conn->id}});
  net::ConnIo io(*conn, kReadChunk, kKeepBuffer);
  if (tls && !co_await net::start_tls(*conn, *tls_, io.in, cfg_.header_timeout, log, "http")) co_return;

  for (std::size_t served = 0; served < cfg_.max_requests_per_connection; ++served) {
    RequestReader reader(cfg_);
    // Wait for the request's first byte (idle between requests), then the whole header
    // under header_timeout from there, then the body under request_timeout.
    std::string why;
    if (io.in.empty() &&
        !co_await io.fill(Clock::now() + (served == 0 ? cfg_.header_timeout : cfg_.idle_timeout), why,
                          net::Wait::idle))
      break;  // nothing asked: a client that leaves (or never spoke) gets no error
    const auto started = Clock::now();
    auto deadline = started + cfg_.header_timeout;
    bool body_phase = false;
    auto state = reader.feed(io.in);
    while (state == RequestReader::State::need_more) {
      if (reader.header_done() && !body_phase) {
        body_phase = true;
        deadline = Clock::now() + cfg_.request_timeout;
        if (reader.expects_continue()) {
          io.out += "HTTP/1.1 100 Continue\r\n\r\n";
          if (!co_await io.flush(cfg_.request_timeout)) co_return;
        }
      }
      if (!co_await io.fill(deadline, why)) {
        if (why != "timeout") co_return;  // the client left in the middle: nobody to answer
        io.out = serialize(Response::text(408, "The request took too long to arrive.\n"), tls, false, false, 1);
        log.info("http.request", {{"ip", conn->remote_ip}, {"status", 408}, {"reason", "header or body too slow"}});
        co_await io.goodbye();
        co_return;
      }
      state = reader.feed(io.in);
    }
    std::optional<Request> req;
    if (state == RequestReader::State::done) req = reader.take(tls, conn->remote_ip);
    if (!req) {
      const Response& r = reader.error();
      io.out = serialize(r, tls, false, false, 1);
      log.info("http.request", {{"ip", conn->remote_ip}, {"status", r.status}, {"error", log_safe(r.body, kLoggedPath)}});
      co_await io.goodbye();
      co_return;
    }

    Response res;
    try {
      asio::thread_pool* pool = cfg_.login_work && cfg_.slow && cfg_.slow(*req) ? cfg_.login_work : cfg_.work;
      res = co_await net::offload(pool, [&] { return router_.route(*req); });
      if (res.then) {
        auto rest = std::move(res.then);  // lives in this frame while it runs
        res = co_await rest();
      }
    } catch (const std::exception& e) {
      // A bug in a handler: the client gets a 500, the connection closes, the server goes on.
      log.error("http.handler_failed", {{"path", log_safe(req->path, kLoggedPath)}, {"error", e.what()}});
      res = Response::text(500, "Internal error.\n");
    }
    if (res.delay.count() > 0) {
      asio::steady_timer wait(co_await asio::this_coro::executor);
      wait.expires_after(res.delay);
      auto [ec] = co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)ec;  // cancelled at shutdown: answer now
    }
    const bool keep_alive = !res.close && reader.keep_alive() && res.status < 500 &&
                            served + 1 < cfg_.max_requests_per_connection && !conn->shutdown_requested;
    io.out += serialize(res, tls, keep_alive, req->method == "HEAD", reader.http_minor());
    const bool written = co_await io.flush(cfg_.request_timeout);
    // Routine successes of a polled listener (Prometheus scraping /metrics) stay out of the info log.
    const log::Level level = cfg_.quiet_successes && res.status < 400 ? log::Level::debug : log::Level::info;
    log.log(level, "http.request",
            {{"ip", conn->remote_ip},
             {"tls", tls},
             {"host", log_safe(req->host, kLoggedPath)},
             {"method", log_safe(req->method, 16)},
             {"path", log_safe(req->path, kLoggedPath)},
             {"status", res.status},
             {"bytes", res.body.size()},
             {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()}});
    if (!written) co_return;
    if (!keep_alive) {
      co_await io.goodbye();
      co_return;
    }
  }
  co_await io.goodbye();
}

}  // namespace mk::http
