#include "audit/shipper.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "audit/line_queue.hpp"
#include "audit/log.hpp"
#include "audit/log_tail.hpp"
#include "audit/socket_deadline.hpp"
#include "audit/syslog.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/write_file.hpp"
#include "net/tls_verify.hpp"

namespace mk::audit {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How long a link waits for mailkeep's collector to say hello before it treats the collector
// as one that answers nothing (rsyslog).
constexpr Duration kHelloWait = std::chrono::seconds(2);
// How often a link looks at the log when nothing woke it (records other processes append).
constexpr Duration kPoll = std::chrono::seconds(1);
constexpr Duration kBackoffMin = std::chrono::seconds(1);
// Under the collector's 45 s of silence: a collector back from an outage hears from us in time.
constexpr Duration kBackoffMax = std::chrono::seconds(20);
constexpr std::size_t kBatchBytes = 256 * 1024;
// The server checks its own log this often (audit/log.hpp check_file, then the whole chain),
// so a deletion, a cut or an edit is on the record, and shipped, within a minute. A log larger
// than kFullCheckBytes is verified in full only every kSlowCheck.
constexpr Duration kSelfCheck = std::chrono::seconds(20);
constexpr Duration kSlowCheck = std::chrono::minutes(10);
constexpr std::int64_t kFullCheckBytes = 64ll << 20;
constexpr std::size_t kMaxReplyFrame = 1024;

struct HostPort {
  std::string host;
  std::string port;
  bool ip_literal = false;
};

std::optional<HostPort> split_host_port(const std::string& s) {
  HostPort hp;
  if (s.starts_with('[')) {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return std::nullopt;
    hp.host = s.substr(1, close - 1);
    hp.port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    hp.host = s.substr(0, colon);
    hp.port = s.substr(colon + 1);
  }
  const auto port = parse_u64(hp.port);
  if (!port || *port == 0 || *port > 65535 || hp.host.empty()) return std::nullopt;
  boost::system::error_code ec;
  (void)asio::ip::make_address(hp.host, ec);
  hp.ip_literal = !ec;
  return hp;
}

}  // namespace

struct Shipper::Impl {
  RemoteSettings settings;
  std::string log_path, host, state_dir, procid;
  SigningKey key;
  log::Logger logger;
  Log* audit = nullptr;
  std::shared_ptr<asio::ssl::context> tls;
  asio::io_context io{1};
  std::thread thread;
  // The self-check has a thread of its own: verifying a large log takes a while, and the
  // links must not wait for it.
  asio::io_context check_io{1};
  std::thread check_thread;
  std::atomic<bool> stopping{false};

  std::shared_ptr<LineQueue> lines;  // operational lines; null when they are not shipped

  struct Link {
    HostPort where;
    std::string name;  // as configured
    std::uint64_t line_pos = 0;  // the next operational line this link sends
    asio::steady_timer wake;
    mutable std::mutex mu;  // guards state (read by state() from other threads)
    LinkState state;
    Link(asio::io_context& io, HostPort hp, std::string n)
        : where(std::move(hp)), name(std::move(n)), wake(io) {}
  };
  std::vector<std::unique_ptr<Link>> links;

  std::string state_file(const Link& l) const {
    std::string safe;
    for (char c : l.name)
      safe += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    return state_dir + "/" + safe + ".sent";
  }

  std::uint64_t load_sent(const Link& l) const {
    auto text = read_file(state_file(l), 256);
    if (!text) return 0;
    std::string_view t = *text;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
    auto v = parse_u64(t);
    return v ? *v : 0;
  }

  void update(Link& l, const std::function<void(LinkState&)>& f) {
    std::lock_guard lock(l.mu);
    f(l.state);
  }

