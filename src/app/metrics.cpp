#include "app/metrics.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <array>
#include <chrono>
#include <ctime>
#include <mutex>
#include <string_view>

#include "audit/log.hpp"
#include "audit/log_tail.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"

namespace mk::app {
namespace {

// The events mailkeep writes to the security log (a label value each); anything else is "other".
constexpr std::array<std::string_view, 14> kEvents = {"login",
                                                      "login_failed",
                                                      "ban",
                                                      "ban_lifted",
                                                      "connection_refused_banned",
                                                      "password_breached",
                                                      "outbound_hold",
                                                      "outbound_released",
                                                      "outbound_dropped",
                                                      "quickstart",
                                                      "tls.key_rolled_over",
                                                      "log_shipping_overflow",
                                                      "security_log_damaged",
                                                      "security_log_tampered"};
constexpr const char* kEventsHelp = "Records written to the security log since start, by event.";
constexpr const char* kLoginsHelp =
    "Logins by service and result (ok, failed), from the security log.";
constexpr std::array<std::string_view, 4> kServices = {"imap", "submission", "smtp", "http"};

// The value of a string field in a record line: the first `"name":"` (the record's own fields
// come before anything a value could hold), up to the closing quote; "" if absent.
std::string_view field(std::string_view line, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":\"";
  const auto at = line.find(key);
  if (at == std::string_view::npos) return {};
  const auto from = at + key.size();
  const auto end = line.find('"', from);
  return end == std::string_view::npos ? std::string_view() : line.substr(from, end - from);
}

std::string known(std::string_view v, const auto& set) {
  return std::find(set.begin(), set.end(), v) != set.end() ? std::string(v) : std::string("other");
}

// Counts the security log's records as they are written, from the first one after start-up.
class EventCounter {
 public:
  // From the log's end as it is now: what was written before the start is not read at all.
  explicit EventCounter(const std::string& path) : tail_(path) { tail_.seek_end(); }

  void scrape(metrics::Registry& r) {
    std::lock_guard lock(mu_);
    if (!primed_) prime(r);
    primed_ = true;
    for (;;) {
      const auto lines = tail_.read(4 << 20);
      if (lines.empty()) break;
      for (const auto& line : lines) {
        if (!audit::parse_record(line))
          continue;  // not a record (an edited file): nothing to count
        const std::string event = known(field(line, "event"), kEvents);
        r.counter("mailkeep_security_events_total", kEventsHelp, {{"event", event}}).inc();
        if (event == "login" || event == "login_failed")
          r.counter("mailkeep_logins_total", kLoginsHelp,
                    {{"service", known(field(line, "service"), kServices)},
                     {"result", event == "login" ? "ok" : "failed"}})
              .inc();
      }
    }
  }

 private:
  // Every series exists from the first scrape on, at 0: increase() and rate() see a first
  // event only against an earlier sample.
  static void prime(metrics::Registry& r) {
    for (auto e : kEvents)
      r.counter("mailkeep_security_events_total", kEventsHelp, {{"event", std::string(e)}});
    for (auto svc : {"imap", "submission"})
      for (auto result : {"ok", "failed"})
        r.counter("mailkeep_logins_total", kLoginsHelp, {{"service", svc}, {"result", result}});
  }

