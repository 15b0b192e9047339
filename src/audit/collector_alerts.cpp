#include "audit/collector_alerts.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>

#include "audit/log.hpp"
#include "base/strings.hpp"
#include "net/tls.hpp"
#include "outbound/client.hpp"

namespace mk::audit {
namespace asio = boost::asio;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A delivery is retried for ten minutes (5 s, 10 s, 20 s, ... at most a minute apart); at most
// kMaxInFlight deliveries run at once (a flood is written to alerts.log, not sent).
constexpr Duration kRetryAfter = std::chrono::seconds(5);
constexpr Duration kRetryMax = std::chrono::seconds(60);
constexpr Duration kRetryFor = std::chrono::minutes(10);
constexpr std::size_t kMaxInFlight = 32;
constexpr Duration kTimeout = std::chrono::seconds(15);
constexpr std::size_t kMaxResponse = 64 * 1024;

std::string now_rfc5322() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string alert_json(const Alert& a, const std::string& time, const std::string& collector) {
  std::string out = "{\"time\":";
  append_json_string(out, time);
  out += ",\"collector\":";
  append_json_string(out, collector);
  out += ",\"server\":";
  append_json_string(out, a.server);
  out += ",\"alert\":";
  append_json_string(out, a.kind);
  out += ",\"detail\":";
  append_json_string(out, a.detail);
  return out + "}";
}

struct Url {
  bool https = false;
  std::string host, port, target;
};

std::optional<Url> parse_url(const std::string& s) {
  Url u;
  std::string rest;
  if (s.starts_with("https://"))
    u.https = true, rest = s.substr(8);
  else if (s.starts_with("http://"))
    rest = s.substr(7);
  else
    return std::nullopt;
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty() || authority.find_first_of("@ \r\n") != std::string::npos ||
      u.target.find_first_of(" \r\n") != std::string::npos)
    return std::nullopt;
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.https ? "443" : "80";
  }
  if (u.host.starts_with('[') && u.host.ends_with(']'))
    u.host = u.host.substr(1, u.host.size() - 2);
  auto p = parse_u64(u.port);
  if (u.host.empty() || !p || *p == 0 || *p > 65535) return std::nullopt;
  return u;
}

// The first address a name resolves to (the system resolver: the collector has no other).
asio::awaitable<Result<std::string>> resolve(std::string host, std::string port) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver r(ex);
  auto [ec, results] = co_await r.async_resolve(host, port, kTuple);
  if (ec || results.empty())
    co_return err(fmt::format("resolving {}: {}", host, ec ? ec.message() : "no address"));
  co_return results.begin()->endpoint().address().to_string();
}

}  // namespace

struct AlertSender::Impl : std::enable_shared_from_this<AlertSender::Impl> {
  asio::io_context& io;
  AlertSettings settings;
  std::string data_dir, hostname;
  log::Logger logger;
  std::shared_ptr<net::TlsContext> tls;
  Impl(asio::io_context& i) : io(i) {}

