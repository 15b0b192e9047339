#include "smtp/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "net/stream.hpp"
#include "smtp/local_delivery.hpp"

namespace mk::smtp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 64 * 1024;
// Bound on the final reply write when we are closing on the peer (timeout, shutdown).
constexpr std::chrono::seconds kCloseWriteTimeout{5};

// Completes with the store's verdict on the connection's own executor, keeping the
// io_context alive while the group commit runs on the store thread.
template <class Token>
auto async_deliver(store::Store& store, store::NewMessage msg, Token&& token) {
  return asio::async_initiate<Token, void(Status)>(
      [&store](auto handler, store::NewMessage m) {
        using H = decltype(handler);
        auto ex = asio::get_associated_executor(handler);
        struct State {
          H handler;
          asio::executor_work_guard<decltype(ex)> work;
        };
        auto st = std::make_shared<State>(State{std::move(handler), asio::make_work_guard(ex)});
        store.deliver(std::move(m), [st, ex](store::DeliverResult r) {
          Status s = r.ok() ? Status() : Status(r.error());
          asio::post(ex, [st, s = std::move(s)]() mutable { st->handler(std::move(s)); });
        });
      },
      token, std::move(msg));
}

}  // namespace

struct Server::Conn {
  Conn(tcp::socket sock, net::ConnLimiter::Slot s, std::string conn_id, std::string ip)
      : stream(std::move(sock)),
        timer(stream.socket().get_executor()),
        slot(std::move(s)),
        id(std::move(conn_id)),
        remote_ip(std::move(ip)) {}

  net::Stream stream;
  asio::steady_timer timer;
  net::ConnLimiter::Slot slot;
  std::string id;
  std::string remote_ip;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point session_deadline = Clock::time_point::max();
  bool timed_out = false;
  bool closed = false;
  bool idle = false;               // waiting for a command outside a transaction
  bool shutdown_requested = false;  // set on the strand by Server::shutdown

  void set_deadline(Clock::time_point t) {
    deadline = t;
    // Wake the watchdog if it sleeps until a later time.
    if (t < timer.expiry()) timer.cancel();
  }
  void arm(std::chrono::milliseconds d) { set_deadline(Clock::now() + d); }
};

Server::Server(asio::io_context& io, ServerConfig cfg, store::Store& store,
               std::shared_ptr<net::TlsContext> tls, log::Logger log)
    : io_(io),
      cfg_(std::move(cfg)),
      store_(store),
      tls_(std::move(tls)),
      log_(std::move(log)),
      limiter_(cfg_.max_connections, cfg_.max_connections_per_ip) {
  cfg_.session.starttls_available = tls_ != nullptr;
}

Server::~Server() = default;

Status Server::listen(const std::vector<tcp::endpoint>& endpoints) {
  for (const auto& ep : endpoints) {
    auto acc = std::make_unique<tcp::acceptor>(io_);
    boost::system::error_code ec;
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return err(fmt::format("cannot listen on {}:{}: {}", ep.address().to_string(), ep.port(),
                             ec.message()));
    }
    acceptors_.push_back(std::move(acc));
  }
  return {};
}

std::vector<tcp::endpoint> Server::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

void Server::start() {
  for (auto& a : acceptors_) asio::co_spawn(io_, accept_loop(*a), asio::detached);
}

asio::awaitable<void> Server::refuse(tcp::socket sock, std::string reply) {
  asio::steady_timer t(sock.get_executor());
  t.expires_after(kCloseWriteTimeout);
  t.async_wait([&sock](boost::system::error_code ec) {
    if (!ec) sock.close(ec);
  });
  co_await asio::async_write(sock, asio::buffer(reply), kTuple);
  t.cancel();
  boost::system::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

asio::awaitable<void> Server::accept_loop(tcp::acceptor& acceptor) {
  while (!stopping_) {
    auto strand = asio::make_strand(io_);
    tcp::socket sock(strand);
    auto [ec] = co_await acceptor.async_accept(sock, kTuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      log_.warn("smtp.accept_error", {{"error", ec.message()}});
      continue;
    }
    boost::system::error_code ep_ec;
    const auto remote = sock.remote_endpoint(ep_ec);
    if (ep_ec) continue;
    std::string ip = remote.address().to_string();
    if (remote.address().is_v6() && remote.address().to_v6().is_v4_mapped())
      ip = asio::ip::make_address_v4(asio::ip::v4_mapped, remote.address().to_v6()).to_string();
    net::ConnLimiter::Refusal why;
    auto slot = limiter_.acquire(ip, why);
    if (!slot) {
      log_.warn("smtp.refused", {{"ip", ip},
                                 {"reason", why == net::ConnLimiter::Refusal::per_ip
                                                ? "too many connections from this IP"
                                                : "too many connections"}});
      asio::co_spawn(strand, refuse(std::move(sock), Reply(421, "4.7.0",
                                                           cfg_.session.hostname +
                                                               " Too many connections, try again later")
                                                         .wire()),
                     asio::detached);
      continue;
    }
    auto conn = std::make_shared<Conn>(std::move(sock), std::move(*slot), random_id(6), ip);
    {
      std::lock_guard lock(conns_mu_);
      conns_.insert(conn);
    }
    asio::co_spawn(strand, run_conn(conn), [this, conn](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log_.error("smtp.conn_exception", {{"conn", conn->id}, {"error", ex.what()}});
        }
      }
      conn->closed = true;
      conn->stream.close();
      std::lock_guard lock(conns_mu_);
      conns_.erase(conn);
    });
  }
}

