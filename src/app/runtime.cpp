// The server process: single-instance lock, store, TLS, listeners, worker threads, signals.
#include <functional>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include "app/app.hpp"
#include "app/compose.hpp"
#include "app/metrics.hpp"
#include "app/security_report.hpp"
#include "app/stats.hpp"
#include "app/web.hpp"
#include "web/routes.hpp"
#include "acme/https_transport.hpp"
#include "acme/jws.hpp"
#include "base/read_file.hpp"
#include "base/write_file.hpp"
#include "certs/acme_issuer.hpp"
#include "certs/manager.hpp"
#include "setup/records.hpp"
#include "net/tls_keys.hpp"
#include "http/server.hpp"
#include "net/cert_store.hpp"
#include "base/strings.hpp"
#include "net/selfsigned.hpp"
#include "net/tls_keys.hpp"
#include "imap/server/server.hpp"
#include "delivery/server_mail.hpp"
#include "reports/alerts.hpp"
#include "reports/sign_in.hpp"
#include "guard/containment.hpp"
#include "reports/dmarc_reports.hpp"
#include "inbound/auth_pipeline.hpp"
#include "inbound/spam_filter.hpp"
#include "dns/resolver.hpp"
#include "net/interfaces.hpp"
#include "share/by_mail.hpp"
#include "share/fetch.hpp"
#include "share/service.hpp"
#include "share/url.hpp"
#include "audit/log.hpp"
#include "audit/shipper.hpp"
#include "auth/breached.hpp"
#include "auth/login.hpp"
#include "auth/throttle.hpp"
#include "srs/srs.hpp"
#include "outbound/runner.hpp"
#include "smtp/server.hpp"

