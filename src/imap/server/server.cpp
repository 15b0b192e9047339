#include "imap/server/server.hpp"

#include <boost/asio/steady_timer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/login_gate.hpp"
#include "base/strings.hpp"
#include "net/conn_io.hpp"
#include "net/offload.hpp"
#include "store/async_deliver.hpp"

namespace mk::imap {

namespace asio = boost::asio;
using net::Clock;

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
// Buffers larger than this are released once empty, so a connection that once fetched a
// large message does not keep the memory while it sits in IDLE.
constexpr std::size_t kKeepBuffer = 64 * 1024;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kBanned = "* BYE Too many failed logins from your network; try again later\r\n";
}  // namespace

Server::Server(asio::io_context& io, ServerConfig cfg, SessionStore store,
               std::shared_ptr<net::TlsContext> tls, Notifier& notifier, log::Logger log)
    : cfg_(std::move(cfg)),
      store_(store),
      tls_(std::move(tls)),
      notifier_(notifier),
      log_(std::move(log)),
      slots_(cfg_.max_sessions_per_account),
      plain_(io, net::ListenerConfig{"imap", cfg_.max_connections, cfg_.max_connections_per_ip,
                                     cfg_.session_timeout, "* BYE Too many connections\r\n", cfg_.metrics},
             log_, [this](std::shared_ptr<net::Conn> c) { return serve(std::move(c), false); }),
      implicit_(io, net::ListenerConfig{"imap", cfg_.max_connections, cfg_.max_connections_per_ip,
                                        cfg_.session_timeout, "", cfg_.metrics},
                log_, [this](std::shared_ptr<net::Conn> c) { return serve(std::move(c), true); }) {
  cfg_.session.tls_available = tls_ != nullptr;
  cfg_.session.cache = &cache_;
  cfg_.session.flags = &flags_;
  cfg_.session.slots = &slots_;
  cfg_.frame.max_literal = std::max<std::uint64_t>(cfg_.session.max_append_size, 64 * 1024);
}

Status Server::listen(const std::vector<net::tcp::endpoint>& plain,
                      const std::vector<net::tcp::endpoint>& implicit) {
  if (auto s = plain_.listen(plain); !s) return s;
  return implicit_.listen(implicit);
}

void Server::start() {
  plain_.start();
  implicit_.start();
}

void Server::shutdown(std::chrono::milliseconds grace) {
  plain_.shutdown(grace);
  implicit_.shutdown(grace);
}