  asio::awaitable<Result<void>> post(std::string body) {
    auto url = parse_url(settings.webhook);
    if (!url) co_return err("collector.alert_webhook is not an http:// or https:// URL");
    auto ip = co_await resolve(url->host, url->port);
    if (!ip) co_return ip.error();
    auto ex = co_await asio::this_coro::executor;
    outbound::Connection c(ex);
    auto conn = co_await c.connect(*ip, std::uint16_t(*parse_u64(url->port)), kTimeout);
    if (!conn) co_return conn.error();
    if (url->https) {
      auto t = co_await c.start_tls_now(*tls, url->host, kTimeout);
      if (!t) co_return t.error();
      if (!c.tls_verified())
        co_return err("the webhook's certificate does not verify: " + c.tls_verify_error());
    }
    const std::string req = fmt::format(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: mailkeep-collector\r\nContent-Type: "
        "application/json\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        url->target, url->host, body.size(), body);
    if (!co_await c.send(req, kTimeout)) co_return err("sending to the webhook failed");
    auto resp = co_await c.read_all(kMaxResponse, kTimeout);
    c.close();
    if (!resp) co_return resp.error();
    // "HTTP/1.1 204 No Content": any 2xx is delivered.
    const auto sp = resp->find(' ');
    if (!resp->starts_with("HTTP/1.") || sp == std::string::npos || resp->size() < sp + 4 ||
        (*resp)[sp + 1] != '2')
      co_return err("the webhook answered " + resp->substr(0, resp->find('\r')));
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> mail(Alert a, std::string json) {
    const auto colon = settings.relay.rfind(':');
    std::string host = settings.relay.substr(0, colon);
    const std::string port = settings.relay.substr(colon + 1);
    if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
    // Named arguments: GCC 12 may destroy a temporary made in a co_await expression early.
    auto ip = co_await resolve(host, port);
    if (!ip) co_return ip.error();
    auto ex = co_await asio::this_coro::executor;
    outbound::Connection c(ex);
    auto greeting = co_await c.open(*ip, std::uint16_t(*parse_u64(port)), kTimeout);
    if (!greeting) co_return greeting.error();
    if (greeting->code != 220) co_return err("the relay greeted with " + greeting->text());
    auto ehlo = co_await c.ehlo(hostname, kTimeout);
    if (ehlo.code != 250) co_return err("EHLO: " + ehlo.text());
    if (c.has("STARTTLS")) {
      auto t = co_await c.starttls(*tls, host, kTimeout);
      if (!t) co_return t.error();
      ehlo = co_await c.ehlo(hostname, kTimeout);
      if (ehlo.code != 250) co_return err("EHLO after STARTTLS: " + ehlo.text());
    }
    const std::string from =
        settings.mail_from.empty() ? "collector@" + hostname : settings.mail_from;
    for (const auto& [cmd, want] :
         {std::pair{fmt::format("MAIL FROM:<{}>", from), 250},
          std::pair{fmt::format("RCPT TO:<{}>", settings.mail_to), 250}}) {
      auto r = co_await c.command(cmd, kTimeout);
      if (r.code != want) co_return err(cmd.substr(0, 4) + ": " + r.text());
    }
    // Only the kind and the configured server name go into header fields; the detail, which
    // holds what the server sent, goes into the body.
    std::string safe_server;
    for (char ch : a.server) safe_server += (ch >= 33 && ch <= 126) ? ch : '?';
    const std::string msg = fmt::format(
        "From: mailkeep collector <{}>\r\nTo: <{}>\r\nSubject: [mailkeep collector] {}: "
        "{}\r\nDate: {}\r\n"
        "Message-ID: <alert.{}.{}@{}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
        "charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n"
        "The log collector {} raised an alert about {}.\r\n\r\nalert:  {}\r\ndetail: "
        "{}\r\n\r\n{}\r\n",
        from, settings.mail_to, safe_server, a.kind, now_rfc5322(), std::time(nullptr), ::getpid(),
        hostname, hostname, safe_server, a.kind, a.detail, json);
    auto r = co_await c.data(msg, kTimeout);
    // The alert is delivered (or refused) with DATA's reply; QUIT only says goodbye.
    if (auto q = co_await c.command("QUIT", kTimeout); q.code != 221)
      logger.debug("collector.alert_mail_quit", {{"reply", q.text()}});
    c.close();
    if (r.code != 250) co_return err("DATA: " + r.text());
    co_return Result<void>{};
  }

  // One way of delivery (webhook or mail), retried with growing pauses for kRetryFor; the
  // two ways run side by side, so a webhook that hangs does not hold the mail back.
  asio::awaitable<void> deliver(Alert a, std::string json, bool by_mail) {
    auto self = shared_from_this();
    struct InFlight {
      std::size_t& n;
      ~InFlight() { --n; }
    } in_flight{in_flight_};
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer wait(ex);
    Duration pause = kRetryAfter;
    const auto give_up = std::chrono::steady_clock::now() + kRetryFor;
    for (int attempt = 1;; ++attempt) {
      // Not a conditional expression: GCC 12 mishandles co_await inside one.
      Result<void> r = err("not tried");
      if (by_mail)
        r = co_await mail(a, json);
      else
        r = co_await post(json);
      if (r) {
        logger.info("collector.alert_delivered", {{"alert", a.kind},
                                                  {"server", a.server},
                                                  {"by", by_mail ? "mail" : "webhook"},
                                                  {"attempt", attempt}});
        co_return;
      }
      logger.warn(by_mail ? "collector.alert_mail" : "collector.alert_webhook",
                  {{"alert", a.kind},
                   {"server", a.server},
                   {"attempt", attempt},
                   {"error", r.error().message}});
      if (std::chrono::steady_clock::now() + pause > give_up) break;
      wait.expires_after(pause);
      co_await wait.async_wait(kTuple);
      pause = std::min(pause * 2, kRetryMax);
    }
    logger.error("collector.alert_undelivered", {{"alert", a.kind},
                                                 {"server", a.server},
                                                 {"by", by_mail ? "mail" : "webhook"},
                                                 {"why", "gave up; the alert is in alerts.log"}});
  }

  std::size_t in_flight_ = 0;
};

AlertSender::AlertSender(asio::io_context& io, AlertSettings settings, std::string data_dir,
                         std::string hostname, log::Logger logger)
    : impl_(std::make_shared<Impl>(io)) {
  impl_->settings = std::move(settings);
  impl_->data_dir = std::move(data_dir);
  impl_->hostname = std::move(hostname);
  impl_->logger = std::move(logger);
  auto tls = net::make_client_tls(impl_->settings.ca_file);
  if (tls) impl_->tls = *tls;
}

Status AlertSender::check(const AlertSettings& s) {
  if (!s.webhook.empty() && !parse_url(s.webhook))
    return err("collector.alert_webhook: \"" + s.webhook + "\" is not an http:// or https:// URL");
  if (auto tls = net::make_client_tls(s.ca_file); !tls)
    return err("collector.alert_ca_file: " + tls.error().message);
  return {};
}

AlertSender::~AlertSender() = default;

const AlertSettings& AlertSender::settings() const {
  return impl_->settings;
}

void AlertSender::raise(Alert a) {
  const std::string json = alert_json(a, record_time(), impl_->hostname);
  impl_->logger.error("collector.alert",
                      {{"alert", a.kind}, {"server", a.server}, {"detail", a.detail}});
  const std::string path = impl_->data_dir + "/alerts.log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const std::string line = json + "\n";
  if (fd < 0 || ::write(fd, line.data(), line.size()) != ssize_t(line.size()) ||
      ::fdatasync(fd) != 0)
    impl_->logger.error("collector.alert_log", {{"error", "cannot write " + path}});
  if (fd >= 0) ::close(fd);
  if (!impl_->tls) return;
  for (const bool by_mail : {false, true}) {
    if ((by_mail ? impl_->settings.mail_to : impl_->settings.webhook).empty()) continue;
    if (impl_->in_flight_ >= kMaxInFlight) {
      impl_->logger.error("collector.alert_undelivered",
                          {{"alert", a.kind},
                           {"server", a.server},
                           {"why", "too many alerts at once; it is in alerts.log"}});
      continue;
    }
    ++impl_->in_flight_;
    asio::co_spawn(impl_->io, impl_->deliver(a, json, by_mail), asio::detached);
  }
}

}  // namespace mk::audit
