#include "audit/collector.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include "audit/collector_store.hpp"
#include "audit/log.hpp"
#include "audit/signing.hpp"
#include "audit/socket_deadline.hpp"
#include "audit/syslog.hpp"
#include "base/duration.hpp"
#include "base/strings.hpp"

namespace mk::audit {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Senders heartbeat every 15 s; a connection silent for this long is gone.
constexpr Duration kIdleTimeout = std::chrono::minutes(5);
constexpr Duration kHandshakeTimeout = std::chrono::seconds(15);
// A heartbeat whose time is further than this from ours means one of the clocks jumped.
constexpr std::int64_t kClockSkewSeconds = 60;
// Frames that are not syslog before the connection is dropped.
constexpr int kMaxBadFrames = 10;
// Plain syslog is kept in one file per sending host name, up to this many names (each holds
// an open file); the hosts past it share one file.
constexpr std::size_t kMaxPlainHosts = 256;
// A server that keeps skipping records gets no more than this many segments; then what does
// not link goes to unlinked.log, as before segments.
constexpr std::size_t kMaxSegments = 1000;
// A pause after a failed accept (out of descriptors), connections from one address, and how
// long a connection may take to name its server when plain syslog is not accepted.
constexpr Duration kAcceptPause = std::chrono::milliseconds(200);
constexpr std::size_t kMaxConnectionsPerIp = 20;
constexpr Duration kNameTimeout = std::chrono::seconds(30);
// How often silence is looked for, and how long one kind of alert about one server is not
// repeated (a broken chain makes every later record fail the same way).
constexpr Duration kSilenceTick = std::chrono::seconds(5);
constexpr Duration kAlertQuiet = std::chrono::seconds(60);
constexpr double kEventBurst = 5;
// Security records a server writes about its own log: each is an alert of this kind.
constexpr std::pair<std::string_view, std::string_view> kAlertEvents[] = {
    {"\"event\":\"security_log_tampered\"", "tampered"},
    {"\"event\":\"security_log_damaged\"", "damaged"},
    {"\"event\":\"log_shipping_overflow\"", "overflow"},
};

// Seconds between an RFC 3339 time ("2026-12-05T16:40:00.123Z", or with an offset) and now.
std::optional<std::int64_t> skew_seconds(std::string_view ts) {
  std::tm tm{};
  const std::string s(ts);
  const char* rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  while (*rest == '.' || (*rest >= '0' && *rest <= '9')) ++rest;
  std::int64_t offset = 0;
  if (*rest == '+' || *rest == '-') {
    int h = 0, m = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &h, &m) != 2) return std::nullopt;
    offset = (*rest == '-' ? -1 : 1) * (h * 3600 + m * 60);
  } else if (*rest != 'Z') {
    return std::nullopt;
  }
  const std::int64_t t = std::int64_t(::timegm(&tm)) - offset;
  return t - std::int64_t(std::time(nullptr));
}

}  // namespace

struct Collector::Impl {
  CollectorSettings settings;
  log::Logger logger;
  // Connection coroutines still pending when the collector stops are destroyed with the
  // io_context, and their clean-up counts down these: they are declared before it.
  std::size_t connections = 0;
  std::map<std::string, std::size_t> per_ip;  // open connections by address
  asio::io_context io{1};
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::unique_ptr<AlertSender> alerts;

  struct Server {
    CollectorServer conf;
    StoredChain chain;
    std::unique_ptr<CappedLog> operational;  // its operational log lines (not chained)
    Clock::time_point last_heard = Clock::now();  // a server never heard from is silent too
    bool silent = false;
    std::string last_beat;  // the timestamp of the last heartbeat
    struct Budget {
      double tokens = 0;
      Clock::time_point at{};
      std::uint64_t suppressed = 0;
    };
    std::map<std::string, Budget> alerted;  // by kind (a fixed set)
  };
  std::map<std::string, std::unique_ptr<Server>> servers;    // by name
  std::map<std::string, std::unique_ptr<CappedLog>> plain;  // by sending host
  std::uint64_t plain_bytes = 0;  // in DATA/syslog/, all files together (one max_log_size)

