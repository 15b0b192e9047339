// imap/server/server.hpp: the IMAP listeners (143 with STARTTLS, 993 with implicit TLS) and
// the connection loop that moves bytes between the socket, the command framer and a
// sans-I/O imap::Session.
// SECURITY: input pipelined behind STARTTLS is discarded before the handshake; the
// connection limits and deadlines of net::Listener apply; APPEND answers OK only after the
// store's group commit made the message durable.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "base/log.hpp"
#include "imap/proto/framer.hpp"
#include "imap/server/account_slots.hpp"
#include "imap/server/notifier.hpp"
#include "imap/server/session.hpp"
#include "imap/server/summary_cache.hpp"
#include "imap/server/limits.hpp"
#include "net/listener.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"

namespace mk::imap {

// Memory for cached ENVELOPE/BODYSTRUCTURE data (about 1 KiB per message).
inline constexpr std::size_t kSummaryCacheBytes = 64ull << 20;

struct ServerConfig : Limits {
  SessionConfig session;
  FrameLimits frame;
  // Where commands run (net/offload.hpp); null: on the io threads (tests).
  boost::asio::thread_pool* work = nullptr;
  // Where a client that has not logged in yet is served (argon2id at LOGIN/AUTH): apart, so
  // a burst of logins never queues the logged-in users' work; null: on `work`.
  boost::asio::thread_pool* login_work = nullptr;
  // Messages moved into or out of Junk (Session::TrainEvent), for the spam filter; must not block.
  std::function<void(Session::TrainEvent)> on_train;
  metrics::Registry* metrics = nullptr;  // connections and sessions; null: none
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerConfig cfg, SessionStore store,
         std::shared_ptr<net::TlsContext> tls, Notifier& notifier, log::Logger log);

  // plain: STARTTLS listeners; implicit: TLS-on-connect listeners.
  Status listen(const std::vector<net::tcp::endpoint>& plain,
                const std::vector<net::tcp::endpoint>& implicit);
  std::vector<net::tcp::endpoint> plain_endpoints() const { return plain_.local_endpoints(); }
  std::vector<net::tcp::endpoint> tls_endpoints() const { return implicit_.local_endpoints(); }
  void start();
  void shutdown(std::chrono::milliseconds grace);

  // One connection, from the greeting (after the handshake on an implicit TLS port) to the
  // close. The listeners call it for each connection they accept; tests, over an in-memory
  // stream. Runs on the connection's strand, beside the connection's watchdog.
  boost::asio::awaitable<void> serve(std::shared_ptr<net::Conn> conn, bool implicit_tls);

 private:

  ServerConfig cfg_;
  SessionStore store_;
  std::shared_ptr<net::TlsContext> tls_;
  Notifier& notifier_;
  log::Logger log_;
  SummaryCache cache_{kSummaryCacheBytes};
  FlagTable flags_;
  AccountSlots slots_;
  net::Listener plain_;
  net::Listener implicit_;
};

}  // namespace mk::imap