namespace mk::app {

namespace asio = boost::asio;

// At least this many threads for blocking work, however few cores: the store queries of
// several connections must not queue behind each other.
constexpr unsigned kMinWorkThreads = 4;
// The metrics listener: Prometheus keeps one connection; the rest is room for other scrapers
// and for local users, who all share 127.0.0.1.
constexpr std::size_t kMetricsConnections = 64;
constexpr std::chrono::seconds kMetricsHeaderTimeout{2};

namespace {

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// Holds an exclusive lock on DATA_DIR/mailkeep.lock for the life of the process, so two
// servers never share a data directory (the orphan sweep relies on it).
class InstanceLock {
 public:
  Status acquire(const std::string& data_dir) {
    const std::string path = data_dir + "/mailkeep.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return err(fmt::format("cannot open {}", path));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return err(fmt::format("another mailkeep server is already using {}; stop it first", data_dir));
    return {};
  }
  ~InstanceLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

}  // namespace

// A 32-byte random key in a 0600 file, created on first use. `lost`: what a new key breaks.
static Result<std::string> read_or_create_secret(const std::string& path, std::string_view lost) {
  constexpr std::size_t kSecretBytes = 32;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[256];
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    if (n >= kSecretBytes) return std::string(buf, n);
    return err(path + ": the key file is damaged; remove it to make a new one (" + std::string(lost) + ")");
  }
  const std::string key = random_id(kSecretBytes);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return err("cannot create " + path);
  const bool ok = ::write(fd, key.data(), key.size()) == ssize_t(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return err("cannot write " + path);
  return key;
}

namespace {

// What the server is made of, built from the configuration by the make_… functions below
// in the order they depend on each other (run_server composes them).

Result<std::unique_ptr<store::Store>> make_store(const Config& cfg, const log::Logger& log) {
  auto opened = store::open(cfg.store);
  if (!opened) return opened.error();
  auto store = std::move(opened.value());
  if (auto n = store->recover(); !n)
    log.error("store.sweep_failed", {{"error", n.error().message}});
  else if (*n > 0)
    log.info("store.swept_orphans", {{"files", *n}});
  return store;
}

// The configured certificate, else a self-signed one kept in the data directory so STARTTLS
// is always offered (opportunistic TLS between MTAs does not need a CA chain). An instance
// that has the keys quickstart made (net/tls_keys.hpp) uses key.pem, whose TLSA record the
// admin published, with cert.pem: self-signed until a CA-issued one for that key replaces it.
// *cert_file: the certificate file it presents.
Result<std::shared_ptr<net::TlsContext>> make_server_tls(const Config& cfg, const log::Logger& log,
                                                         std::string* cert_file) {
  std::string cert = cfg.tls_cert, key = cfg.tls_key;
  if (cert.empty() && file_exists(net::tls_key_path(cfg.data_dir))) {
    cert = net::tls_cert_path(cfg.data_dir);
    key = net::tls_key_path(cfg.data_dir);
    if (!file_exists(cert)) {
      if (auto s = net::write_self_signed_for_key(cert, key, {cfg.hostname}); !s) return s.error();
      log.warn("tls.self_signed", {{"cert", cert},
                                   {"hint", "DANE already matches its key; a CA-issued certificate for that key replaces it"}});
    }
  } else if (cert.empty()) {
    ::mkdir((cfg.data_dir + "/tls").c_str(), 0700);
    cert = cfg.data_dir + "/tls/selfsigned-cert.pem";
    key = cfg.data_dir + "/tls/selfsigned-key.pem";
    if (!file_exists(cert) || !file_exists(key)) {
      const auto ips = cfg.dev ? std::vector<std::string>{"127.0.0.1", "::1"} : std::vector<std::string>{};
      if (auto s = net::write_self_signed(cert, key, {cfg.hostname}, ips); !s) return s.error();
    }
    if (!cfg.dev)
      log.warn("tls.self_signed", {{"cert", cert}, {"hint", "set tls.cert and tls.key to a CA-issued certificate"}});
  }
  *cert_file = cert;
  return net::make_server_tls(cert, key, cfg.tls_min);
}

// Why the server does not ask a CA for its certificates ("" when it does).
std::string acme_off_reason(const Config& cfg) {
  if (!cfg.tls_cert.empty()) return "tls.cert is set";
  if (cfg.acme.directory.empty()) return "acme.directory is empty";
  if (cfg.dev) return "a dev instance";
  if (!setup::plausible_fqdn(cfg.hostname)) return "the hostname " + cfg.hostname + " is not a public name";
  return {};
}

// The ACME account's key, made once and kept: a CA knows the account by it.
Result<std::string> acme_account_key(const Config& cfg) {
  const std::string path = cfg.data_dir + "/tls/acme-account.pem";
  if (auto key = read_file(path, 1 << 20)) return key;
  // Made only when there is none: a key that cannot be read (permissions after a command run
  // as root, a disk error) is an error to fix, not an account to lose.
  if (::access(path.c_str(), F_OK) == 0 || errno != ENOENT)
    return err(fmt::format("cannot read the ACME account key {}: fix its owner or permissions (the server "
                           "reads it as its own user)", path));
  auto key = acme::new_p256_key_pem();
  if (!key) return key.error();
  if (auto s = write_file_atomic(path, *key, 0600); !s) return s.error();
  return key;
}

// The security log's shipper ([log.remote]); null when no collector is configured. Its
// heartbeats are signed with DATA/log-signing.key, made here on first use: the collector is
// given the public key (`mailkeep log key`). Operational lines from `sink` go along when
// log.remote.operational says so.
Result<std::unique_ptr<audit::Shipper>> make_shipper(const Config& cfg, audit::Log& audit_log, log::Sink& sink,
                                                     const log::Logger& log) {
  if (cfg.log_remote.collectors.empty()) return std::unique_ptr<audit::Shipper>();
  auto key = audit::SigningKey::load_or_create(cfg.data_dir + "/" + std::string(kLogSigningKey));
  if (!key) return key.error();
  const std::string public_key = key->public_key();
  auto shipper = audit::Shipper::make(cfg.log_remote, audit_log.path(), cfg.hostname, std::move(*key),
                                      cfg.data_dir + "/log-shipping", log, &audit_log);
  if (!shipper) return shipper.error();
  audit_log.on_append([s = shipper->get()] { s->wake(); });
  if (cfg.log_remote.operational) sink.set_tap((*shipper)->tap(), *cfg.log_remote.operational);
  (*shipper)->start();
  std::string to;
  for (const auto& c : cfg.log_remote.collectors) to += (to.empty() ? "" : ",") + c;
  log.info("log.remote.start", {{"collectors", to}, {"key", public_key}});
  return shipper;
}

// The SRS key, made once and kept in the data directory: addresses it signed must still
// reverse after a restart.
Result<srs::Srs> make_srs(const Config& cfg) {
  auto secret = read_or_create_secret(cfg.data_dir + "/srs.key", "old SRS addresses stop working");
  if (!secret) return secret.error();
  return srs::Srs(*secret);
}

// DNS: always in production; in dev mode only when dns.upstream names a server (a dev
// instance has no internet to recurse from).
// The DNS of an instance without a resolver (dev without [dns] upstream): no name resolves.
class NoDns final : public dns::Lookup {
 public:
  asio::awaitable<Result<dns::Answer>> query(std::string, int) override {
    co_return err("no DNS resolver is configured ([dns] upstream)");
  }
};

// Submission's to_self: a lone link sent to one's own +tag address becomes the page's
// preview (share/by_mail.hpp); anything else goes on as it is. By value: it outlives the call.
// The same limits as the share page (share::Limit): beyond them the mail is delivered as it
// is. Each share is a "link_shared" record in the security log, as from the pages.
asio::awaitable<std::optional<Status>> share_by_mail(share::Sharer& sharer, share::Limit& limit,
                                                     const auth::LoginPolicy& audit, const smtp::Transaction& txn,
                                                     const message::Parsed& msg, std::string account) {
  std::vector<std::string> rcpts;
  for (const auto& r : txn.rcpts) {
    // Each recipient must be the sender's own mailbox (not an alias to others, not remote).
    for (const auto& t : r.targets)
      if (t.kind != smtp::Target::Kind::mailbox || t.account_id != txn.account_id) co_return std::nullopt;
    rcpts.push_back(r.address);
  }
  auto link = share::link_only_mail(msg, account, rcpts);
  if (!link) co_return std::nullopt;
  auto url = share::parse_web_url(link->url);
  if (!url) co_return std::nullopt;
  if (!limit.admit(txn.account_id, std::int64_t(std::time(nullptr))).empty()) co_return std::nullopt;
  struct Release {
    share::Limit& limit;
    std::int64_t account;
    ~Release() { limit.done(account); }
  } release{limit, txn.account_id};
  audit.record("web_action", {{"action", "link_shared"}, {"user", account}, {"host", url->host}, {"via", "smtp"}});
  store::Account who;
  who.id = txn.account_id;
  who.address = std::move(account);
  // A named request: GCC 12 destroys a braced temporary passed to a coroutine twice.
  share::Request request{link->url, link->title, "", link->tag};
  auto out = co_await sharer.share(std::move(who), std::move(request));
  // A link or tag the share refuses (a bad URL, a tag that names no folder), or a full
  // mailbox: the mail goes on as it is, and delivery's own rules answer.
  if (!out && (store::is(out.error(), store::Errc::invalid) || store::is(out.error(), store::Errc::quota)))
    co_return std::nullopt;
  if (!out) co_return Status(out.error());
  co_return Status();
}

Result<std::unique_ptr<dns::Resolver>> make_resolver(const Config& cfg, asio::io_context& io) {
  if (cfg.dev && cfg.dns.upstream.empty()) return std::unique_ptr<dns::Resolver>();
  return dns::Resolver::create(io, cfg.dns);
}

auth::LoginPolicy make_login_policy(const Config& cfg, const auth::BreachedList& breached, auth::Throttle& throttle,
                                    audit::Log* audit, reports::SignInWatch& watch, const log::Logger& log) {
  auth::LoginPolicy login;
  login.breached = &breached;
  login.throttle = &throttle;
  login.audit = audit;
  login.block_breached = cfg.security.block_breached;
  login.log = log;
  login.on_login = [&watch](const std::string& user, const std::string& ip, std::string_view service,
                            const std::string& client, bool is_login) {
    watch.on_login(user, ip, service, client, is_login);
  };
  login.on_breached = [&watch](const std::string& address, bool blocked, bool newly) {
    watch.on_breached(address, blocked, newly);
  };
  return login;
}

// The MX (port 25): the inbound pipeline decides, forwarded copies wake the queue.
smtp::ServerConfig mx_config(const Config& cfg, const srs::Srs& srs, const auth::LoginPolicy& login,
                             smtp::Pipeline& pipeline, std::function<void()> on_queued) {
  smtp::ServerConfig sc;
  static_cast<smtp::Limits&>(sc.session) = cfg.smtp.limits;
  sc.session.hostname = cfg.hostname;
  sc.srs = &srs;
  sc.login = &login;
  sc.pipeline = &pipeline;
  sc.on_queued = std::move(on_queued);
  return sc;
}

// Submission (587, 465): the limits of [smtp] but its own connection limits; containment
// may refuse a message; in dev mode mail for elsewhere is captured, never sent.
smtp::ServerConfig submission_config(const Config& cfg, const smtp::ServerConfig& mx, smtp::SubmissionGuard& guard,
                                     std::function<void()> on_queued) {
  smtp::ServerConfig sc = mx;
  sc.name = "submission";
  sc.pipeline = nullptr;
  sc.guard = &guard;
  sc.on_queued = std::move(on_queued);
  sc.session.submission = true;
  sc.session.max_connections = cfg.submission.max_connections;
  sc.session.max_connections_per_ip = cfg.submission.max_connections_per_ip;
  sc.capture_remote = cfg.dev;
  return sc;
}

outbound::RunnerConfig runner_config(const Config& cfg, const srs::Srs& srs, guard::Containment& containment,
                                     metrics::Registry& metrics) {
  outbound::RunnerConfig rc;
  rc.metrics = &metrics;
  static_cast<outbound::Settings&>(rc) = cfg.outbound;
  rc.hostname = cfg.hostname;
  rc.srs = &srs;
  rc.on_verdicts = [&containment](std::int64_t account, int delivered, int refused) {
    containment.verdicts(account, delivered, refused);
  };
  return rc;
}

imap::ServerConfig imap_config(const Config& cfg, const auth::LoginPolicy& login, inbound::UserModels& user_models,
                               metrics::Registry& metrics) {
  imap::ServerConfig ic;
  static_cast<imap::Limits&>(ic) = cfg.imap.limits;
  ic.session.hostname = cfg.hostname;
  ic.session.login = &login;
  // APPEND takes the messages SMTP would accept: one size limit for mail, however it arrives.
  ic.session.max_append_size = cfg.smtp.limits.max_message_size;
  // Moving mail into or out of Junk teaches the user's spam model (and is counted: what users
  // take out of Junk is the filter's false positives).
  ic.on_train = [&user_models, &metrics](imap::Session::TrainEvent ev) {
    metrics
        .counter("mailkeep_filter_trained_total",
                 "Messages users moved out of Junk (as=ham) or into it or deleted unread from it (as=spam).",
                 {{"as", ev.spam ? "spam" : "ham"}})
        .inc(std::max(ev.uids.size(), ev.gone.size()));
    user_models.train(std::move(ev));
  };
  return ic;
}

std::vector<asio::ip::tcp::endpoint> endpoints(const std::vector<ListenAddr>& v) {
  std::vector<asio::ip::tcp::endpoint> eps;
  for (const auto& l : v) eps.emplace_back(asio::ip::make_address(l.host), l.port);
  return eps;
}

}  // namespace

int run_server(const Config& cfg,
               const std::function<void(const std::vector<std::string>&)>& on_ready) {
  std::signal(SIGPIPE, SIG_IGN);
  auto sink = std::make_shared<log::Sink>(2, cfg.log_format, cfg.log_level);
  log::Logger log(sink);
  auto fail = [](const Error& e, int code) {
    std::fprintf(stderr, "mailkeep: %s\n", e.message.c_str());
    return code;
  };

  if (::mkdir(cfg.data_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(err("cannot create data directory " + cfg.data_dir), kExitRuntime);
  InstanceLock lock;
  if (auto s = lock.acquire(cfg.data_dir); !s) return fail(s.error(), kExitRuntime);
  auto store_or = make_store(cfg, log);
  if (!store_or) return fail(store_or.error(), kExitRuntime);
  auto& store = *store_or;
  // Certificates from the CA: the keys quickstart makes (their TLSA records published) are
  // the ones certificates are asked for; an instance without them gets them now.
  const std::string acme_off = acme_off_reason(cfg);
  if (acme_off.empty()) {
    if (auto s = net::ensure_tls_keys(cfg.data_dir); !s) return fail(s.error(), kExitRuntime);
  } else if (!cfg.dev) {
    log.info("tls.acme_off", {{"reason", acme_off}});
  }
  std::string cert_file;
  auto tls = make_server_tls(cfg, log, &cert_file);
  if (!tls) return fail(tls.error(), kExitUsage);
  auto srs = make_srs(cfg);
  if (!srs) return fail(srs.error(), kExitRuntime);
  // What the services count, read by the /metrics endpoint; outlives every service.
  metrics::Registry metrics;
  auto audit_log = audit::Log::open(cfg.data_dir + "/security.log");
  if (!audit_log) return fail(audit_log.error(), kExitRuntime);
  // Shipping the security log to collectors: made right after the log, so it outlives every
  // service that appends to it.
  auto shipper = make_shipper(cfg, **audit_log, *sink, log.with({{"svc", "log"}}));
  if (!shipper) return fail(shipper.error(), kExitUsage);
  Result<std::string> metrics_token = std::string();
  if (!cfg.metrics.token_file.empty()) metrics_token = read_metrics_token(cfg.metrics.token_file);
  if (!metrics_token) return fail(metrics_token.error(), kExitUsage);

  // Server-generated mail (alerts, DSNs, reports); remote recipients wake the queue runner
  // once it exists (the runner lives with the io_context below: its timers must go first).
  std::function<void()> wake_runner;
  auto wake = [&wake_runner] {
    if (wake_runner) wake_runner();
  };
  delivery::ServerMail server_mail(*store, *store, log.with({{"svc", "mail"}}), wake, &*srs);
  reports::Alerts alerts(server_mail, cfg.hostname, cfg.security.admin_address, log.with({{"svc", "alerts"}}));
  reports::SignInWatch sign_ins(*store, alerts, audit_log->get(), log.with({{"svc", "auth"}}));
  // Logins are checked against the breached-password list, re-read when it is replaced.
  const auth::BreachedList breached(cfg.data_dir + "/breached.idx");
  auth::Throttle throttle(cfg.security.throttle, store.get(), log.with({{"svc", "auth"}}));
  // SCRAM's salts for unknown users derive from a key kept here: one random per process
  // would change them at each restart while real accounts' stay, telling the two apart.
  auto scram_salt_key =
      read_or_create_secret(cfg.data_dir + "/scram-salt.key", "unknown users' SCRAM salts change once");
  if (!scram_salt_key) return fail(scram_salt_key.error(), kExitRuntime);
  auth::LoginPolicy login =
      make_login_policy(cfg, breached, throttle, audit_log->get(), sign_ins, log.with({{"svc", "auth"}}));
  login.scram_salt_key = std::move(*scram_salt_key);

  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  // The io threads only move bytes; what may block (the store, argon2id, message files)
  // runs on the work pool (net/offload.hpp). Declared first: it outlives every user.
  asio::thread_pool work(std::max(kMinWorkThreads, 2 * threads));
  // Clients that have not logged in yet (argon2id): one thread per core, apart from `work`.
  asio::thread_pool logins(threads);
  asio::io_context io{int(threads)};
  auto resolver = make_resolver(cfg, io);
  if (!resolver) return fail(resolver.error(), kExitUsage);
  if (*resolver) (*resolver)->count_into(metrics);
  // The MX's chain: sender authentication, then the spam filter on every accepted message.
  const InboundChain inbound = make_inbound_chain(cfg, resolver->get(), *store, log, false, &work);
  // Containment scores submitted mail with the same filter and model as the MX.
  guard::ContentFilter content_filter{cfg.spam.thresholds,
                                      [model = inbound.spam_model.get()] { return model->current_and_base(); }};
  guard::Containment containment(cfg.security.sending, *store, alerts, audit_log->get(), log.with({{"svc", "guard"}}),
                                 std::move(content_filter));

  auto mx_cfg = mx_config(cfg, *srs, login, *inbound.recorder, wake);
  mx_cfg.work = &work;
  mx_cfg.login_work = &logins;
  mx_cfg.metrics = &metrics;
  smtp::Server smtp_server(io, mx_cfg, *store, *tls, log.with({{"svc", "smtp"}}));
  if (auto s = smtp_server.listen(endpoints(cfg.smtp.listen)); !s) return fail(s.error(), kExitRuntime);
  // Outbound delivery (never in dev mode: nothing leaves a dev instance).
  std::unique_ptr<outbound::Runner> runner;
  if (!cfg.dev) {
    auto client_tls = net::make_client_tls(cfg.outbound.ca_file);
    if (!client_tls) return fail(client_tls.error(), kExitRuntime);
    runner = std::make_unique<outbound::Runner>(io, runner_config(cfg, *srs, containment, metrics), *store, **resolver,
                                                *client_tls, log.with({{"svc", "outbound"}}));
    wake_runner = [r = runner.get()] { r->wake(); };
    if (!cfg.dns.dnssec) log.warn("dns.dnssec_off", {{"hint", "DANE needs DNSSEC; set dns.dnssec = true"}});
  }
  // Share a link: pages are fetched through our resolver (an instance without one, dev, can
  // fetch only addresses given as such), each address checked (share/fetch.hpp).
  NoDns no_dns;
  share::Limit share_limit;  // the page's, the tokens' and the mail's shares alike
  std::unique_ptr<share::Fetcher> share_fetcher;
  std::unique_ptr<share::Sharer> sharer;
  if (cfg.share.enabled) {
    auto share_tls = net::make_client_tls();
    if (!share_tls) return fail(share_tls.error(), kExitRuntime);
    share::FetchPolicy fp;
    fp.allow = cfg.share.fetch_allow;
    for (const auto& ip : net::interface_addresses())
      if (!net::is_loopback(ip)) fp.own.push_back(ip);
    share_fetcher = std::make_unique<share::Fetcher>(*resolver ? static_cast<dns::Lookup&>(**resolver) : no_dns,
                                                     std::move(*share_tls), std::move(fp));
    sharer = std::make_unique<share::Sharer>(*share_fetcher, *store, *store, &work, cfg.hostname, log.with({{"svc", "share"}}));
  }
  auto sub_cfg = submission_config(cfg, mx_cfg, containment, wake);
  // What a user answers is ham to them: replies teach the spam filter (inbound/spam_filter.hpp).
  // Only the message In-Reply-To names: References are copied from the message answered, so
  // a sender could point them at its own spam in the user's Junk (review of issue 18).
  if (sharer)
    sub_cfg.to_self = [s = sharer.get(), &share_limit, &login](const smtp::Transaction& txn, const message::Parsed& msg,
                                                              std::string account) {
      return share_by_mail(*s, share_limit, login, txn, msg, std::move(account));
    };
  sub_cfg.on_submitted = [users = inbound.user_models.get()](std::int64_t account, const message::Parsed& msg) {
    if (msg.field("In-Reply-To") && !msg.thread_ids().empty()) users->replied(account, {msg.thread_ids().front()});
  };
  smtp::Server submission_server(io, std::move(sub_cfg), *store, *tls, log.with({{"svc", "submission"}}));
  if (auto s = submission_server.listen(endpoints(cfg.submission.listen), endpoints(cfg.submission.listen_tls)); !s)
    return fail(s.error(), kExitRuntime);

  imap::Notifier notifier;
  store->set_change_listener([&notifier](std::int64_t mailbox) { notifier.notify(mailbox); });
  auto ic = imap_config(cfg, login, *inbound.user_models, metrics);
  ic.work = &work;
  ic.login_work = &logins;
  ic.metrics = &metrics;
  imap::Server imap_server(io, std::move(ic), *store, *tls, notifier, log.with({{"svc", "imap"}}));
  if (auto s = imap_server.listen(endpoints(cfg.imap.listen), endpoints(cfg.imap.listen_tls)); !s)
    return fail(s.error(), kExitRuntime);

  // The web server: ACME challenges and the redirect on HTTP, the well-known files on HTTPS.
  http::AcmeChallenges acme_challenges;
  // The JSON API (/api/v1/) and its sessions; the admin pages and self-service use it.
  web::Sessions web_sessions(cfg.web, *store, login, log.with({{"svc", "web"}}));
  web::Services web_services{*store,
                             login,
                             breached_index_path(cfg.data_dir),
                             (*audit_log)->path(),
                             cfg.hostname,
                             [&store, &cfg](const std::string& domain) -> Result<web::Services::DnsPlan> {
                               auto plan = dns_plan(*store, cfg, {domain});
                               if (!plan) return plan.error();
                               return web::Services::DnsPlan{std::move(plan->records), std::move(plan->notes)};
                             },
                             {},  // server_status: set below, once the certificates exist
                             cfg.data_dir + "/" + std::string(kLastCheckFile),
                             {}};  // tell_admin: set below
  web_services.tell_admin = [&alerts](const std::string& subject, const std::string& body) {
    alerts.tell_admin(subject, body);
  };
  web_services.tell_user = [&alerts](const std::string& address, const std::string& subject, const std::string& body) {
    alerts.tell_user(address, subject, body);
  };
  web_services.reports.spam = [&store](int days, std::int64_t now) { return spam_stats_json(*store, days, now); };
  web_services.reports.dmarc = [&store](int days, std::int64_t now) { return dmarc_report_json(*store, days, now); };
  web_services.reports.security = [&cfg, &store](const std::string& month) {
    return security_report_json(cfg, *store, month);
  };
  web_services.check_dns = [&cfg, &store, &work, &io](std::string domain) {
    return live_dns_check(cfg, *store, &work, io, std::move(domain));
  };
  web_services.share_limit = &share_limit;
  if (runner)
    web_services.return_to_sender = [r = runner.get()](std::int64_t id, const std::string& reason) {
      return r->return_to_sender(id, reason);
    };
  if (sharer)
    web_services.share = [s = sharer.get()](store::Account account, share::Request request) {
      return s->share(std::move(account), std::move(request));
    };
  web::Api api(web_sessions);
  web::add_session_routes(api, web_services);
  web::add_self_routes(api, web_services);
  web::add_admin_routes(api, web_services);
  web::add_share_routes(api, web_services);
  web::add_report_routes(api, web_services);
  const auto router = make_router(cfg, *store, acme_challenges, &api);
  http::ServerConfig hc;
  static_cast<http::Limits&>(hc) = cfg.http.limits;
  hc.work = &work;
  hc.login_work = &logins;
  hc.slow = [&api](const http::Request& req) { return api.slow(req); };
  hc.metrics = &metrics;
  http::Server web_server(io, hc, *router, *tls, log.with({{"svc", "http"}}));
  if (auto s = web_server.listen(endpoints(cfg.http.listen), endpoints(cfg.http.listen_tls)); !s)
    // Another web server on 80/443 (an upgrade on a host that runs one): say how to go on.
    return fail(err(s.error().message + "; if another web server has the port, set [http] listen = [] and "
                                        "listen_tls = [] (mailkeep then serves no MTA-STS policy, no client "
                                        "autoconfiguration, and cannot answer ACME HTTP-01), or choose other ports"),
                kExitRuntime);

  // The certificate every listener presents, replaced without a restart: from the CA, or
  // certificate files reloaded when replaced (tls.cert, tls.key).
  net::CertStore certificates;
  certificates.install((*tls)->native_handle());
  certs::ManagerConfig mc;
  mc.hostname = cfg.hostname;
  mc.watch_cert = cfg.tls_cert;
  mc.watch_key = cfg.tls_key;
  mc.chain_file = net::tls_cert_path(cfg.data_dir);
  mc.key_file = net::tls_key_path(cfg.data_dir);
  mc.domains = [&store] {
    auto d = store->list_domains();
    return d ? *d : std::vector<std::string>{};
  };
  std::unique_ptr<acme::HttpsTransport> acme_transport;
  std::unique_ptr<certs::AcmeIssuer> acme_issuer;
  if (acme_off.empty()) {
    auto account = acme_account_key(cfg);
    if (!account) return fail(account.error(), kExitRuntime);
    auto transport = acme::HttpsTransport::create(acme::HttpsSettings{cfg.acme.ca_file});
    if (!transport) return fail(transport.error(), kExitUsage);
    acme_transport = std::move(*transport);
    acme_issuer = std::make_unique<certs::AcmeIssuer>(*acme_transport, cfg.acme, std::move(*account), acme_challenges,
                                                      certificates, log.with({{"svc", "acme"}}));
  }
  certs::Manager cert_manager(io, mc, certificates, acme_issuer.get(), resolver->get(), log.with({{"svc", "tls"}}));

  // The Prometheus endpoint: plain HTTP on loopback, HTTPS with the server's certificate on
  // any other address (its bearer token must not cross a network in clear). A port already
  // taken is fatal like any listener's: another program answering there would tell
  // Prometheus all is well.
  // The dashboard's view of what only the running server knows.
  web_services.server_status = [&certificates, &cert_file, shipper = shipper->get(), log_path = (*audit_log)->path()] {
    boost::json::object out;
    auto info = certificates.current();
    if (!info && !cert_file.empty())
      if (auto pem = read_file(cert_file, 1 << 20))
        if (auto d = net::describe_chain(*pem)) info = *d;
    if (info) out["certificate"] = boost::json::object{{"expires", info->not_after}, {"self_signed", info->self_signed}};
    boost::json::array links;
    if (shipper) {
      const std::uint64_t head = audit::read_head(log_path).seq;
      for (const auto& l : shipper->state()) {
        const std::uint64_t done = l.acknowledged ? l.acked : l.sent;
        links.push_back(boost::json::object{{"collector", l.collector},
                                            {"connected", l.connected},
                                            {"behind", std::int64_t(head > done ? head - done : 0)}});
      }
    }
    out["log_shipping"] = std::move(links);
    return out;
  };
  MetricsSources sources{store.get(), store.get(), store.get(), &certificates, cert_file, shipper->get(),
                         (*audit_log)->path()};
  collect_at_scrape(metrics, std::move(sources));
  auto metrics_router = make_metrics_router(metrics, *metrics_token, cfg.hostname);
  http::ServerConfig metrics_hc;
  metrics_hc.work = &work;
  metrics_hc.quiet_successes = true;
  // Every local user shares 127.0.0.1: room for many, and a request that does not arrive at
  // once loses its slot quickly, so nobody can hold them all for long.
  metrics_hc.max_connections = kMetricsConnections;
  metrics_hc.max_connections_per_ip = kMetricsConnections;
  metrics_hc.header_timeout = kMetricsHeaderTimeout;
  metrics_hc.request_timeout = kMetricsHeaderTimeout;
  http::Server metrics_server(io, metrics_hc, *metrics_router, *tls, log.with({{"svc", "metrics"}}));
  std::vector<asio::ip::tcp::endpoint> metrics_plain, metrics_tls;
  for (const auto& ep : endpoints(cfg.metrics.listen))
    (ep.address().is_loopback() ? metrics_plain : metrics_tls).push_back(ep);
  if (auto s = metrics_server.listen(metrics_plain, metrics_tls); !s)
    return fail(err(s.error().message + "; set [metrics] listen to a free port, or [] to turn /metrics off"),
                kExitRuntime);
  // Counters' daily totals for the monthly security report, kept once a minute, and the
  // report mailed to the admin on the first of each month (app/stats.hpp).
  StatsKeeper stats(metrics, *store, shipper->get(), log.with({{"svc", "stats"}}));
  MonthlyReport monthly(
      cfg.data_dir + "/security-report.month",
      [&](const std::string& month) -> Status {
        auto r = build_security_report(month, cfg.hostname, (*audit_log)->path(), *store);
        if (!r) return r.error();
        alerts.tell_admin(fmt::format("Security report for {}, {}", cfg.hostname, month), render_text(*r));
        return {};
      },
      log.with({{"svc", "report"}}));
  asio::steady_timer stats_timer(io);
  std::function<void()> keep_stats = [&] {
    stats_timer.expires_after(std::chrono::minutes(1));
    stats_timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      // The store is written on the work pool, never on an io thread.
      asio::post(work, [&] {
        const std::int64_t now = std::time(nullptr);
        stats.tick(now);
        monthly.check(now);
      });
      keep_stats();
    });
  };

  std::vector<std::string> lines;
  auto announce = [&](const char* svc, const char* how, const std::vector<asio::ip::tcp::endpoint>& eps) {
    for (const auto& ep : eps) {
      std::string addr = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
      lines.push_back(fmt::format("{} {}:{} ({})", svc, addr, ep.port(), how));
      log.info("listen", {{"svc", svc}, {"addr", addr}, {"port", ep.port()}});
    }
  };
  announce("smtp", "STARTTLS", smtp_server.local_endpoints());
  announce("submission", "STARTTLS", submission_server.local_endpoints());
  announce("submissions", "TLS", submission_server.tls_endpoints());
  announce("imap", "STARTTLS", imap_server.plain_endpoints());
  announce("imaps", "TLS", imap_server.tls_endpoints());
  announce("http", "ACME and redirect", web_server.endpoints());
  announce("https", "TLS", web_server.tls_endpoints());
  announce("metrics", "/metrics", metrics_server.endpoints());
  announce("metrics", "/metrics over TLS", metrics_server.tls_endpoints());
  smtp_server.start();
  submission_server.start();
  if (runner && !cfg.outbound.paused) runner->start();
  if (runner && cfg.outbound.paused) log.warn("outbound.paused", {{"hint", "set outbound.paused = false to send queued mail"}});
  if (!cfg.spam.shared_learning)
    log.info("filter.shared_learning_off", {{"hint", "each user's spam model learns only from that user; new users start from spam.model alone"}});
  else if (!cfg.spam.auto_learn)
    log.info("filter.auto_learn_off", {{"hint", "the instance's spam model learns only from what users do"}});
  std::unique_ptr<reports::DmarcReporter> dmarc_reporter;
  if (runner && cfg.dmarc.send_reports) {
    dmarc_reporter = std::make_unique<reports::DmarcReporter>(io, *store, server_mail, **resolver, cfg.hostname,
                                                              cfg.dmarc.report_interval, log.with({{"svc", "dmarc"}}));
    dmarc_reporter->start();
  }
  imap_server.start();
  web_server.start();
  metrics_server.start();
  cert_manager.start();
  stats.tick(std::time(nullptr));  // starts the shipping uptime clock
  // A report owed since the server was last running goes out now, not a minute later.
  asio::post(work, [&] { monthly.check(std::time(nullptr)); });
  keep_stats();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::signal_set reload(io, SIGHUP);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log.info("shutdown", {{"signal", sig}, {"grace_ms", cfg.shutdown_grace.count()}});
    smtp_server.shutdown(cfg.shutdown_grace);
    submission_server.shutdown(cfg.shutdown_grace);
    if (runner) runner->stop();
    if (dmarc_reporter) dmarc_reporter->stop();
    if (*resolver) (*resolver)->stop();
    imap_server.shutdown(cfg.shutdown_grace);
    web_server.shutdown(cfg.shutdown_grace);
    metrics_server.shutdown(cfg.shutdown_grace);
    stats_timer.cancel();
    cert_manager.stop();
    reload.cancel();
  });
  // SIGHUP (systemctl reload): look at the certificate again now, after a key rollover or a
  // new domain, instead of at the next hourly look.
  std::function<void()> on_reload = [&] {
    reload.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      log.info("reload", {{"what", "certificates"}});
      cert_manager.wake();
      on_reload();
    });
  };
  on_reload();
  on_ready(lines);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  work.join();
  logins.join();
  // Shutting down: a repeated SIGTERM/SIGINT from now on must not kill the process while the
  // store closes (the signal set no longer handles them once destroyed).
  signals.clear();
  reload.clear();
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  store->set_change_listener(nullptr);
  stats.tick(std::time(nullptr));  // the last minute's counts
  store->close();  // waits for the last group commit
  log.info("stopped");
  return kExitOk;
}

int cmd_serve(const std::string& config_path) {
  auto cfg = load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return kExitUsage;
  }
  return run_server(*cfg, [](const std::vector<std::string>& lines) {
    for (const auto& l : lines) std::printf("listening %s\n", l.c_str());
    std::fflush(stdout);
  });
}

}  // namespace mk::app