  Status open_server(const CollectorServer& c) {
    auto s = std::make_unique<Server>();
    s->conf = c;
    const std::string dir = settings.data_dir + "/servers/" + collector_file_name(c.name);
    std::string damaged;
    if (auto st = s->chain.open(dir, c.name, logger, damaged); !st) return st;
    if (!damaged.empty()) {
      logger.error("collector.stored_damaged", {{"server", c.name}, {"problem", damaged}});
      alerts->raise({"stored_damaged", c.name,
                     "the collector's own copy of this server's chain does not verify (" + damaged +
                         "): it was changed on the collector's machine"});
    }
    s->operational = std::make_unique<CappedLog>(settings.max_log_size);
    if (auto st = s->operational->open(dir + "/operational.log"); !st) return st;
    servers[c.name] = std::move(s);
    return {};
  }

  CappedLog* plain_file(const std::string& host) {
    // The name is the sender's to choose: past kMaxPlainHosts files, the rest share one.
    std::string key = collector_file_name(host.empty() ? "unknown" : host);
    if (plain.size() >= kMaxPlainHosts && !plain.contains(key)) key = "_other-hosts";
    auto it = plain.find(key);
    if (it != plain.end()) return it->second.get();
    if (!make_private_dirs(settings.data_dir + "/syslog")) return nullptr;
    auto f = std::make_unique<CappedLog>(settings.max_log_size, &plain_bytes);
    if (!f->open(settings.data_dir + "/syslog/" + key + ".log")) return nullptr;
    return plain.emplace(key, std::move(f)).first->second.get();
  }

  // Alerts of one kind about one server are rationed: `burst` at once, then one a minute, and
  // the next one sent says how many were held back. A broken chain fails every later record
  // the same way (burst 1); a server's own tamper reports are each news, but a compromised
  // server must not be able to flood the admin (burst kEventBurst).
  void alert(Server& s, std::string_view kind, std::string detail, double burst = 1) {
    auto& b = s.alerted[std::string(kind)];
    const auto now = Clock::now();
    if (b.at == Clock::time_point{})
      b.tokens = burst;
    else
      b.tokens =
          std::min(burst, b.tokens + std::chrono::duration<double>(now - b.at) / kAlertQuiet);
    b.at = now;
    if (b.tokens < 1) {
      ++b.suppressed;
      return;
    }
    b.tokens -= 1;
    if (b.suppressed > 0)
      detail += fmt::format(" ({} more alerts of this kind were held back)",
                            std::exchange(b.suppressed, 0));
    alerts->raise({std::string(kind), s.conf.name, std::move(detail)});
  }

  void heard(Server& s) {
    s.last_heard = Clock::now();
    if (s.silent) {
      s.silent = false;
      s.alerted.erase("silence");
      alert(s, "resumed", "the server is heard from again");
    }
  }

  asio::awaitable<void> watch_silence() {
    asio::steady_timer tick(io);
    for (;;) {
      tick.expires_after(kSilenceTick);
      auto [ec] = co_await tick.async_wait(kTuple);
      if (ec) co_return;
      for (auto& [name, s] : servers) {
        const auto quiet = Clock::now() - s->last_heard;
        if (!s->silent && quiet > alerts->settings().silence_after) {
          s->silent = true;
          alert(*s, "silence",
                fmt::format("no record and no heartbeat for {} s (heartbeats come every 15 s): the "
                            "server, its "
                            "mailkeep or the network path is down, or shipping was stopped",
                            std::chrono::duration_cast<std::chrono::seconds>(quiet).count()));
        }
      }
    }
  }

  asio::awaitable<void> serve(tcp::socket sock, std::string ip);
  asio::awaitable<void> accept(tcp::acceptor& a);
};

asio::awaitable<void> Collector::Impl::accept(tcp::acceptor& a) {
  for (;;) {
    auto [ec, sock] = co_await a.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors (EMFILE) fails every accept at once: pause instead of spinning.
      logger.warn("collector.accept", {{"error", ec.message()}});
      asio::steady_timer pause(io, kAcceptPause);
      co_await pause.async_wait(kTuple);
      continue;
    }
    boost::system::error_code rec;
    const std::string ip = sock.remote_endpoint(rec).address().to_string();
    if (rec) continue;
    if (connections >= settings.max_connections || per_ip[ip] >= kMaxConnectionsPerIp) {
      logger.warn("collector.refused",
                  {{"ip", ip},
                   {"reason", connections >= settings.max_connections
                                  ? "too many connections"
                                  : "too many connections from this address"}});
      if (per_ip[ip] == 0) per_ip.erase(ip);
      continue;  // the socket closes
    }
    asio::co_spawn(io, serve(std::move(sock), ip), asio::detached);
  }
}