namespace {

asio::awaitable<void> watchdog(std::shared_ptr<Server::Conn> conn) {
  while (!conn->closed) {
    conn->timer.expires_at(std::min(conn->deadline, conn->session_deadline));
    co_await conn->timer.async_wait(kTuple);
    if (conn->closed) co_return;
    const auto now = Clock::now();
    if (now >= conn->deadline || now >= conn->session_deadline) {
      conn->timed_out = true;
      conn->stream.cancel();
      // The main loop takes over: it writes a 421 under a fresh short deadline.
      conn->deadline = Clock::time_point::max();
      if (now >= conn->session_deadline) conn->session_deadline = Clock::time_point::max();
    }
  }
}

}  // namespace

asio::awaitable<void> Server::run_conn(std::shared_ptr<Conn> conn) {
  const auto started = Clock::now();
  log::Logger log = log_.with({{"conn", conn->id}});
  log.info("smtp.connect", {{"ip", conn->remote_ip}});
  boost::system::error_code ec;
  const auto local = conn->stream.socket().local_endpoint(ec);
  LocalRecipients recipients(store_);
  Session session(cfg_.session, recipients,
                  ConnInfo{conn->id, conn->remote_ip, ec ? "" : local.address().to_string()});
  conn->session_deadline = started + cfg_.session_timeout;
  conn->arm(cfg_.command_timeout);
  asio::co_spawn(co_await asio::this_coro::executor, watchdog(conn), asio::detached);

  std::string in;
  std::string out;
  bool discarding = false;  // skipping the rest of an over-long command line
  std::string end_reason = "quit";

  // Writes pending replies under the given deadline; false if the peer is gone.
  auto flush = [&](std::chrono::milliseconds limit) -> asio::awaitable<bool> {
    if (out.empty()) co_return true;
    conn->arm(limit);
    auto wec = co_await conn->stream.write_all(out);
    out.clear();
    co_return !wec;
  };
  // Reads more input under the given deadline; false on EOF, error, timeout or shutdown.
  auto fill = [&](std::chrono::milliseconds limit, std::string& why) -> asio::awaitable<bool> {
    const std::size_t old = in.size();
    in.resize(old + kReadChunk);
    auto [rec, n] = co_await conn->stream.read_some(asio::buffer(in.data() + old, kReadChunk));
    in.resize(old + n);
    if (conn->timed_out) co_return why = "timeout", false;
    if (rec == asio::error::operation_aborted && conn->shutdown_requested) co_return why = "shutdown", false;
    if (rec) co_return why = (rec == asio::error::eof ? "eof" : rec.message()), false;
    (void)limit;
    co_return true;
  };

  Step step = session.greet();
  if (stopping_) step = session.on_shutdown();
  for (;;) {
    if (step.reply) {
      out += step.reply->wire();
      if (step.reply->code >= 400) {
        log.info("smtp.reply", {{"code", step.reply->code},
                                {"enhanced", step.reply->enhanced},
                                {"text", step.reply->lines.empty() ? "" : step.reply->lines[0]}});
      }
    }
    if (step.next == Next::close) {
      conn->timed_out = false;
      co_await flush(std::chrono::duration_cast<std::chrono::milliseconds>(kCloseWriteTimeout));
      co_await conn->stream.shutdown();
      break;
    }
    if (step.next == Next::start_tls) {
      if (!co_await flush(cfg_.command_timeout)) { end_reason = "write error"; break; }
      // CVE-2011-0411: nothing the client sent before the handshake may count as a command
      // under TLS.
      if (!in.empty()) {
        log.warn("smtp.starttls_injection", {{"discarded_bytes", in.size()}});
        in.clear();
      }
      conn->arm(cfg_.command_timeout);
      auto hec = co_await conn->stream.start_tls(*tls_);
      if (hec || conn->timed_out) {
        log.info("smtp.tls_failed", {{"error", conn->timed_out ? "timeout" : hec.message()}});
        end_reason = "tls failed";
        break;
      }
      auto sum = net::summarize(conn->stream.ssl());
      log.info("smtp.tls", {{"version", sum.version}, {"cipher", sum.cipher}});
      step = session.on_tls(TlsInfo{sum.version, sum.cipher, sum.bits});
      continue;
    }
    if (step.next == Next::deliver) {
      auto& txn = session.transaction();
      auto msg = to_new_message(txn);
      const std::size_t size = txn.message.size();
      auto st = co_await async_deliver(store_, std::move(msg), asio::use_awaitable);
      if (st) {
        log.info("smtp.delivered", {{"id", txn.id},
                                    {"from", txn.mail.path.null ? std::string("<>") : log_safe(txn.mail.path.mailbox.canonical())},
                                    {"rcpts", txn.rcpts.size()},
                                    {"size", size},
                                    {"tls", txn.tls}});
      } else {
        log.error("smtp.deliver_failed", {{"id", txn.id}, {"error", st.error().message}});
      }
      step = session.on_delivered(st.ok(), st ? "" : "storage error");
      continue;
    }
    if (step.next == Next::read_data || step.next == Next::read_chunk) {
      // The whole message content is bounded by data_timeout.
      const auto data_deadline = Clock::now() + cfg_.data_timeout;
      if (!co_await flush(cfg_.command_timeout)) { end_reason = "write error"; break; }
      std::optional<Step> done;
      for (;;) {
        if (!in.empty() || (step.next == Next::read_chunk && session.chunk_remaining() == 0)) {
          std::size_t used = 0;
          done = step.next == Next::read_data ? session.on_data(in, used) : session.on_chunk(in, used);
          in.erase(0, used);
          if (done) break;
        }
        conn->set_deadline(data_deadline);
        std::string why;
        if (!co_await fill(cfg_.data_timeout, why)) {
          end_reason = why;
          break;
        }
      }
      if (!done) {
        if (end_reason == "timeout") { step = session.on_timeout(); continue; }
        break;
      }
      step = *done;
      continue;
    }
    // Next::read_command
    std::optional<Step> next;
    for (;;) {
      if (discarding) {
        bool found = false;
        in.erase(0, skip_to_lf(in, found));
        if (found) discarding = false;
      }
      if (!discarding && !in.empty()) {
        auto r = next_line(in, kMaxCommandLine);
        if (r.status == LineStatus::line) {
          std::string line(r.line);
          in.erase(0, r.consumed);
          auto verb = parse_command(line).name;
          log.debug("smtp.command", {{"verb", log_safe(verb, 16)}});
          next = session.on_command(line);
          break;
        }
        if (r.status != LineStatus::need_more) {
          if (r.status == LineStatus::too_long && r.consumed == in.size() &&
              in.find('\n') == std::string::npos)
            discarding = true;
          in.erase(0, r.consumed);
          next = session.on_line_error(r.status);
          break;
        }
      }
      // No complete command buffered: send the replies gathered so far (RFC 2920 §3.2).
      if (!co_await flush(cfg_.command_timeout)) { end_reason = "write error"; break; }
      const bool in_txn = session.state() != Session::State::greeted &&
                          session.state() != Session::State::ready;
      if (conn->shutdown_requested && !in_txn) {
        next = session.on_shutdown();
        break;
      }
      conn->idle = !in_txn;
      conn->arm(cfg_.command_timeout);
      std::string why;
      const bool ok = co_await fill(cfg_.command_timeout, why);
      conn->idle = false;
      if (!ok) {
        if (why == "timeout") next = session.on_timeout();
        else if (why == "shutdown") next = session.on_shutdown();
        else end_reason = why;
        break;
      }
    }
    if (!next) break;
    step = *next;
  }
  conn->closed = true;
  conn->timer.cancel();
  log.info("smtp.disconnect",
           {{"reason", end_reason},
            {"messages", session.accepted_messages()},
            {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()}});
}

void Server::shutdown(std::chrono::milliseconds grace) {
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
    asio::post(c->stream.socket().get_executor(), [c, grace] {
      c->shutdown_requested = true;
      if (c->idle) c->stream.cancel();
      // Transactions in progress get until the grace period ends.
      const auto limit = Clock::now() + grace;
      if (c->session_deadline > limit) {
        c->session_deadline = limit;
        c->timer.cancel();  // re-arm the watchdog with the earlier deadline
      }
    });
  }
}

}  // namespace mk::smtp