  std::string heartbeat_frame(const std::string& nonce) const {
    const Head head = read_head(log_path);
    const std::string ts = record_time();
    syslog::Message m;
    m.pri = syslog::kHeartbeatPri;
    m.timestamp = ts;
    m.hostname = host;
    m.app = "mailkeep";
    m.procid = procid;
    m.msgid = std::string(syslog::kHeartbeatMsgId);
    m.sd.push_back(
        {std::string(syslog::kBeatSdId),
         {{"seq", std::to_string(head.seq)},
          {"hash", head.hash},
          {"nonce", nonce},
          {"sig", key.sign(syslog::heartbeat_signed_text(host, ts, head.seq, head.hash, nonce))}}});
    return syslog::frame(syslog::format(m));
  }

  // Sends the operational lines waiting for this link; false when the connection failed.
  // `any`: whether there were some.
  asio::awaitable<bool> send_lines(Link& l, const std::function<asio::awaitable<bool>(const std::string&)>& send,
                                   bool& any);

  std::string last_problem;  // the damage last reported, so it is written once
  Clock::time_point last_full_check{};

  asio::awaitable<void> self_check();
  asio::awaitable<void> run(Link& l);
  asio::awaitable<std::string> session(Link& l, bool& progressed);
};

asio::awaitable<bool> Shipper::Impl::send_lines(
    Link& l, const std::function<asio::awaitable<bool>(const std::string&)>& send, bool& any) {
  any = false;
  if (!lines) co_return true;
  std::uint64_t missed = 0, pos = l.line_pos;
  const auto batch = lines->read(pos, kBatchBytes, missed);
  if (missed > 0) {
    l.line_pos += missed;
    update(l, [&](LinkState& s) { s.lines_missed += missed; });
    // Logged (as an error, so every shipped level has it), so it is itself shipped: the
    // collector sees where lines are missing.
    logger.error("log.remote.lines_missed", {{"collector", l.name}, {"lines", missed}});
  }
  if (batch.empty()) co_return true;
  any = true;
  std::string bytes;
  for (const auto& q : batch)
    bytes += syslog::frame(syslog::format(syslog::operational_message(q.level, q.ts, q.line, host, procid)));
  // A batch whose write failed is sent again on the next connection.
  if (!co_await send(bytes)) co_return false;
  l.line_pos = pos;
  update(l, [&](LinkState& s) { s.lines_sent += batch.size(); });
  // What every link has sent is let go.
  std::uint64_t all_past = l.line_pos;
  for (const auto& other : links) all_past = std::min(all_past, other->line_pos);
  lines->release(all_past);
  co_return true;
}

