#include "net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::net {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// After a failed accept (out of descriptors): how long the loop waits before the next.
constexpr std::chrono::milliseconds kAcceptPause{200};
// Bound on writing the refusal line to a connection over the limits.
constexpr std::chrono::seconds kRefuseTimeout{5};

asio::awaitable<void> refuse(tcp::socket sock, std::string line) {
  asio::steady_timer t(sock.get_executor());
  t.expires_after(kRefuseTimeout);
  t.async_wait([&sock](boost::system::error_code ec) {
    if (!ec) sock.close(ec);
  });
  co_await asio::async_write(sock, asio::buffer(line), kTuple);
  t.cancel();
  boost::system::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

}  // namespace

asio::awaitable<void> watchdog(std::shared_ptr<Conn> conn) {
  while (!conn->closed) {
    conn->timer.expires_at(std::min(conn->deadline, conn->session_deadline));
    co_await conn->timer.async_wait(kTuple);
    if (conn->closed) co_return;
    const auto now = Clock::now();
    if (now >= conn->deadline || now >= conn->session_deadline) {
      conn->timed_out = true;
      conn->stream->cancel();
      if (conn->wake) conn->wake();
      conn->deadline = Clock::time_point::max();
      if (now >= conn->session_deadline) conn->session_deadline = Clock::time_point::max();
    }
  }
}

asio::awaitable<bool> start_tls(Conn& conn, TlsContext& ctx, std::string& pending,
                                std::chrono::milliseconds timeout, const log::Logger& log,
                                const std::string& svc) {
  if (!pending.empty()) {
    log.warn(svc + ".starttls_injection", {{"discarded_bytes", pending.size()}});
    pending.clear();
  }
  conn.arm(timeout);
  auto ec = co_await conn.stream->start_tls(ctx);
  if (ec || conn.timed_out) {
    log.info(svc + ".tls_failed", {{"error", conn.timed_out ? "timeout" : ec.message()}});
    co_return false;
  }
  co_return true;
}

Listener::Listener(asio::io_context& io, ListenerConfig cfg, log::Logger log, Handler handler)
    : io_(io),
      cfg_(std::move(cfg)),
      log_(std::move(log)),
      handler_(std::move(handler)),
      limiter_(cfg_.max_connections, cfg_.max_connections_per_ip) {
  if (cfg_.metrics) {
    const metrics::Labels l{{"listener", cfg_.name}};
    accepted_ = &cfg_.metrics->counter("mailkeep_connections_total", "Connections accepted, by listener.", l);
    refused_ = &cfg_.metrics->counter("mailkeep_connections_refused_total",
                                      "Connections refused by the connection limits, by listener.", l);
    open_ = &cfg_.metrics->gauge("mailkeep_connections_open", "Connections open now, by listener.", l);
    duration_ = &cfg_.metrics->histogram("mailkeep_session_duration_seconds",
                                         "How long connections (sessions) lasted, by listener.",
                                         {0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600}, l);
  }
}

Listener::~Listener() = default;

Status Listener::listen(const std::vector<tcp::endpoint>& endpoints) {
  for (const auto& ep : endpoints) {
    auto acc = std::make_unique<tcp::acceptor>(io_);
    boost::system::error_code ec;
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return err(fmt::format("cannot listen on {}:{} ({}): {}", ep.address().to_string(), ep.port(),
                             cfg_.name, ec.message()));
    }
    acceptors_.push_back(std::move(acc));
  }
  return {};
}

std::vector<tcp::endpoint> Listener::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

void Listener::start() {
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    const auto at = a->local_endpoint(ec);
    asio::co_spawn(
        io_, accept_loop(*a),
        log::LogThrown{log_.with({{"address", ec ? std::string("?") : at.address().to_string()},
                                  {"port", ec ? 0 : at.port()}}),
                       cfg_.name + ".accept_loop_failed"});
  }
}

asio::awaitable<void> Listener::accept_loop(tcp::acceptor& acceptor) {
  while (!stopping_) {
    auto strand = asio::make_strand(io_);
    tcp::socket sock(strand);
    auto [ec] = co_await acceptor.async_accept(sock, kTuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      log_.warn(cfg_.name + ".accept_error", {{"error", ec.message()}});
      // Out of descriptors (EMFILE) fails every accept at once: pause instead of spinning.
      asio::steady_timer pause(io_, kAcceptPause);
      co_await pause.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ep_ec;
    // Replies are written whole; Nagle would only delay them (e.g. IDLE pushes).
    sock.set_option(tcp::no_delay(true), ep_ec);
    const auto remote = sock.remote_endpoint(ep_ec);
    if (ep_ec) continue;
    auto addr = remote.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    const std::string ip = addr.to_string();
    ConnLimiter::Refusal why;
    auto slot = limiter_.acquire(ip, why);
    if (!slot) {
      if (refused_) refused_->inc();
      log_.warn(cfg_.name + ".refused",
                {{"ip", ip},
                 {"reason", why == ConnLimiter::Refusal::per_ip ? "too many connections from this IP"
                                                                : "too many connections"}});
      asio::co_spawn(strand, refuse(std::move(sock), cfg_.refuse_line), asio::detached);
      continue;
    }
    auto conn = std::make_shared<Conn>(std::make_unique<Stream>(std::move(sock)), std::move(*slot),
                                       random_id(6), ip);
    if (accepted_) accepted_->inc(), open_->add(1);
    conn->session_deadline = Clock::now() + cfg_.session_timeout;
    {
      std::lock_guard lock(conns_mu_);
      conns_.insert(conn);
    }
    asio::co_spawn(strand, watchdog(conn),
                   log::LogThrown{log_.with({{"conn", conn->id}}), cfg_.name + ".watchdog_failed"});
    asio::co_spawn(strand, handler_(conn), [this, conn, started = Clock::now()](std::exception_ptr e) {
      if (e) log::LogThrown{log_.with({{"conn", conn->id}}), cfg_.name + ".conn_exception"}(e);
      conn->closed = true;
      conn->timer.cancel();
      conn->stream->close();
      if (open_) {
        open_->add(-1);
        duration_->observe(std::chrono::duration<double>(Clock::now() - started).count());
      }
      std::lock_guard lock(conns_mu_);
      conns_.erase(conn);
    });
  }
}

void Listener::shutdown(std::chrono::milliseconds grace) {
  stopping_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(conns_mu_);
    conns.assign(conns_.begin(), conns_.end());
  }
  for (auto& c : conns) {
    asio::post(c->stream->get_executor(), [c, grace] {
      c->shutdown_requested = true;
      if (c->idle) {
        c->stream->cancel();
        if (c->wake) c->wake();
      }
      // Work in progress gets until the grace period ends.
      const auto limit = Clock::now() + grace;
      if (c->session_deadline > limit) {
        c->session_deadline = limit;
        c->timer.cancel();  // re-arm the watchdog with the earlier deadline
      }
    });
  }
}

}  // namespace mk::net
