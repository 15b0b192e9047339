// http/server.hpp: the web server inside mailkeep (HTTP on port 80, HTTPS on 443).
//
// One connection loop per client, on the listeners every protocol shares (net/listener.hpp:
// connection limits in total and per IP, a watchdog on every read and write, a clean
// shutdown). Requests are parsed by Boost.Beast's parser fed from the connection's buffer
// (sans-I/O: the loop reads, the parser only sees bytes), answered by the Router on the work
// pool, and written with the headers every response carries. HTTP/1.1 keep-alive, HTTP/1.0,
// HEAD, Expect: 100-continue. One access-log line per request.
// STANDARDS: RFC 9110, RFC 9112 (HTTP/1.1), RFC 6797 (HSTS, via security_headers).
// SECURITY: the header must arrive whole within header_timeout (slowloris), its size and
// the body's are capped (431, 413), a kept-alive connection waits at most idle_timeout and
// serves at most max_requests_per_connection. A malformed request gets 400 and the
// connection is closed. The access log names the path but never the query, cookies or
// credentials.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "base/log.hpp"
#include "base/result.hpp"
#include "http/limits.hpp"
#include "http/router.hpp"
#include "net/listener.hpp"
#include "net/tls.hpp"

namespace mk::http {

struct ServerConfig : Limits {
  // Handlers run here (they may read the store); inline without a pool (tests).
  boost::asio::thread_pool* work = nullptr;
  // Requests `slow` picks (a password login: argon2id) run here instead, apart from the work
  // every other service shares, so a flood of logins cannot starve mail. Null: on `work`.
  boost::asio::thread_pool* login_work = nullptr;
  std::function<bool(const Request&)> slow;
  metrics::Registry* metrics = nullptr;  // connections; null: none
  bool quiet_successes = false;  // answered requests (< 400) are logged at debug level
};

class Server {
 public:
  // tls: the HTTPS listeners' context (null: no HTTPS).
  Server(boost::asio::io_context& io, ServerConfig cfg, const Router& router,
         std::shared_ptr<net::TlsContext> tls, log::Logger log);

  Status listen(const std::vector<net::tcp::endpoint>& plain, const std::vector<net::tcp::endpoint>& tls);
  std::vector<net::tcp::endpoint> endpoints() const { return plain_.local_endpoints(); }
  std::vector<net::tcp::endpoint> tls_endpoints() const { return secure_.local_endpoints(); }
  void start();
  void shutdown(std::chrono::milliseconds grace);

  // One connection, until it ends (tests drive it over an in-memory stream).
  boost::asio::awaitable<void> serve(std::shared_ptr<net::Conn> conn, bool tls);

 private:
  ServerConfig cfg_;
  const Router& router_;
  std::shared_ptr<net::TlsContext> tls_;
  log::Logger log_;
  net::Listener plain_;
  net::Listener secure_;
};

// The status line and header fields of a response (its Date, Content-Length, the security
// headers, Connection: close when closing), then the content unless head_only.
std::string serialize(const Response& r, bool tls, bool keep_alive, bool head_only, int http_minor);

}  // namespace mk::http