asio::awaitable<std::string> Shipper::Impl::session(Link& l, bool& progressed) {
  auto ex = co_await asio::this_coro::executor;
  // Shared with the reader: its last read may complete after this coroutine has returned, and
  // the TLS stream must outlive it.
  auto stream_owner = std::make_shared<asio::ssl::stream<tcp::socket>>(ex, *tls);
  auto& stream = *stream_owner;
  SocketDeadline deadline(stream, Clock::now() + settings.timeout);

  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(l.where.host, l.where.port, kTuple);
  if (rec) co_return fmt::format("resolving {}: {}", l.where.host, rec.message());
  auto [cec, ep] = co_await asio::async_connect(stream.lowest_layer(), endpoints, kTuple);
  if (cec) co_return fmt::format("connecting: {}", cec.message());
  SSL* ssl = stream.native_handle();
  const std::string& name = settings.server_name.empty() ? l.where.host : settings.server_name;
  boost::system::error_code pec;
  asio::ip::make_address(name, pec);
  if (!net::verify_server(ssl, name, !pec)) co_return "cannot check the collector's name";
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (hec) co_return "TLS handshake: " + net::handshake_failure(ssl, hec);
  deadline.never();

  // The reader: the collector's hello and acknowledgements. It ends with the connection.
  struct Shared {
    bool closed = false;
    std::string nonce;  // the collector's challenge (mailkeep's collector sends one at once)
    std::optional<syslog::Reply> hello;
    std::uint64_t acked = 0;
    Clock::time_point last_ack = Clock::now();
    std::string why;
  };
  auto shared = std::make_shared<Shared>();
  asio::co_spawn(
      ex,
      [stream_owner, &l, shared]() -> asio::awaitable<void> {
        auto& s = *stream_owner;
        syslog::FrameReader frames(kMaxReplyFrame);
        char buf[4096];
        for (;;) {
          auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), kTuple);
          if (ec) {
            if (shared->why.empty())
              shared->why =
                  ec == asio::error::eof ? "the collector closed the connection" : ec.message();
            break;
          }
          frames.put(std::string_view(buf, n));
          while (auto f = frames.next()) {
            auto r = syslog::parse_reply(*f);
            if (!r) continue;  // not ours: ignore
            if (r->kind == syslog::Reply::Kind::challenge && shared->nonce.empty())
              shared->nonce = r->nonce;
            else if (r->kind == syslog::Reply::Kind::hello)
              shared->hello = *r;
            else if (r->kind == syslog::Reply::Kind::ack && r->seq > shared->acked)
              shared->acked = r->seq, shared->last_ack = Clock::now();
          }
          if (!frames.error().empty()) {
            shared->why = "the collector sent " + frames.error();
            break;
          }
          l.wake.cancel();
        }
        shared->closed = true;
        l.wake.cancel();
      },
      asio::detached);
  struct CloseOnExit {
    asio::ssl::stream<tcp::socket>& s;
    ~CloseOnExit() {
      boost::system::error_code ignored;
      s.lowest_layer().close(ignored);
    }
  } close_on_exit{stream};

  std::function<asio::awaitable<bool>(const std::string&)> send = [&](const std::string& bytes) -> asio::awaitable<bool> {
    deadline.after(settings.timeout);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(bytes), kTuple);
    deadline.never();
    if (wec && shared->why.empty()) shared->why = "sending: " + wec.message();
    co_return !wec;
  };

  // mailkeep's collector sends a challenge as soon as TLS is up, the heartbeat signs it, and
  // the collector answers with where its copy stands; rsyslog sends nothing at all.
  auto wait_for = [&](auto ready, Duration limit) -> asio::awaitable<void> {
    const auto until = Clock::now() + limit;
    while (!ready() && !shared->closed && Clock::now() < until) {
      l.wake.expires_at(until);
      co_await l.wake.async_wait(kTuple);
    }
  };
  co_await wait_for([&] { return !shared->nonce.empty(); }, kHelloWait);
  if (shared->closed) co_return shared->why;
  const bool acknowledged = !shared->nonce.empty();
  const std::string nonce = acknowledged ? shared->nonce : "-";
  std::string beat = heartbeat_frame(nonce);  // named: GCC 12 and temporaries in co_await
  if (!co_await send(beat)) co_return shared->why;
  auto next_beat = Clock::now() + settings.heartbeat;
  if (acknowledged) {
    co_await wait_for([&] { return shared->hello.has_value(); }, settings.timeout);
    if (shared->closed) co_return shared->why;
    if (!shared->hello)
      co_return "the collector did not answer the heartbeat (is this server in its [[collector.server]]?)";
  }
  progressed = true;  // connected and agreed: the next outage starts its backoff afresh
  const Head local = read_head(log_path);
  std::uint64_t start = 0;
  if (acknowledged) {
    start = shared->hello->seq + 1;
    shared->acked = shared->hello->seq;
    if (shared->hello->seq > local.seq) {
      // The collector holds records this log no longer has (an old copy was put back while
      // the server was stopped): what is written from now on goes to it all the same, where it
      // does not link and is reported.
      logger.error(
          "log.remote.behind",
          {{"collector", l.name},
           {"collector_seq", shared->hello->seq},
           {"local_seq", local.seq},
           {"why", "the collector holds records this log no longer has: it was cut or replaced"}});
      start = local.seq + 1;
      shared->acked = local.seq;
    }
  } else {
    start = load_sent(l) + 1;
  }
  if (local.seq >= start && local.seq - start + 1 > settings.spool_records) {
    const std::uint64_t skip = local.seq - start + 1 - settings.spool_records;
    logger.error("log.remote.overflow", {{"collector", l.name},
                                         {"skipped", skip},
                                         {"first", start},
                                         {"bound", settings.spool_records}});
    if (audit)
      logger.ok_or_log(audit->append("log_shipping_overflow", {{"collector", l.name},
                                                               {"skipped", std::to_string(skip)},
                                                               {"first", std::to_string(start)}}),
                       "log.remote.overflow");
    update(l, [&](LinkState& s) { s.skipped += skip; });
    start += skip;
  }
  update(l, [&](LinkState& s) {
    s.connected = true;
    s.acknowledged = acknowledged;
    s.acked = shared->acked;
  });
  logger.info("log.remote.connected",
              {{"collector", l.name}, {"from", start}, {"acknowledged", acknowledged}});
  LogTail tail(log_path);
  tail.seek(start);
  std::uint64_t sent = start - 1;
  while (!stopping) {
    auto records = tail.read(kBatchBytes);
    if (!records.empty()) {
      std::string batch;
      std::uint64_t last = sent;
      for (const auto& line : records) {
        auto m = syslog::security_message(line, host, procid);
        if (!m)
          continue;  // a damaged line: audit verify reports it; the chain check at the collector
                     // too
        batch += syslog::frame(syslog::format(*m));
        last = parse_record(line)->seq;
      }
      if (!batch.empty()) {
        // The acknowledgement clock starts with the first record awaiting one.
        if (shared->acked >= sent) shared->last_ack = Clock::now();
        if (!co_await send(batch)) co_return shared->why;
        sent = last;
        // A collector that acknowledges nothing: where we stand is ours to remember. If it
        // cannot be written, a restart sends these records again (duplicates, not losses).
        if (!acknowledged)
          logger.ok_or_log(write_file_atomic(state_file(l), std::to_string(sent) + "\n", 0600), "log.remote.state",
                           {{"collector", l.name}});
      }
    }
    bool more_lines = false;
    if (!co_await send_lines(l, send, more_lines)) co_return shared->why;
    if (Clock::now() >= next_beat) {
      beat = heartbeat_frame(nonce);
      if (!co_await send(beat)) co_return shared->why;
      next_beat = Clock::now() + settings.heartbeat;
    }
    update(l, [&](LinkState& s) {
      s.sent = sent;
      s.acked = shared->acked;
    });
    if (acknowledged && shared->acked < sent && Clock::now() - shared->last_ack > settings.timeout)
      co_return fmt::format("the collector acknowledged nothing for {}s",
                            whole_seconds(settings.timeout));
    if (shared->closed) co_return shared->why;
    if ((!records.empty() || more_lines) && !stopping) continue;  // more may be waiting: read again at once
    l.wake.expires_at(std::min(next_beat, Clock::now() + kPoll));
    co_await l.wake.async_wait(kTuple);
  }
  co_return "stopping";
}

