// net/listener.hpp: TCP listeners shared by every protocol server (SMTP, IMAP, ...).
//
// A Listener binds its endpoints, accepts connections, enforces the connection limits
// (refusing the excess with the protocol's own "go away" line), gives each connection a
// strand, a Conn with deadlines and a watchdog, and runs the protocol's handler coroutine.
// shutdown() stops accepting, wakes idle connections so they can say goodbye, and bounds
// how long busy ones may continue.
// SECURITY: limits per IP and in total; every connection has a deadline at all times.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
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
#include "base/metrics.hpp"
#include "base/result.hpp"
#include "net/byte_stream.hpp"
#include "net/conn_limit.hpp"
#include "net/stream.hpp"

namespace mk::net {

using Clock = std::chrono::steady_clock;

// Per-connection I/O state. Lives on the connection's strand; only the strand touches it.
// The stream is a TCP connection (net::Stream) from a Listener, an in-memory one in tests.
struct Conn {
  Conn(std::unique_ptr<ByteStream> s, ConnLimiter::Slot sl, std::string conn_id, std::string ip)
      : stream(std::move(s)),
        timer(stream->get_executor()),
        slot(std::move(sl)),
        id(std::move(conn_id)),
        remote_ip(std::move(ip)) {}

  std::unique_ptr<ByteStream> stream;
  asio::steady_timer timer;
  ConnLimiter::Slot slot;
  std::string id;
  std::string remote_ip;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point session_deadline = Clock::time_point::max();
  bool timed_out = false;           // the watchdog fired; pending I/O was cancelled
  bool closed = false;
  bool idle = false;                // waiting for input outside any transaction
  bool shutdown_requested = false;  // the server is stopping
  std::function<void()> wake;       // optional: how to interrupt a protocol-level wait (IDLE)

  void set_deadline(Clock::time_point t) {
    deadline = t;
    if (t < timer.expiry()) timer.cancel();  // wake the watchdog if it sleeps longer
  }
  void arm(std::chrono::milliseconds d) { set_deadline(Clock::now() + d); }
};

struct ListenerConfig {
  std::string name;  // "smtp", "imap" (log events are "<name>.connect" etc.)
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 20;
  std::chrono::milliseconds session_timeout{std::chrono::minutes(30)};
  std::string refuse_line;  // sent to a connection over the limits, e.g. "421 ...\r\n"
  metrics::Registry* metrics = nullptr;  // connections opened, open and refused, by listener name
};

// Cancels the connection's pending I/O when a deadline passes (conn.deadline or
// conn.session_deadline); the protocol loop then sees conn->timed_out and says goodbye under a
// fresh short deadline. Runs on the connection's strand until conn->closed; the Listener
// starts one per connection (tests start their own).
asio::awaitable<void> watchdog(std::shared_ptr<Conn> conn);

// STARTTLS on a connection: input the client pipelined before the handshake is dropped
// (CVE-2011-0411: nothing sent in cleartext may count as a command under TLS), then the
// handshake runs under the given deadline. pending is the connection's input buffer.
// Failures are logged as "<svc>.tls_failed"; returns whether TLS is now active.
asio::awaitable<bool> start_tls(Conn& conn, TlsContext& ctx, std::string& pending,
                                std::chrono::milliseconds timeout, const log::Logger& log,
                                const std::string& svc);

class Listener {
 public:
  using Handler = std::function<asio::awaitable<void>(std::shared_ptr<Conn>)>;

  Listener(asio::io_context& io, ListenerConfig cfg, log::Logger log, Handler handler);
  ~Listener();

  Status listen(const std::vector<tcp::endpoint>& endpoints);
  std::vector<tcp::endpoint> local_endpoints() const;
  void start();
  void shutdown(std::chrono::milliseconds grace);
  bool stopping() const { return stopping_; }

 private:
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor);

  asio::io_context& io_;
  ListenerConfig cfg_;
  log::Logger log_;
  Handler handler_;
  ConnLimiter limiter_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::atomic<bool> stopping_{false};
  std::mutex conns_mu_;
  std::set<std::shared_ptr<Conn>> conns_;
  // Null without a registry.
  metrics::Counter* accepted_ = nullptr;
  metrics::Counter* refused_ = nullptr;
  metrics::Gauge* open_ = nullptr;
  metrics::Histogram* duration_ = nullptr;
};

}  // namespace mk::net
