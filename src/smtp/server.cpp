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
#include "store/async_deliver.hpp"

namespace mk::smtp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = net::Clock;
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 64 * 1024;
// Bound on the final reply write when we are closing on the peer (timeout, shutdown).
constexpr std::chrono::seconds kCloseWriteTimeout{5};

}  // namespace

Server::Server(asio::io_context& io, ServerConfig cfg, store::Store& store,
               std::shared_ptr<net::TlsContext> tls, log::Logger log)
    : cfg_(std::move(cfg)),
      store_(store),
      tls_(std::move(tls)),
      log_(std::move(log)),
      listener_(io,
                net::ListenerConfig{"smtp", cfg_.max_connections, cfg_.max_connections_per_ip,
                                    cfg_.session_timeout,
                                    Reply(421, "4.7.0", cfg_.session.hostname +
                                                            " Too many connections, try again later")
                                        .wire()},
                log_, [this](std::shared_ptr<net::Conn> c) { return run_conn(std::move(c)); }) {
  cfg_.session.starttls_available = tls_ != nullptr;
}

asio::awaitable<void> Server::run_conn(std::shared_ptr<net::Conn> conn) {
  const auto started = Clock::now();
  log::Logger log = log_.with({{"conn", conn->id}});
  log.info("smtp.connect", {{"ip", conn->remote_ip}});
  boost::system::error_code ec;
  const auto local = conn->stream.socket().local_endpoint(ec);
  LocalRecipients recipients(store_);
  Session session(cfg_.session, recipients,
                  ConnInfo{conn->id, conn->remote_ip, ec ? "" : local.address().to_string()});
  conn->arm(cfg_.command_timeout);

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
  if (listener_.stopping()) step = session.on_shutdown();
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
      const std::string svc = "smtp";
      if (!co_await net::start_tls(*conn, *tls_, in, cfg_.command_timeout, log, svc)) {
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
      auto res = co_await store::async_deliver(store_, std::move(msg), asio::use_awaitable);
      Status st = res.ok() ? Status() : Status(res.error());
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

}  // namespace mk::smtp