asio::awaitable<void> Shipper::Impl::self_check() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer sleep(ex);
  while (!stopping && audit) {
    logger.ok_or_log(audit->check_file(), "log.self_check");
    struct stat st {};
    const bool large =
        ::stat(log_path.c_str(), &st) == 0 && std::int64_t(st.st_size) > kFullCheckBytes;
    if (!large || Clock::now() - last_full_check >= kSlowCheck) {
      last_full_check = Clock::now();
      const auto report = verify(log_path);
      if (!report.ok && report.problem != last_problem) {
        logger.error("log.damaged", {{"problem", report.problem}});
        logger.ok_or_log(audit->append("security_log_damaged", {{"problem", report.problem}}),
                         "log.self_check");
      }
      last_problem = report.ok ? std::string() : report.problem;
    }
    sleep.expires_after(kSelfCheck);
    co_await sleep.async_wait(kTuple);
  }
}

asio::awaitable<void> Shipper::Impl::run(Link& l) {
  Duration backoff = kBackoffMin;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer sleep(ex);
  while (!stopping) {
    bool progressed = false;
    const std::string why = co_await session(l, progressed);
    update(l, [](LinkState& s) { s.connected = false; });
    if (stopping) break;
    // A link that got as far as talking to its collector retries at once; one that cannot
    // reach it backs off, but never past the collector's silence limit's reach for long.
    if (progressed) backoff = kBackoffMin;
    logger.warn("log.remote.disconnected",
                {{"collector", l.name}, {"error", why}, {"retry_in_ms", backoff.count()}});
    sleep.expires_after(backoff);
    co_await sleep.async_wait(kTuple);
    if (!progressed) backoff = std::min(backoff * 2, kBackoffMax);
  }
}

