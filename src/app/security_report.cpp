#include "app/security_report.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <ctime>
#include <set>

#include "audit/log.hpp"
#include "audit/log_tail.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/write_file.hpp"

namespace mk::app {
namespace {

namespace json = boost::json;

constexpr std::int64_t kDay = 86400;

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t number(const std::string& s, std::int64_t fallback) {
  auto v = parse_u64(s);
  return v ? std::int64_t(*v) : fallback;
}

// "2026-11-03T10:00:00.123Z" -> unix seconds; -1 when it does not parse.
std::int64_t record_seconds(const std::string& ts) {
  std::tm tm{};
  if (ts.size() < 19 || !strptime(ts.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return std::int64_t(timegm(&tm));
}

void add_counts(SecurityReport& r, const std::vector<store::DailyCount>& rows) {
  for (const auto& row : rows) {
    auto l = counter_labels(row.labels);
    const std::int64_t v = row.value;
    if (row.name == "mailkeep_smtp_messages_total") {
      const std::string& outcome = l["outcome"];
      const std::string& reason = l["reason"];
      if (l["service"] == "submission") {
        if (outcome == "contained") r.submissions_contained += v;
        continue;
      }
      if (outcome == "accepted") r.accepted += v;
      if (outcome == "junked") r.junked += v;
      if (outcome == "rejected") r.rejected += v;
      if (outcome == "deferred") r.deferred += v;
      if ((outcome == "junked" || outcome == "rejected") && reason != "none" && reason != "other")
        r.caught_by_reason[reason] += v;
    } else if (row.name == "mailkeep_smtp_received_total") {
      r.received += v;
      if (l["tls"] == "yes") r.received_tls += v;
      const std::string& d = l["dmarc"];
      if (d != "unchecked") r.dmarc_checked += v;
      if (d == "pass") r.dmarc_pass += v;
      if (d == "fail") r.dmarc_fail += v;
    } else if (row.name == "mailkeep_outbound_deliveries_total") {
      const std::string& result = l["result"];
      if (result == "delivered") {
        r.delivered += v;
        r.delivered_by_tls[l["tls"]] += v;
      }
      if (result == "bounced") r.bounced += v;
      if (result == "deferred") r.deferred_out += v;
    } else if (row.name == "mailkeep_filter_trained_total") {
      (l["as"] == "ham" ? r.moved_out_of_junk : r.moved_to_junk) += v;
    } else if (row.name == "mailkeep_log_shipping_seconds") {
      r.shipping[l["collector"]].seconds += v;
    } else if (row.name == "mailkeep_log_shipping_connected_seconds") {
      r.shipping[l["collector"]].connected_seconds += v;
    }
  }
}

void add_records(SecurityReport& r, const std::string& path) {
  const std::string prefix = r.month + "-";
  std::set<std::string> addresses, networks, breached;
  audit::LogTail tail(path);
  tail.seek(1);
  for (;;) {
    const auto lines = tail.read(4 << 20);
    if (lines.empty()) break;
    for (const auto& line : lines) {
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      if (ec || !v.is_object()) continue;
      const json::object& o = v.as_object();
      const std::string ts = str(o, "ts");
      if (!ts.starts_with(prefix)) continue;
      ++r.log_records;
      const std::string event = str(o, "event");
      if (event == "login") {
        ++r.logins;
      } else if (event == "login_failed") {
        ++r.failed_logins;
        ++r.failed_by_service[str(o, "service")];
        addresses.insert(str(o, "ip"));
      } else if (event == "ban") {
        ++r.bans;
        networks.insert(str(o, "network"));
      } else if (event == "connection_refused_banned") {
        ++r.refused_while_banned;
      } else if (event == "ban_lifted") {
        ++r.bans_lifted;
      } else if (event == "password_breached") {
        ++(str(o, "action") == "login refused" ? r.breached_refused : r.breached_warned);
        breached.insert(str(o, "user"));
      } else if (event == "outbound_hold") {
        SecurityReport::Hold h;
        h.user = str(o, "user");
        h.reason = str(o, "reason");
        h.time = ts;
        h.held_messages = number(str(o, "held_messages"), 0);
        const std::int64_t since = number(str(o, "since"), 0), at = record_seconds(ts);
        if (since > 0 && at >= since) h.seconds_to_hold = at - since;
        h.left_before = number(str(o, "left"), -1);
        r.holds.push_back(std::move(h));
      } else if (event == "outbound_released") {
        ++r.released;
      } else if (event == "outbound_dropped") {
        ++r.dropped;
      } else if (event == "security_log_tampered") {
        ++r.log_tampered;
      } else if (event == "security_log_damaged") {
        ++r.log_damaged;
      } else if (event == "log_shipping_overflow") {
        ++r.shipping_overflows;
      }
    }
  }
  r.attacking_addresses = std::int64_t(addresses.size());
  r.banned_networks = std::int64_t(networks.size());
  r.breached_accounts = std::int64_t(breached.size());
}

std::string percent(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * double(part) / double(whole));
}

std::string duration(std::int64_t s) {
  if (s < 0) return "unknown";
  if (s < 120) return fmt::format("{} s", s);
  if (s < 7200) return fmt::format("{} min", s / 60);
  return fmt::format("{:.1f} h", double(s) / 3600);
}

}  // namespace

// {a="x",b="y"} -> {a: x, b: y}; the label values are mailkeep's own words (no escapes).
std::map<std::string, std::string> counter_labels(std::string_view s) {
  std::map<std::string, std::string> out;
  if (s.size() < 2) return out;
  s = s.substr(1, s.size() - 2);
  while (!s.empty()) {
    const auto eq = s.find("=\"");
    if (eq == std::string_view::npos) break;
    const auto end = s.find('"', eq + 2);
    if (end == std::string_view::npos) break;
    out[std::string(s.substr(0, eq))] = std::string(s.substr(eq + 2, end - eq - 2));
    s.remove_prefix(std::min(s.size(), end + 2));  // past `",`
  }
  return out;
}


Result<std::pair<std::int64_t, std::int64_t>> month_days(const std::string& month) {
  std::tm tm{};
  const char* end = month.size() == 7 ? strptime(month.c_str(), "%Y-%m", &tm) : nullptr;
  if (!end || *end != '\0' || month[4] != '-')
    return err(fmt::format("--month must be YYYY-MM, e.g. 2026-11 (got \"{}\")", month));
  tm.tm_mday = 1;
  const std::int64_t from = std::int64_t(timegm(&tm)) / kDay;
  tm.tm_mon += 1;
  const std::int64_t to = std::int64_t(timegm(&tm)) / kDay;  // timegm normalizes month 12
  return std::pair{from, to};
}

std::string previous_month(std::int64_t now) {
  std::time_t t = std::time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  int year = tm.tm_year + 1900, month = tm.tm_mon;  // tm_mon is 0-based: the previous month's number
  if (month == 0) {
    month = 12;
    --year;
  }
  return fmt::format("{:04}-{:02}", year, month);
}

Result<SecurityReport> build_security_report(const std::string& month, const std::string& hostname,
                                             const std::string& security_log, store::Reports& store) {
  auto days = month_days(month);
  if (!days) return days.error();
  SecurityReport r;
  r.month = month;
  r.hostname = hostname;
  auto rows = store.daily_counts(days->first, days->second);
  if (!rows) return rows.error();
  add_counts(r, *rows);
  add_records(r, security_log);
  const auto v = audit::verify(security_log);
  r.log_verified = v.ok;
  r.log_problem = v.problem;
  return r;
}

std::string render_text(const SecurityReport& r) {
  std::string o = fmt::format("Security report for {}, {} (UTC)\n", r.hostname, r.month);
  o += "\nLogin attacks\n";
  std::string by;
  for (const auto& [svc, n] : r.failed_by_service) by += fmt::format("{}{} {}", by.empty() ? "" : ", ", svc, n);
  o += fmt::format("  failed logins            {}{}\n", r.failed_logins, by.empty() ? "" : " (" + by + ")");
  o += fmt::format("  from client addresses    {}\n", r.attacking_addresses);
  o += fmt::format("  networks banned          {} ({} bans, {} lifted by the admin)\n", r.banned_networks, r.bans,
                   r.bans_lifted);
  o += fmt::format("  connections refused while banned  {}\n", r.refused_while_banned);
  o += fmt::format("  successful logins        {}\n", r.logins);
  o += fmt::format("  breached passwords       {} refused, {} warned ({} accounts)\n", r.breached_refused,
                   r.breached_warned, r.breached_accounts);
  o += "\nCompromised accounts (outbound mail held)\n";
  if (r.holds.empty()) o += "  none\n";
  for (const auto& h : r.holds)
    o += fmt::format("  {}  {}: {}; held {} after the burst began, {} left before the hold, {} queued stopped\n",
                     h.time.substr(0, 16), h.user, h.reason, duration(h.seconds_to_hold),
                     h.left_before < 0 ? std::string("unknown") : std::to_string(h.left_before), h.held_messages);
  o += fmt::format("  released {}, held mail dropped {}; submissions refused while held or over limits {}\n",
                   r.released, r.dropped, r.submissions_contained);
  o += "\nMail received (MX)\n";
  o += fmt::format("  messages                 {}\n", r.received);
  o += fmt::format("  over TLS                 {}\n", percent(r.received_tls, r.received));
  o += fmt::format("  DMARC pass / fail        {} / {} (of {} checked)\n", percent(r.dmarc_pass, r.dmarc_checked),
                   percent(r.dmarc_fail, r.dmarc_checked), r.dmarc_checked);
  o += fmt::format("  accepted {}, to Junk {}, refused {}, deferred {}\n", r.accepted, r.junked, r.rejected,
                   r.deferred);
  std::string caught;
  for (const auto& [why, n] : r.caught_by_reason) caught += fmt::format("{}{} {}", caught.empty() ? "" : ", ", why, n);
  o += fmt::format("  caught                   {}\n", caught.empty() ? "none" : caught);
  o += fmt::format("  users moved out of Junk  {} (released), into Junk {} (missed)\n", r.moved_out_of_junk,
                   r.moved_to_junk);
  o += "\nMail sent\n";
  o += fmt::format("  delivered {}, bounced {}, deferred attempts {}\n", r.delivered, r.bounced, r.deferred_out);
  auto share = [&](const char* tls) {
    auto it = r.delivered_by_tls.find(tls);
    return percent(it == r.delivered_by_tls.end() ? 0 : it->second, r.delivered);
  };
  o += fmt::format("  DANE {}, MTA-STS {}, other TLS {}, plaintext {}\n", share("dane"), share("mta-sts"), share("tls"),
                   share("plaintext"));
  o += "\nThe security log\n";
  o += fmt::format("  records this month       {}\n", r.log_records);
  o += fmt::format("  verifies                 {}\n", r.log_verified ? "yes" : "NO: " + r.log_problem);
  o += fmt::format("  tampering detected       {} (damaged {})\n", r.log_tampered, r.log_damaged);
  if (r.shipping.empty()) o += "  shipped to a collector   no ([log.remote] is not set)\n";
  for (const auto& [c, s] : r.shipping)
    o += fmt::format("  shipping to {}: up {} of the time the server ran\n", c, percent(s.connected_seconds, s.seconds));
  if (r.shipping_overflows > 0)
    o += fmt::format("  spool overflows          {} (records skipped)\n", r.shipping_overflows);
  return o;
}

std::string render_json(const SecurityReport& r) {
  json::object logins{{"ok", r.logins},
                      {"failed", r.failed_logins},
                      {"attacking_addresses", r.attacking_addresses},
                      {"bans", r.bans},
                      {"banned_networks", r.banned_networks},
                      {"refused_while_banned", r.refused_while_banned},
                      {"bans_lifted", r.bans_lifted},
                      {"breached_refused", r.breached_refused},
                      {"breached_warned", r.breached_warned},
                      {"breached_accounts", r.breached_accounts}};
  json::object by;
  for (const auto& [k, v] : r.failed_by_service) by[k] = v;
  logins["failed_by_service"] = std::move(by);
  json::array holds;
  for (const auto& h : r.holds)
    holds.push_back(json::object{{"user", h.user},
                                 {"reason", h.reason},
                                 {"time", h.time},
                                 {"seconds_to_hold", h.seconds_to_hold},
                                 {"left_before_hold", h.left_before},
                                 {"held_messages", h.held_messages}});
  json::object caught;
  for (const auto& [k, v] : r.caught_by_reason) caught[k] = v;
  json::object tls;
  for (const auto& [k, v] : r.delivered_by_tls) tls[k] = v;
  json::object shipping;
  for (const auto& [c, s] : r.shipping)
    shipping[c] = json::object{{"seconds", s.seconds}, {"connected_seconds", s.connected_seconds}};
  json::object root{
      {"month", r.month},
      {"hostname", r.hostname},
      {"logins", std::move(logins)},
      {"compromised", json::object{{"holds", std::move(holds)},
                                   {"released", r.released},
                                   {"dropped", r.dropped},
                                   {"submissions_refused", r.submissions_contained}}},
      {"received", json::object{{"messages", r.received},
                                {"tls", r.received_tls},
                                {"dmarc_checked", r.dmarc_checked},
                                {"dmarc_pass", r.dmarc_pass},
                                {"dmarc_fail", r.dmarc_fail},
                                {"accepted", r.accepted},
                                {"junked", r.junked},
                                {"rejected", r.rejected},
                                {"deferred", r.deferred},
                                {"caught_by_reason", std::move(caught)},
                                {"moved_out_of_junk", r.moved_out_of_junk},
                                {"moved_to_junk", r.moved_to_junk}}},
      {"sent", json::object{{"delivered", r.delivered},
                            {"bounced", r.bounced},
                            {"deferred_attempts", r.deferred_out},
                            {"delivered_by_tls", std::move(tls)}}},
      {"security_log", json::object{{"records", r.log_records},
                                    {"verified", r.log_verified},
                                    {"problem", r.log_problem},
                                    {"tampered", r.log_tampered},
                                    {"damaged", r.log_damaged},
                                    {"shipping", std::move(shipping)},
                                    {"shipping_overflows", r.shipping_overflows}}}};
  return json::serialize(root) + "\n";
}

MonthlyReport::MonthlyReport(std::string state_file, std::function<Status(const std::string&)> send,
                             log::Logger log)
    : state_file_(std::move(state_file)), send_(std::move(send)), log_(std::move(log)) {}

void MonthlyReport::check(std::int64_t now) {
  std::lock_guard lock(mu_);
  const std::string due = previous_month(now);
  if (last_.empty()) {
    auto kept = read_file(state_file_, 64);
    last_ = kept ? std::string(trim(kept->substr(0, kept->find('\n')))) : std::string();
    if (!month_days(last_)) {  // a new instance (or an unreadable file): nothing is owed yet
      last_ = due;
      log_.ok_or_log(write_file_atomic(state_file_, last_ + "\n", 0600), "report.state_not_stored");
      return;
    }
  }
  if (due <= last_) return;
  // Marked sent first: a report that cannot be built or queued is logged, not retried every
  // minute into the admin's mailbox.
  last_ = due;
  log_.ok_or_log(write_file_atomic(state_file_, last_ + "\n", 0600), "report.state_not_stored");
  if (log_.ok_or_log(send_(due), "report.security_not_sent", {{"month", due}}))
    log_.info("report.security_sent", {{"month", due}});
}

}  // namespace mk::app
