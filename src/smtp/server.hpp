// smtp/server.hpp: the SMTP listener and connection loop (port 25, inbound MX).
//
// Each connection is one coroutine on its own strand that moves bytes between the socket
// and a sans-I/O smtp::Session. A watchdog coroutine enforces the per-state deadlines
// (command, data, write) and the total session limit by cancelling pending I/O.
//
// SECURITY: connection limits per IP and in total; input pipelined behind STARTTLS is
// discarded before the handshake (CVE-2011-0411); replies to pipelined commands are
// flushed when no further complete command is buffered (RFC 2920 §3.2); 250 after DATA is
// sent only once the store reports the message durable.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/log.hpp"
#include "net/conn_limit.hpp"
#include "net/tls.hpp"
#include "smtp/session.hpp"
#include "store/store.hpp"

namespace mk::smtp {

struct ServerConfig {
  SessionConfig session;
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 20;
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds data_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds session_timeout{std::chrono::minutes(30)};
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerConfig cfg, store::Store& store,
         std::shared_ptr<net::TlsContext> tls, log::Logger log);
  ~Server();

  // Binds every endpoint (SO_REUSEADDR); fails on the first that cannot be bound.
  Status listen(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints);
  std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;
  void start();
  // Stops accepting; idle connections get 421 now, transactions in progress may finish
  // until the grace period ends, then every connection is closed.
  void shutdown(std::chrono::milliseconds grace);

  struct Conn;

 private:
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);
  boost::asio::awaitable<void> run_conn(std::shared_ptr<Conn> conn);
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket sock, std::string reply);

  boost::asio::io_context& io_;
  ServerConfig cfg_;
  store::Store& store_;
  std::shared_ptr<net::TlsContext> tls_;
  log::Logger log_;
  net::ConnLimiter limiter_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::atomic<bool> stopping_{false};
  std::mutex conns_mu_;
  std::set<std::shared_ptr<Conn>> conns_;
};

}  // namespace mk::smtp