Result<std::unique_ptr<Shipper>> Shipper::make(const RemoteSettings& settings, std::string log_path,
                                               std::string host, SigningKey key,
                                               std::string state_dir, log::Logger logger,
                                               Log* audit) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->log_path = std::move(log_path);
  impl->host = std::move(host);
  impl->key = std::move(key);
  impl->state_dir = std::move(state_dir);
  impl->logger = std::move(logger);
  impl->audit = audit;
  impl->procid = std::to_string(::getpid());
  for (const auto& c : settings.collectors) {
    auto hp = split_host_port(c);
    if (!hp)
      return err(fmt::format(
          "log.remote.collectors: \"{}\" is not \"host:port\" (e.g. \"logs.example.org:6514\")",
          c));
    impl->links.push_back(std::make_unique<Impl::Link>(impl->io, *hp, c));
    impl->links.back()->state.collector = c;
  }
  if (settings.operational) {
    impl->lines = std::make_shared<LineQueue>(settings.operational_queue);
    for (auto& l : impl->links) l->line_pos = impl->lines->next_position();
  }
  try {
    impl->tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(impl->tls->native_handle(), TLS1_2_VERSION);
    if (settings.ca_file.empty())
      impl->tls->set_default_verify_paths();
    else
      impl->tls->load_verify_file(settings.ca_file);
  } catch (const boost::system::system_error& e) {
    return err(fmt::format("log.remote.ca_file: cannot load {}: {}", settings.ca_file, e.what()));
  }
  if (!settings.client_cert.empty()) {
    try {
      impl->tls->use_certificate_chain_file(settings.client_cert);
      impl->tls->use_private_key_file(settings.client_key, asio::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return err(fmt::format("log.remote.client_cert/client_key: cannot load {} and {}: {}",
                             settings.client_cert, settings.client_key, e.what()));
    }
  }
  if (::mkdir(impl->state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return err("cannot create " + impl->state_dir);
  return std::unique_ptr<Shipper>(new Shipper(std::move(impl)));
}

Shipper::Shipper(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Shipper::~Shipper() {
  stop();
}

void Shipper::start() {
  if (impl_->links.empty() || impl_->thread.joinable()) return;
  for (auto& l : impl_->links)
    asio::co_spawn(
        impl_->io, impl_->run(*l),
        log::LogThrown{impl_->logger.with({{"collector", l->name}}), "log.remote.task_failed"});
  asio::co_spawn(impl_->check_io, impl_->self_check(),
                 log::LogThrown{impl_->logger, "log.self_check_failed"});
  impl_->thread = std::thread([this] { impl_->io.run(); });
  impl_->check_thread = std::thread([this] { impl_->check_io.run(); });
}

void Shipper::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping = true;
  impl_->io.stop();
  impl_->check_io.stop();
  impl_->thread.join();
  if (impl_->check_thread.joinable()) impl_->check_thread.join();
}

void Shipper::wake() {
  asio::post(impl_->io, [impl = impl_.get()] {
    for (auto& l : impl->links) l->wake.cancel();
  });
}

std::shared_ptr<log::Tap> Shipper::tap() const {
  return impl_->lines;
}

std::vector<LinkState> Shipper::state() const {
  std::vector<LinkState> out;
  for (const auto& l : impl_->links) {
    std::lock_guard lock(l->mu);
    out.push_back(l->state);
  }
  return out;
}

}  // namespace mk::audit