asio::awaitable<void> Collector::Impl::serve(tcp::socket sock, std::string ip) {
  ++connections;
  ++per_ip[ip];
  struct Count {
    std::size_t& n;
    std::map<std::string, std::size_t>& by_ip;
    std::string ip;
    ~Count() {
      --n;
      if (--by_ip[ip] == 0) by_ip.erase(ip);
    }
  } count{connections, per_ip, ip};
  boost::system::error_code ec;
  const auto remote = sock.remote_endpoint(ec);
  const std::string peer =
      ec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  auto log = logger.with({{"peer", peer}});
  asio::ssl::stream<tcp::socket> stream(std::move(sock), *tls);
  // One deadline bounds the handshake and then each wait for data.
  SocketDeadline deadline(stream, Clock::now() + kHandshakeTimeout);
  auto arm = [&](Duration d) { deadline.after(d); };

  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (hec) {
    log.warn("collector.refused", {{"reason", "TLS handshake: " + hec.message()}});
    co_return;
  }
  Server* bound = nullptr;
  syslog::FrameReader frames(kCollectorMaxFrame);
  int bad = 0;
  char buf[16384];
  // The heartbeat that names the server must sign this, so one recorded on another
  // connection (rsyslog keeps heartbeats as plain text) cannot be replayed to speak for it.
  unsigned char raw[16];
  RAND_bytes(raw, sizeof raw);
  const std::string nonce = hex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  std::string replies = syslog::frame(syslog::challenge_text(nonce));
  {
    arm(kHandshakeTimeout);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(replies), kTuple);
    replies.clear();
    if (wec) co_return;
  }
  // Without plain syslog, a connection that has not named its server by then is let go.
  const auto name_by = Clock::now() + (settings.accept_plain ? kIdleTimeout : kNameTimeout);
  for (;;) {
    if (!bound && Clock::now() >= name_by) {
      log.warn("collector.refused", {{"reason", "no signed heartbeat named a server"}});
      break;
    }
    if (bound)
      arm(kIdleTimeout);
    else
      deadline.at(name_by);
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(buf), kTuple);
    if (rec) {
      if (rec != asio::error::eof && rec != asio::ssl::error::stream_truncated)
        log.info("collector.closed", {{"error", rec.message()}});
      break;
    }
    frames.put(std::string_view(buf, n));
    std::set<Server*> touched;
    std::string refuse;
    std::uint64_t ack = 0;  // the last security record of this read, stored (linked or not)
    while (auto f = frames.next()) {
      std::string why;
      auto m = syslog::parse(*f, &why);
      if (!m) {
        log.warn("collector.bad_frame", {{"reason", why}});
        if (++bad >= kMaxBadFrames) refuse = "too many frames that are not syslog";
        if (!refuse.empty()) break;
        continue;
      }
      if (m->msgid == syslog::kHeartbeatMsgId && m->element(syslog::kBeatSdId)) {
        const auto* e = m->element(syslog::kBeatSdId);
        auto it = servers.find(m->hostname);
        const std::string* seq_s = e->param("seq");
        const std::string* hash = e->param("hash");
        const std::string* sig = e->param("sig");
        const std::string* their_nonce = e->param("nonce");
        auto seq = seq_s ? parse_u64(*seq_s) : std::nullopt;
        if (it == servers.end()) {
          refuse = "a heartbeat from a server not in [[collector.server]]: " + m->hostname;
          break;
        }
        if (!seq || !hash || !sig || !their_nonce || *their_nonce != nonce ||
            !verify_signature(
                it->second->conf.public_key,
                syslog::heartbeat_signed_text(m->hostname, m->timestamp, *seq, *hash, nonce),
                *sig)) {
          refuse =
              "a heartbeat for " + m->hostname + " whose signature does not verify with its key";
          break;
        }
        if (bound && bound != it->second.get()) {
          refuse = "a heartbeat for a second server on one connection";
          break;
        }
        Server& s = *it->second;
        // Heartbeats go forward in time (each is signed with this connection's challenge, so
        // one that does not was not replayed: the server's clock went back).
        if (!s.last_beat.empty() && m->timestamp <= s.last_beat)
          alert(
              s, "clock",
              fmt::format(
                  "a heartbeat dated {}, not after the last one ({}): the server's clock went back",
                  m->timestamp, s.last_beat),
              2);
        s.last_beat = m->timestamp;
        if (auto skew = skew_seconds(m->timestamp);
            !skew || *skew > kClockSkewSeconds || *skew < -kClockSkewSeconds)
          alert(s, "clock",
                fmt::format("the server's clock says {}, {} s from the collector's", m->timestamp,
                            skew ? *skew : 0),
                2);
        if (*seq < s.chain.seq())
          alert(
              s, "rewound",
              fmt::format("the server's log ends at record {}, but record {} was received: its log "
                          "was cut or an old copy was put back",
                          *seq, s.chain.seq()));
        else if (*seq == s.chain.seq() && *hash != s.chain.hash())
          alert(s, "diverged",
                fmt::format(
                    "the server's record {} is not the one received: its history was rewritten",
                    *seq));
        heard(s);
        if (!bound) {
          bound = &s;
          log.info("collector.server", {{"server", s.conf.name}, {"stored_seq", s.chain.seq()}});
          replies += syslog::frame(syslog::hello_text(s.chain.seq(), s.chain.hash()));
        }
        continue;
      }
      if (m->msgid == syslog::kSecurityMsgId && m->element(syslog::kChainSdId)) {
        if (!bound || m->hostname != bound->conf.name) {
          refuse = bound ? "a security record in the name of another server"
                         : "a security record before a signed heartbeat named its server";
          break;
        }
        Server& s = *bound;
        heard(s);
        RecordHead head;
        auto link = s.chain.check(m->msg, &head);
        ack = std::max(ack, head.seq);
        if (link == ChainCheck::Link::gap && s.chain.segments() < kMaxSegments) {
          alert(s, "gap",
                fmt::format("record {} follows record {}: records {} to {} never arrived; a new stored segment "
                            "begins",
                            head.seq, s.chain.seq(), s.chain.seq() + 1, head.seq - 1));
          if (auto st = s.chain.new_segment(head); !st) {
            // Nothing after the gap is stored, and nothing of this batch acknowledged.
            log.error("collector.store", {{"server", s.conf.name}, {"error", st.error().message}});
            refuse = "cannot store";
            ack = 0;
            break;
          }
          link = s.chain.check(m->msg, &head);
        }
        if (link == ChainCheck::Link::ok) {
          s.chain.add(m->msg, head);
          touched.insert(&s);
          for (const auto& [marker, kind] : kAlertEvents)
            if (m->msg.find(marker) != std::string::npos) alert(s, kind, m->msg, kEventBurst);
          continue;
        }
        // Kept, never stored in the chain: the stored history stays what it was.
        static constexpr std::pair<ChainCheck::Link, std::string_view> kKinds[] = {
            {ChainCheck::Link::not_a_record, "edited"},
            {ChainCheck::Link::bad_hash, "edited"},
            {ChainCheck::Link::gap, "gap"},
            {ChainCheck::Link::broken, "broken"},
            {ChainCheck::Link::restarted, "restarted"},
            {ChainCheck::Link::replayed, "replayed"}};
        std::string_view kind = "broken";
        for (const auto& [l, k] : kKinds)
          if (l == link) kind = k;
        alert(s, kind,
              fmt::format("record {} (stored up to {}): {}", head.seq, s.chain.seq(),
                          ChainCheck::describe(link)));
        const std::string kept = fmt::format("{} {}", ChainCheck::describe(link), m->msg);
        if (auto st = s.chain.keep_unlinked(kept); !st)
          log.error("collector.store", {{"server", s.conf.name}, {"error", st.error().message}});
        touched.insert(&s);
        continue;
      }
      if (m->msgid == syslog::kLogMsgId && bound) {
        // An operational line from the server this connection belongs to: kept as it came.
        if (m->hostname != bound->conf.name) {
          refuse = "an operational log line in the name of another server";
          break;
        }
        heard(*bound);
        bool first_drop = false;
        if (!bound->operational->add(record_time(), m->msg, first_drop) && first_drop) {
          log.warn("collector.full", {{"server", bound->conf.name}, {"file", "operational.log"},
                                       {"limit", settings.max_log_size}});
          alert(*bound, "full",
                fmt::format("operational.log reached collector.max_log_size ({} bytes): further operational lines "
                            "are dropped until it is moved aside and the collector restarted (security records are "
                            "still stored)",
                            settings.max_log_size));
        }
        continue;
      }
      if (settings.accept_plain) {
        if (auto* pf = plain_file(m->hostname)) {
          bool first_drop = false;
          if (!pf->add(record_time(), *f, first_drop) && first_drop)
            log.warn("collector.full", {{"host", m->hostname}, {"limit", settings.max_log_size}});
        }
      }
    }
    for (auto& [host, pf] : plain)
      if (auto st = pf->sync(); !st) log.error("collector.store", {{"host", host}, {"error", st.error().message}});
    // Not acknowledged (the sender does not wait for them), but kept as durably as the rest.
    if (bound)
      if (auto st = bound->operational->sync(); !st)
        log.error("collector.store", {{"server", bound->conf.name}, {"error", st.error().message}});
    for (Server* s : touched) {
      if (auto st = s->chain.sync(); !st) {
        log.error("collector.store", {{"server", s->conf.name}, {"error", st.error().message}});
        refuse = "cannot store";
        ack = 0;
        break;
      }
    }
    if (ack > 0) replies += syslog::frame(syslog::ack_text(ack));
    if (!frames.error().empty() && refuse.empty()) refuse = frames.error();
    if (!replies.empty()) {
      arm(kHandshakeTimeout);
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(replies), kTuple);
      replies.clear();
      if (wec) break;
    }
    if (!refuse.empty()) {
      log.warn("collector.refused", {{"reason", refuse}});
      break;
    }
  }
  boost::system::error_code ignored;
  stream.lowest_layer().close(ignored);
}

