// smtp/server.hpp: the SMTP listeners and connection loop: inbound MX (port 25), or, with
// session.submission set, message submission (587 with STARTTLS, 465 with implicit TLS).
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

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "auth/login.hpp"
#include "base/log.hpp"
#include "net/listener.hpp"
#include "net/tls.hpp"
#include "smtp/hooks.hpp"
#include "smtp/session.hpp"
#include "srs/srs.hpp"
#include "store/credentials.hpp"
#include "store/directory.hpp"
#include "store/keys.hpp"
#include "store/mail.hpp"
#include "store/roles.hpp"

namespace mk::smtp {

struct ServerConfig {
  std::string name = "smtp";  // log prefix and listener name: "smtp" or "submission"
  SessionConfig session;
  // Development: mail for other domains goes to the sender's "Captured" folder instead of
  // the outbound queue, so nothing leaves the machine.
  bool capture_remote = false;
  // Called after a message with remote recipients was queued (wakes the outbound runner).
  std::function<void()> on_queued;
  // The inbound pipeline (port 25 only); none: messages are stored as received.
  Pipeline* pipeline = nullptr;
  // Forwarding (aliases to other domains): the envelope sender of forwarded copies is
  // rewritten with SRS, and bounces to our SRS addresses go back to the original sender.
  const srs::Srs* srs = nullptr;
  // Submission logins: the breached-password list and what to do about it.
  const auth::LoginPolicy* login = nullptr;
  SubmissionGuard* guard = nullptr;  // submission only
  // Submission: a message the account sent, once it is stored and queued (the spam filter
  // learns from what it replies to); must not block.
  std::function<void(std::int64_t account_id, const message::Parsed& msg)> on_submitted;
  // Submission: a message an account sends to itself that becomes something else (a lone
  // link to its own "+tag" address becomes that page's preview: share/by_mail.hpp). nullopt:
  // deliver the message as it is; else the outcome of storing what replaced it, which is
  // what the client is told. Runs on the connection's strand; it may wait (a page fetch).
  std::function<boost::asio::awaitable<std::optional<Status>>(const Transaction& txn, const message::Parsed& msg,
                                                              std::string account)>
      to_self;
  // Where work that may block runs (net/offload.hpp); null: on the io threads (tests).
  boost::asio::thread_pool* work = nullptr;
  // Where a client that has not logged in yet is served (argon2id at LOGIN/AUTH): apart, so
  // a burst of logins never queues the logged-in users' work; null: on `work`.
  boost::asio::thread_pool* login_work = nullptr;
  // Connections, messages by outcome, refusals by status code, store latency; null: none.
  metrics::Registry* metrics = nullptr;
  // session.max_connections, max_connections_per_ip and the timeouts (smtp/limits.hpp) are
  // the listener's and the connection loop's.
};

// The store roles the server uses: recipients and their accounts (Directory), logins and
// submission's sender check (Credentials), the DKIM keys it signs with (Keys), and the
// mailboxes it delivers into (Mail).
struct ServerStore {
  store::Directory& directory;
  store::Credentials& credentials;
  store::Keys& keys;
  store::Mail& mail;
  template <store::Provides<store::Directory, store::Credentials, store::Keys, store::Mail> S>
  ServerStore(S& s) : directory(s), credentials(s), keys(s), mail(s) {}  // NOLINT: implicit by design
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerConfig cfg, ServerStore store,
         std::shared_ptr<net::TlsContext> tls, log::Logger log);

  // Binds every endpoint (SO_REUSEADDR); fails on the first that cannot be bound.
  // implicit: endpoints where TLS starts on connect (465).
  Status listen(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                const std::vector<boost::asio::ip::tcp::endpoint>& implicit = {}) {
    if (auto s = listener_.listen(endpoints); !s) return s;
    return implicit_.listen(implicit);
  }
  std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const {
    return listener_.local_endpoints();
  }
  std::vector<boost::asio::ip::tcp::endpoint> tls_endpoints() const { return implicit_.local_endpoints(); }
  void start() {
    listener_.start();
    implicit_.start();
  }
  // Stops accepting; idle connections get 421 now, transactions in progress may finish
  // until the grace period ends, then every connection is closed.
  void shutdown(std::chrono::milliseconds grace) {
    listener_.shutdown(grace);
    implicit_.shutdown(grace);
  }

  // One connection, from the greeting (after the handshake on an implicit TLS port) to the
  // close. The listeners call it for each connection they accept; tests, over an in-memory
  // stream. Runs on the connection's strand, beside the connection's watchdog.
  boost::asio::awaitable<void> serve(std::shared_ptr<net::Conn> conn, bool implicit_tls);

 private:
  void capture(store::NewMessage& msg);
  static void apply(Transaction& txn, const PipelineDecision& d);
  void dkim_sign(Transaction& txn, const log::Logger& log);
  void count_message(std::string_view outcome, std::string_view reason);
  void count_refusal(const Reply& reply);
  static std::string_view content_refusal(std::string_view enhanced);
  void count_received(bool tls, const std::string& dmarc);

  ServerConfig cfg_;
  ServerStore store_;
  std::shared_ptr<net::TlsContext> tls_;
  log::Logger log_;
  net::Listener listener_;
  net::Listener implicit_;
  metrics::Histogram* store_seconds_ = nullptr;  // null without a registry
  metrics::Histogram* verdict_cpu_ = nullptr;    // null without a registry or a pipeline
};

}  // namespace mk::smtp
