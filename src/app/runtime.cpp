// The server process: single-instance lock, store, TLS, listeners, worker threads, signals.
#include <functional>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <cstdio>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>

#include <fmt/format.h>

#include "app/app.hpp"
#include "base/strings.hpp"
#include "net/selfsigned.hpp"
#include "imap/server/server.hpp"
#include "app/alerts.hpp"
#include "app/containment.hpp"
#include "app/dmarc_reports.hpp"
#include "app/pipeline.hpp"
#include "app/spam_filter.hpp"
#include "dns/resolver.hpp"
#include "audit/log.hpp"
#include "auth/breached.hpp"
#include "auth/login.hpp"
#include "auth/throttle.hpp"
#include "srs/srs.hpp"
#include "outbound/runner.hpp"
#include "smtp/server.hpp"

namespace mk::app {

namespace asio = boost::asio;

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

// A 32-byte random key in a 0600 file, created on first use.
static Result<std::string> read_or_create_secret(const std::string& path) {
  constexpr std::size_t kSecretBytes = 32;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[256];
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    if (n >= kSecretBytes) return std::string(buf, n);
    return err(path + ": the key file is damaged; remove it to make a new one (old SRS addresses stop working)");
  }
  const std::string key = random_id(kSecretBytes);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return err("cannot create " + path);
  const bool ok = ::write(fd, key.data(), key.size()) == ssize_t(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return err("cannot write " + path);
  return key;
}

int run_server(const Config& cfg,
               const std::function<void(const std::vector<std::string>&)>& on_ready) {
  std::signal(SIGPIPE, SIG_IGN);
  auto sink = std::make_shared<log::Sink>(2, cfg.log_format, cfg.log_level);
  log::Logger log(sink);

  if (::mkdir(cfg.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "mailkeep: cannot create data directory %s\n", cfg.data_dir.c_str());
    return kExitRuntime;
  }
  InstanceLock lock;
  if (auto s = lock.acquire(cfg.data_dir); !s) {
    std::fprintf(stderr, "mailkeep: %s\n", s.error().message.c_str());
    return kExitRuntime;
  }
  auto opened = store::open(cfg.store);
  if (!opened) {
    std::fprintf(stderr, "mailkeep: %s\n", opened.error().message.c_str());
    return kExitRuntime;
  }
  auto store = std::move(opened.value());
  if (auto n = store->recover(); !n) {
    log.error("store.sweep_failed", {{"error", n.error().message}});
  } else if (*n > 0) {
    log.info("store.swept_orphans", {{"files", *n}});
  }

  // TLS: the configured certificate, else a self-signed one kept in the data directory so
  // STARTTLS is always offered (opportunistic TLS between MTAs does not need a CA chain).
  std::string cert = cfg.tls_cert, key = cfg.tls_key;
  if (cert.empty()) {
    ::mkdir((cfg.data_dir + "/tls").c_str(), 0700);
    cert = cfg.data_dir + "/tls/selfsigned-cert.pem";
    key = cfg.data_dir + "/tls/selfsigned-key.pem";
    if (!file_exists(cert) || !file_exists(key)) {
      if (auto s = net::write_self_signed(cert, key, {cfg.hostname}, cfg.dev ? std::vector<std::string>{"127.0.0.1", "::1"} : std::vector<std::string>{});
          !s) {
        std::fprintf(stderr, "mailkeep: %s\n", s.error().message.c_str());
        return kExitRuntime;
      }
    }
    if (!cfg.dev)
      log.warn("tls.self_signed", {{"cert", cert}, {"hint", "set tls.cert and tls.key to a CA-issued certificate"}});
  }
  auto tls = net::make_server_tls(cert, key, cfg.tls_min);

  // The SRS key, made once and kept in the data directory: addresses it signed must still
  // reverse after a restart.
  auto srs_secret = read_or_create_secret(cfg.data_dir + "/srs.key");
  if (!srs_secret) {
    std::fprintf(stderr, "mailkeep: %s\n", srs_secret.error().message.c_str());
    return kExitRuntime;
  }
  const srs::Srs srs(*srs_secret);
  // Logins are checked against the breached-password list, re-read when it is replaced.
  const auth::BreachedList breached(cfg.data_dir + "/breached.idx");
  auth::ThrottleConfig tc;
  for (const auto& n : cfg.security.allow_networks)
    if (auto net = IpNetwork::parse(n)) tc.allow.push_back(*net);
  tc.failures_before_ban = int(cfg.security.login_failures_before_ban);
  tc.ban = std::chrono::duration_cast<std::chrono::seconds>(cfg.security.ban_time).count();
  auth::Throttle throttle(tc, store.get(), log.with({{"svc", "auth"}}));
  auto audit_log = audit::Log::open(cfg.data_dir + "/security.log");
  if (!audit_log) {
    std::fprintf(stderr, "mailkeep: %s\n", audit_log.error().message.c_str());
    return kExitRuntime;
  }
  auth::LoginPolicy login;
  login.breached = &breached;
  login.throttle = &throttle;
  login.audit = audit_log->get();
  login.block_breached = cfg.security.block_breached;
  login.log = log.with({{"svc", "auth"}});
  // Security alerts by mail; remote recipients wake the queue runner once it exists (the
  // runner itself lives with the io_context below: its timers must go before it).
  std::function<void()> wake_runner;
  Alerts alerts(*store, cfg.hostname, cfg.security.admin_address, [&wake_runner] {
    if (wake_runner) wake_runner();
  }, log.with({{"svc", "alerts"}}));
  login.on_login = [&alerts, &store, log](const std::string& user, const std::string& ip, std::string_view service,
                                          const std::string& client, bool is_login) {
    auto addr = IpAddr::parse(ip);
    const std::string network = addr ? auth::Throttle::network_key(*addr) : ip;
    const std::int64_t now = std::time(nullptr);
    bool new_network = false, new_client = false;
    if (is_login) {
      auto seen = store->note_login(user, network, service, now);
      log.ok_or_log(seen, "auth.login_history_failed", {{"user", user}});
      new_network = seen && seen->new_network;
    }
    if (!client.empty()) {
      auto seen = store->note_client(user, client, now);
      log.ok_or_log(seen, "auth.client_history_failed", {{"user", user}});
      new_client = seen && seen->new_client && !seen->first_client;
    }
    if (!new_network && !new_client) return;
    log.info("auth.new_sign_in", {{"user", user}, {"ip", ip}, {"service", service}, {"client", log_safe(client, 100)},
                                  {"new_network", new_network}, {"new_client", new_client}});
    const std::string what = new_network && new_client ? "a network and a program"
                             : new_network             ? "a network"
                                                       : "a program";
    alerts.tell_user(user, "New sign-in to your mail account",
                     fmt::format("Someone signed in to {} from {} ({}{}), {} this account had not used before.\n\n"
                                 "If it was you, nothing needs to be done. If not, change your password now\n"
                                 "(ask your mail administrator) and check your Sent folder.\n",
                                 user, ip, service, client.empty() ? "" : ", with " + client, what));
  };
  login.on_breached = [log, &alerts, a = audit_log->get()](const std::string& address, bool blocked, bool newly) {
    log.ok_or_log(a->append("password_breached", {{"user", address}, {"action", blocked ? "login refused" : "warned"}}),
                  "audit.append_failed", {{"event", "password_breached"}});
    log.warn("auth.breached_password", {{"user", address}, {"action", blocked ? "login refused" : "allowed (warn)"},
                                        {"hint", "the password is in a breach list: change it (mailkeep account passwd)"}});
    if (!newly) return;
    const std::string body = fmt::format(
        "The password of {} appears in a list of passwords exposed in data breaches.\n"
        "Attackers try such passwords first. {}\nChoose a new password that you use nowhere else.\n",
        address, blocked ? "Logins with it are refused until it is changed." : "Please change it soon.");
    alerts.tell_user(address, "Your mail password was found in a data breach", body);
    alerts.tell_admin("Breached password: " + address, body);
  };
  if (!tls) {
    std::fprintf(stderr, "mailkeep: %s\n", tls.error().message.c_str());
    return kExitUsage;
  }

  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  asio::io_context io{int(threads)};

  smtp::ServerConfig sc;
  sc.srs = &srs;
  sc.login = &login;
  guard::Limits limits;
  limits.messages_per_hour = int(cfg.security.max_messages_per_hour);
  limits.recipients_per_day = int(cfg.security.max_recipients_per_day);
  limits.new_recipients_per_hour = int(cfg.security.max_new_recipients_per_hour);
  Containment containment(limits, *store, alerts, audit_log->get(), log.with({{"svc", "guard"}}));
  sc.session.hostname = cfg.hostname;
  sc.session.max_message_size = cfg.smtp.max_message_size;
  sc.session.max_recipients = cfg.smtp.max_recipients;
  sc.session.max_errors = cfg.smtp.max_errors;
  sc.max_connections = cfg.smtp.max_connections;
  sc.max_connections_per_ip = cfg.smtp.max_connections_per_ip;
  sc.command_timeout = cfg.smtp.command_timeout;
  sc.data_timeout = cfg.smtp.data_timeout;
  sc.session_timeout = cfg.smtp.session_timeout;
  // DNS: always in production; in dev mode only when dns.upstream names a server (a dev
  // instance has no internet to recurse from).
  std::unique_ptr<dns::Resolver> resolver;
  if (!cfg.dev || !cfg.dns.upstream.empty()) {
    dns::Config dc;
    dc.upstream = cfg.dns.upstream;
    dc.dnssec = cfg.dns.dnssec;
    dc.trust_anchor = cfg.dns.trust_anchor;
    auto r = dns::Resolver::create(io, dc);
    if (!r) {
      std::fprintf(stderr, "mailkeep: %s\n", r.error().message.c_str());
      return kExitUsage;
    }
    resolver = std::move(*r);
  }
  // Sender authentication on the MX whenever DNS is available.
  std::unique_ptr<AuthPipeline> pipeline;
  if (resolver) {
    AuthPipeline::Options po;
    po.authserv_id = cfg.hostname;
    po.trusted_sealers = cfg.smtp.arc_trusted_sealers;
    po.record_for_reports = cfg.dmarc.send_reports && !cfg.dev;  // reports go out through the queue
    po.report_interval = std::chrono::duration_cast<std::chrono::seconds>(cfg.dmarc.report_interval).count();
    po.log = log.with({{"svc", "smtp"}});
    po.dns_budget = cfg.dns.message_budget;
    po.dns_query_timeout = cfg.dns.query_timeout;
    pipeline = std::make_unique<AuthPipeline>(*resolver, *store, po);
  }
  // The spam filter runs on every message the MX accepts, after sender authentication.
  SpamModel spam_model(spam_model_path(cfg.data_dir));
  UserModels user_models(cfg.data_dir + "/spam", *store, spam_model, log.with({{"svc", "filter"}}));
  InboundPipeline inbound(pipeline.get(), resolver.get(), cfg.spam.lists, spam_model, user_models, *store,
                          filter::Thresholds{cfg.spam.tag_score, cfg.spam.junk_score, cfg.spam.reject_score},
                          log.with({{"svc", "filter"}}));
  sc.pipeline = &inbound;
  // Forwarded mail (aliases to other domains) is queued by the MX too.
  std::unique_ptr<outbound::Runner> runner;
  sc.on_queued = [&wake_runner] {
    if (wake_runner) wake_runner();
  };
  smtp::Server smtp_server(io, sc, *store, *tls, log.with({{"svc", "smtp"}}));
  auto endpoints = [](const std::vector<ListenAddr>& v) {
    std::vector<asio::ip::tcp::endpoint> eps;
    for (const auto& l : v) eps.emplace_back(asio::ip::make_address(l.host), l.port);
    return eps;
  };
  if (auto s = smtp_server.listen(endpoints(cfg.smtp.listen)); !s) {
    std::fprintf(stderr, "mailkeep: %s\n", s.error().message.c_str());
    return kExitRuntime;
  }
  // Outbound delivery (never in dev mode: nothing leaves a dev instance).
  if (!cfg.dev) {
    auto client_tls = net::make_client_tls(cfg.outbound.ca_file);
    if (!client_tls) {
      std::fprintf(stderr, "mailkeep: %s\n", client_tls.error().message.c_str());
      return kExitRuntime;
    }
    outbound::RunnerConfig rc;
    rc.hostname = cfg.hostname;
    rc.port = cfg.outbound.port;
    rc.max_age = std::chrono::duration_cast<std::chrono::seconds>(cfg.outbound.max_age);
    rc.delay_warning = std::chrono::duration_cast<std::chrono::seconds>(cfg.outbound.delay_warning);
    rc.connections_per_domain = cfg.outbound.connections_per_domain;
    rc.min_backoff = std::chrono::duration_cast<std::chrono::seconds>(cfg.outbound.retry_min);
    rc.max_connections = cfg.outbound.max_connections;
    rc.connect_timeout = cfg.outbound.connect_timeout;
    rc.command_timeout = cfg.outbound.command_timeout;
    rc.data_timeout = cfg.outbound.command_timeout * 2;
    rc.tls_report_interval = std::chrono::duration_cast<std::chrono::seconds>(cfg.outbound.tls_report_interval);
    rc.on_verdicts = [&containment](std::int64_t account, int delivered, int refused) {
      containment.verdicts(account, delivered, refused);
    };
    runner = std::make_unique<outbound::Runner>(io, rc, *store, *resolver, *client_tls, log.with({{"svc", "outbound"}}));
    wake_runner = [r = runner.get()] { r->wake(); };
    if (!cfg.dns.dnssec) log.warn("dns.dnssec_off", {{"hint", "DANE needs DNSSEC; set dns.dnssec = true"}});
  }
  smtp::ServerConfig subc = sc;
  subc.pipeline = nullptr;
  subc.guard = &containment;
  subc.on_queued = nullptr;
  subc.name = "submission";
  subc.session.submission = true;
  subc.max_connections = cfg.submission.max_connections;
  subc.max_connections_per_ip = cfg.submission.max_connections_per_ip;
  subc.capture_remote = cfg.dev;  // dev mode never sends mail out
  if (runner) subc.on_queued = [r = runner.get()] { r->wake(); };
  smtp::Server submission_server(io, subc, *store, *tls, log.with({{"svc", "submission"}}));
  if (auto s = submission_server.listen(endpoints(cfg.submission.listen), endpoints(cfg.submission.listen_tls)); !s) {
    std::fprintf(stderr, "mailkeep: %s\n", s.error().message.c_str());
    return kExitRuntime;
  }

  imap::Notifier notifier;
  store->set_change_listener([&notifier](std::int64_t mailbox) { notifier.notify(mailbox); });
  imap::ServerConfig ic;
  ic.session.hostname = cfg.hostname;
  ic.session.login = &login;
  ic.session.max_append_size = cfg.smtp.max_message_size;
  ic.max_connections = cfg.imap.max_connections;
  ic.max_connections_per_ip = cfg.imap.max_connections_per_ip;
  ic.max_sessions_per_account = cfg.imap.max_sessions_per_account;
  ic.idle_timeout = cfg.imap.idle_timeout;
  // Moving mail into or out of Junk teaches the user's spam model.
  ic.on_train = [&user_models](imap::Session::TrainEvent ev) { user_models.train(std::move(ev)); };
  imap::Server imap_server(io, ic, *store, *tls, notifier, log.with({{"svc", "imap"}}));
  if (auto s = imap_server.listen(endpoints(cfg.imap.listen), endpoints(cfg.imap.listen_tls)); !s) {
    std::fprintf(stderr, "mailkeep: %s\n", s.error().message.c_str());
    return kExitRuntime;
  }

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
  smtp_server.start();
  submission_server.start();
  if (runner && !cfg.outbound.paused) runner->start();
  if (runner && cfg.outbound.paused) log.warn("outbound.paused", {{"hint", "set outbound.paused = false to send queued mail"}});
  std::unique_ptr<DmarcReporter> dmarc_reporter;
  if (runner && cfg.dmarc.send_reports) {
    dmarc_reporter = std::make_unique<DmarcReporter>(
        io, *store, *resolver, cfg.hostname,
        std::chrono::duration_cast<std::chrono::seconds>(cfg.dmarc.report_interval).count(),
        [r = runner.get()] { r->wake(); }, log.with({{"svc", "dmarc"}}));
    dmarc_reporter->start();
  }
  imap_server.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log.info("shutdown", {{"signal", sig}, {"grace_ms", cfg.shutdown_grace.count()}});
    smtp_server.shutdown(cfg.shutdown_grace);
    submission_server.shutdown(cfg.shutdown_grace);
    if (runner) runner->stop();
    if (dmarc_reporter) dmarc_reporter->stop();
    if (resolver) resolver->stop();
    imap_server.shutdown(cfg.shutdown_grace);
  });
  on_ready(lines);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  // Shutting down: a repeated SIGTERM/SIGINT from now on must not kill the process while the
  // store closes (the signal set no longer handles them once destroyed).
  signals.clear();
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  store->set_change_listener(nullptr);
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