Result<std::unique_ptr<Collector>> Collector::make(const CollectorSettings& settings,
                                                   log::Logger logger) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->logger = std::move(logger);
  if (auto s = make_private_dirs(settings.data_dir); !s) return s.error();
  std::string hostname = settings.hostname;
  if (hostname.empty()) {
    char buf[256] = {};
    hostname = ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? buf : "collector";
  }
  if (auto st = AlertSender::check(settings.alerts); !st) return st.error();
  impl->alerts = std::make_unique<AlertSender>(impl->io, settings.alerts, settings.data_dir,
                                               hostname, impl->logger);
  for (const auto& c : settings.servers)
    if (auto s = impl->open_server(c); !s) return s.error();
  // Plain syslog shares one budget, counted from what earlier runs stored: neither new host
  // names nor restarts make room.
  if (DIR* d = ::opendir((settings.data_dir + "/syslog").c_str())) {
    while (const dirent* e = ::readdir(d)) {
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        impl->plain_bytes += std::uint64_t(st.st_size);
    }
    ::closedir(d);
  }
  impl->tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* c = impl->tls->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(c, settings.tls_cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(c, settings.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(c) != 1)
    return err(fmt::format("collector.tls_cert/tls_key: cannot load {} and {}", settings.tls_cert,
                           settings.tls_key));
  if (!settings.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(c, settings.client_ca.c_str(), nullptr) != 1)
      return err("collector.client_ca: cannot load " + settings.client_ca);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  for (const auto& [host, port] : settings.listen) {
    boost::system::error_code ec;
    const tcp::endpoint ep(asio::ip::make_address(host, ec), port);
    if (ec) return err(fmt::format("collector.listen: {} is not a numeric address", host));
    auto a = std::make_unique<tcp::acceptor>(impl->io);
    a->open(ep.protocol(), ec);
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ep.address().is_v6()) a->set_option(asio::ip::v6_only(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return err(fmt::format("collector: cannot listen on {}:{}: {}", host, port, ec.message()));
    impl->acceptors.push_back(std::move(a));
  }
  return std::unique_ptr<Collector>(new Collector(std::move(impl)));
}

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Collector::~Collector() = default;

int Collector::run() {
  for (auto& a : impl_->acceptors) {
    boost::system::error_code ec;
    const auto at = a->local_endpoint(ec);
    asio::co_spawn(
        impl_->io, impl_->accept(*a),
        log::LogThrown{
            impl_->logger.with({{"address", ec ? std::string("?") : at.address().to_string()},
                                {"port", ec ? 0 : at.port()}}),
            "collector.accept_loop_failed"});
  }
  asio::co_spawn(impl_->io, impl_->watch_silence(),
                 log::LogThrown{impl_->logger, "collector.watch_failed"});
  asio::signal_set signals(impl_->io, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code&, int) {
    impl_->logger.info("collector.stop");
    impl_->io.stop();
  });
  for (const auto& [host, port] : impl_->settings.listen)
    impl_->logger.info("collector.listen", {{"address", fmt::format("{}:{}", host, port)}});
  impl_->io.run();
  return 0;
}

}  // namespace mk::audit