asio::awaitable<void> Server::serve(std::shared_ptr<net::Conn> conn, bool implicit_tls) {
  const auto started = Clock::now();
  log::Logger log = log_.with({{"conn", conn->id}});
  log.info("imap.connect", {{"ip", conn->remote_ip}, {"tls", implicit_tls}});
  Session session(cfg_.session, store_, conn->remote_ip);
  CommandFramer framer(cfg_.frame);
  net::ConnIo io(*conn, kReadChunk, kKeepBuffer);
  std::string& in = io.in;
  std::string& out = io.out;
  std::string end_reason = "logout";
  bool was_logged_in = false;

  auto timeout_for = [&] { return session.logged_in() ? cfg_.idle_timeout : cfg_.login_timeout; };
  auto flush = [&] { return io.flush(timeout_for()); };
  auth::LoginGate gate(cfg_.session.login, "imap", conn->remote_ip, cfg_.work, log);
  if (co_await gate.banned_at_connect()) {
    // A banned network: a BYE before TLS on 143, nothing on 993.
    if (!implicit_tls) out = kBanned;
    co_await io.goodbye();
    co_return;
  }
  if (implicit_tls) {
    const std::string svc = "imap";
    if (!co_await net::start_tls(*conn, *tls_, in, cfg_.login_timeout, log, svc)) co_return;
    session.on_tls();
  }
  out = plain_.stopping() ? session.on_shutdown().data : session.greeting();
  bool running = !plain_.stopping();
  if (!running) co_await io.goodbye();

  while (running) {
    // Frame the next command from buffered input, reading more as needed.
    std::size_t used = 0;
    const Frame ev = in.empty() ? Frame::need_more : framer.feed(in, used);
    in.erase(0, used);
    if (ev == Frame::need_more) {
      if (!co_await flush()) {
        end_reason = "write error";
        break;
      }
      if (conn->shutdown_requested) {
        out += session.on_shutdown().data;
        co_await io.goodbye();
        end_reason = "shutdown";
        break;
      }
      std::string why;
      if (!co_await io.fill(Clock::now() + timeout_for(), why, net::Wait::idle)) {
        end_reason = why;
        std::string bye = why == "timeout" ? session.on_timeout().data
                          : why == "shutdown" ? session.on_shutdown().data : std::string();
        if (!bye.empty()) {
          out += bye;
          co_await io.goodbye();
        }
        break;
      }
      continue;
    }
    if (ev == Frame::continuation) {
      out += Session::continuation();
      continue;
    }
    if (ev != Frame::command) {
      out += session.on_frame_error(ev).data;
      continue;
    }
    // The command runs on the work pool (net/offload.hpp): the store, argon2id at LOGIN.
    auto run_command = [&] { return session.on_command(framer.take()); };
    Output o = co_await net::offload(session.logged_in() || !cfg_.login_work ? cfg_.work : cfg_.login_work, run_command);
    if (auto auth_ev = session.take_auth_event(); auth_ev && auth_ev->ok) {
      std::string client_name = session.client();
      co_await gate.succeeded(std::move(auth_ev->user), std::move(client_name));
    } else if (auth_ev) {
      // A failed login: answered later and later; a network that keeps failing is banned.
      const auth::Throttle::Verdict verdict = co_await gate.failed(std::move(auth_ev->user));
      if (verdict.banned) {
        out += o.data;
        out += kBanned;
        co_await io.goodbye();
        break;
      }
    }
    if (auto learned = session.take_train_event(); learned && cfg_.on_train) cfg_.on_train(std::move(*learned));
    if (auto failed = session.take_store_error()) log.error("imap.store_failed", {{"error", *failed}});
    auto log_warning = [&] {
      // Stored summaries not read or not saved: the client got its answer from a parse.
      if (auto w = session.take_store_warning()) log.warn("imap.summary_store_failed", {{"error", *w}});
    };
    log_warning();
    if (auto named = session.take_client_event(); named && cfg_.session.login && session.logged_in()) {
      // The client history is a store write (and may send an alert): on the work pool.
      auto identified = [&] { cfg_.session.login->identified("imap", conn->remote_ip, session.user(), *named); };
      co_await net::offload(cfg_.work, identified);
    }
    if (session.logged_in() && !was_logged_in) {
      was_logged_in = true;
      log.info("imap.login", {{"user", session.user()}});
    }
    out += o.data;
    // A large response comes in pieces: each is written before the next is rendered.
    while (o.next == Next::more && running) {
      if (!co_await flush()) {
        running = false;
        break;
      }
      auto more = [&] { return session.on_more(); };
      o = co_await net::offload(cfg_.work, more);
      log_warning();
      out += o.data;
    }
    if (!running) break;
    switch (o.next) {
      case Next::read:
      case Next::more:
        break;
      case Next::compress:
        // The OK goes out uncompressed; what the client sent after it is compressed.
        if (!co_await flush()) {
          running = false;
          break;
        }
        conn->stream->enable_deflate(in);
        in.clear();
        break;
      case Next::close:
        co_await io.goodbye();
        running = false;
        break;
      case Next::start_tls: {
        if (!co_await flush()) {
          running = false;
          break;
        }
        const std::string svc = "imap";
        if (!co_await net::start_tls(*conn, *tls_, in, cfg_.login_timeout, log, svc)) {
          end_reason = "tls failed";
          running = false;
          break;
        }
        session.on_tls();
        break;
      }
      case Next::append: {
        auto msgs = session.take_append();
        auto r = co_await store::async_deliver_all(store_.mail, std::move(msgs), asio::use_awaitable);
        auto appended = [&] { return session.on_appended(r); };
        out += (co_await net::offload(cfg_.work, appended)).data;
        if (auto failed = session.take_store_error()) log.error("imap.append_failed", {{"error", *failed}});
        break;
      }
      case Next::idle: {
        // Updates are pushed by a writer coroutine woken by the notifier, while this one
        // waits for the client's DONE.
        if (!co_await flush()) {
          running = false;
          break;
        }
        auto ex = co_await asio::this_coro::executor;
        auto waker = std::make_shared<asio::steady_timer>(ex, Clock::time_point::max());
        std::weak_ptr<asio::steady_timer> weak = waker;
        const auto token = notifier_.subscribe(session.selected_mailbox(), [ex, weak] {
          asio::post(ex, [weak] {
            if (auto w = weak.lock()) w->cancel();
          });
        });
        conn->wake = [weak] {
          if (auto w = weak.lock()) w->cancel();
        };
        // The pushes: updates are computed on the work pool (state 3), then written (state
        // 1). Whoever ends IDLE (DONE, a timeout, the end of the connection) first waits for a
        // push in progress to settle (back to 0), so the session is never used by two at once
        // and no two writes overlap on the stream.
        auto state = std::make_shared<int>(0);  // 0 idling, 1 writing, 2 done, 3 computing updates
        auto settled = std::make_shared<asio::steady_timer>(ex, Clock::time_point::max());
        asio::co_spawn(ex, [&session, conn, waker, settled, state, work = cfg_.work, log]() -> asio::awaitable<void> {
          try {
            while (*state != 2) {
              co_await waker->async_wait(kTuple);
              if (*state == 2 || conn->closed) break;
              waker->expires_at(Clock::time_point::max());
              *state = 3;
              auto pending = [&session] { return session.updates(); };
              std::string u = co_await net::offload(work, pending);
              *state = 1;
              if (!u.empty()) (void)co_await conn->stream->write_all(u);
              *state = 0;
              settled->cancel();
            }
          } catch (const std::exception& e) {
            // A bug or resource exhaustion (STYLE.md): no more pushes in this IDLE; the client
            // still gets the updates at its next command.
            log.error("imap.idle_push_failed", {{"error", e.what()}});
            if (*state != 2) *state = 0;
          }
          settled->cancel();
        }, asio::detached);
        auto settle = [&]() -> asio::awaitable<void> {
          while (*state == 1 || *state == 3) {
            settled->expires_at(Clock::time_point::max());
            co_await settled->async_wait(kTuple);
          }
        };
        std::string why;
        bool done = false;
        while (!done) {
          std::size_t n = 0;
          const Frame f = in.empty() ? Frame::need_more : framer.feed(in, n);
          in.erase(0, n);
          if (f == Frame::command) {
            co_await settle();  // let a push finish
            *state = 2;
            auto line = [&] { return session.on_idle_line(framer.take()); };
            out += (co_await net::offload(cfg_.work, line)).data;
            done = true;
            break;
          }
          if (f != Frame::need_more) continue;
          if (!co_await io.fill(Clock::now() + cfg_.idle_timeout, why, net::Wait::idle)) break;
        }
        if (!done) conn->arm(net::kGoodbyeTimeout);  // a push still writing to a gone client ends
        co_await settle();
        *state = 2;
        waker->cancel();
        notifier_.unsubscribe(token);
        conn->wake = nullptr;
        if (!done) {
          end_reason = why;
          std::string bye = why == "timeout" ? session.on_timeout().data
                            : why == "shutdown" ? session.on_shutdown().data : std::string();
          if (!bye.empty()) {
            out += bye;
            co_await io.goodbye();
          }
          running = false;
        }
        break;
      }
    }
  }
  conn->closed = true;
  conn->timer.cancel();
  log.info("imap.disconnect",
           {{"reason", end_reason},
            {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()}});
}

}  // namespace mk::imap