  std::mutex mu_;
  bool primed_ = false;
  audit::LogTail tail_;
};

double now_s() {
  return double(std::time(nullptr));
}

// A source that could not be read leaves its gauges as they were: counted, so it shows.
void scrape_failed(metrics::Registry& r, const char* source) {
  r.counter("mailkeep_scrape_errors_total",
            "Scrape-time reads that failed (their gauges keep the last value read), by source.",
            {{"source", source}})
      .inc();
}

void scrape_store(metrics::Registry& r, const MetricsSources& s) {
  if (s.queue) {
    if (auto q = s.queue->queue_stats()) {
      r.gauge("mailkeep_queue_messages", "Messages in the outbound queue with a recipient waiting.")
          .set(double(q->messages));
      r.gauge("mailkeep_queue_recipients",
              "Recipients waiting in the outbound queue, by state (queued, held).",
              {{"state", "queued"}})
          .set(double(q->recipients));
      r.gauge("mailkeep_queue_recipients",
              "Recipients waiting in the outbound queue, by state (queued, held).",
              {{"state", "held"}})
          .set(double(q->held_recipients));
      r.gauge("mailkeep_queue_oldest_age_seconds",
              "Age of the oldest message with a recipient queued for delivery (0: none; held mail "
              "does not count).")
          .set(q->oldest == 0 ? 0.0 : std::max(0.0, now_s() - double(q->oldest)));
    } else {
      scrape_failed(r, "queue");
    }
  }
  if (s.directory) {
    if (auto c = s.directory->account_counts()) {
      r.gauge("mailkeep_accounts", "Mail accounts.").set(double(c->accounts));
      r.gauge("mailkeep_accounts_held",
              "Accounts whose outbound mail is held (containment), waiting for release.")
          .set(double(c->held));
    } else {
      scrape_failed(r, "accounts");
    }
  }
  if (s.security) {
    if (auto n = s.security->active_ban_count(std::int64_t(now_s()))) {
      r.gauge("mailkeep_bans_active", "Client networks banned from logging in now (brute force).")
          .set(double(*n));
    } else {
      scrape_failed(r, "bans");
    }
  }
}

void scrape_tls(metrics::Registry& r, const net::CertStore* certs, const std::string& cert_file) {
  auto info = certs ? certs->current() : std::nullopt;
  if (!info && !cert_file.empty()) {
    if (auto pem = read_file(cert_file, 1 << 20))
      if (auto d = net::describe_chain(*pem)) info = *d;
  }
  if (!info) return;
  r.gauge("mailkeep_tls_certificate_expiry_timestamp_seconds",
          "When the certificate presented now expires.")
      .set(double(info->not_after));
  r.gauge("mailkeep_tls_certificate_self_signed",
          "1 when the certificate presented now is self-signed.")
      .set(info->self_signed ? 1 : 0);
}

// What the shipper's running totals for one collector were at the last scrape.
struct LinkSeen {
  std::uint64_t skipped = 0, lines_sent = 0, lines_missed = 0;
};

// Adds what a running total gained since it was last seen.
void count_since(metrics::Counter& counter, std::uint64_t total, std::uint64_t& seen) {
  if (total > seen) counter.inc(double(total - seen));
  seen = std::max(seen, total);
}

void scrape_shipping(metrics::Registry& r, const audit::Shipper& shipper, const std::string& log_path,
                     std::map<std::string, LinkSeen>& seen) {
  const std::uint64_t head = log_path.empty() ? 0 : audit::read_head(log_path).seq;
  for (const auto& l : shipper.state()) {
    const metrics::Labels c{{"collector", l.collector}};
    r.gauge("mailkeep_log_shipping_connected", "1 while the link to a log collector is up.", c)
        .set(l.connected ? 1 : 0);
    // What a collector has is known once it has been reached: a collector that acknowledges
    // (mailkeep's) counts what it stored, rsyslog what was sent.
    if (l.connected || l.acked > 0 || l.sent > 0) {
      const std::uint64_t done = l.acknowledged ? l.acked : l.sent;
      r.gauge("mailkeep_log_shipping_backlog_records",
              "Security log records a collector does not have yet (known once it was reached).", c)
          .set(double(head > done ? head - done : 0));
    }
    auto& s = seen[l.collector];
    count_since(r.counter("mailkeep_log_shipping_skipped_records_total",
                          "Records never shipped to a collector because the backlog passed "
                          "log.remote.spool_records.",
                          c),
                l.skipped, s.skipped);
    if (shipper.tap()) {
      count_since(r.counter("mailkeep_log_shipping_lines_total",
                            "Operational log lines sent to a collector.", c),
                  l.lines_sent, s.lines_sent);
      count_since(r.counter("mailkeep_log_shipping_missed_lines_total",
                            "Operational log lines a collector never got: the in-memory queue was "
                            "full while it was away.",
                            c),
                  l.lines_missed, s.lines_missed);
    }
  }
}

}  // namespace

void collect_at_scrape(metrics::Registry& registry, MetricsSources sources) {
  registry
      .gauge("mailkeep_build_info", "mailkeep's version (the value is 1).", {{"version", "0.1.0"}})
      .set(1);
  registry.gauge("mailkeep_start_time_seconds", "When the server started (unix seconds).")
      .set(now_s());
  std::shared_ptr<EventCounter> events;
  if (!sources.security_log.empty()) events = std::make_shared<EventCounter>(sources.security_log);
  // Scrapes run one at a time (Registry::render), so the map needs no lock of its own; shared,
  // because render() calls a copy of the collector.
  auto skipped = std::make_shared<std::map<std::string, LinkSeen>>();
  registry.on_scrape([s = std::move(sources), events, skipped](metrics::Registry& r) {
    scrape_store(r, s);
    scrape_tls(r, s.certs, s.cert_file);
    if (s.shipper) scrape_shipping(r, *s.shipper, s.security_log, *skipped);
    if (events) events->scrape(r);
  });
}

std::unique_ptr<http::Router> make_metrics_router(metrics::Registry& registry, std::string token,
                                                  std::string hostname) {
  auto router = std::make_unique<http::Router>("localhost", [](std::string_view) { return true; });
  router->add(
      {"GET"}, "/metrics",
      [&registry, token = std::move(token), hostname = std::move(hostname)](const http::Request& req) {
        // A web page whose name an attacker points at 127.0.0.1 (DNS rebinding) sends its
        // own name as Host: only addresses, localhost and this server's name are answered.
        boost::system::error_code ec;
        const std::string_view host = req.host;
        const std::string bare(host.starts_with('[') && host.ends_with(']') ? host.substr(1, host.size() - 2) : host);
        (void)boost::asio::ip::make_address(bare, ec);
        if (!host.empty() && ec && host != "localhost" && host != hostname)
          return http::Response::text(403, "This host name is not served here; scrape by address.\n");
        if (!token.empty()) {
          const std::string_view given = req.header("authorization").value_or("");
          const std::string want = "Bearer " + token;
          if (given.size() != want.size() ||
              CRYPTO_memcmp(given.data(), want.data(), want.size()) != 0) {
            http::Response r =
                http::Response::text(401, "A bearer token is required (metrics.token_file).\n");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mailkeep metrics\"");
            return r;
          }
        }
        http::Response r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = registry.render();
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
      },
      http::Over::both);
  router->add(
      {"GET"}, "/",
      [](const http::Request&) {
        return http::Response::text(404, "Not found; the metrics are at /metrics.\n");
      },
      http::Over::both, true);
  return router;
}

Result<std::string> read_metrics_token(const std::string& token_file) {
  struct stat st {};
  if (::stat(token_file.c_str(), &st) == 0 && (st.st_mode & 0007) != 0)
    return err(fmt::format("metrics.token_file {} can be read by every user of this machine: chmod o-rwx {}",
                           token_file, token_file));
  auto text = read_file(token_file, 4096);
  if (!text) return err(fmt::format("metrics.token_file: {}", text.error().message));
  std::string_view first = std::string_view(*text).substr(0, text->find('\n'));
  if (first.ends_with('\r')) first.remove_suffix(1);
  const std::string token(trim(first));
  if (token.size() < 16)
    return err(fmt::format(
        "metrics.token_file {}: the token must be at least 16 characters (e.g. the output of "
        "`openssl rand -hex 32`)",
        token_file));
  return token;
}

}  // namespace mk::app
