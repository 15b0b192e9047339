// app/security_report.hpp: `mailkeep report security [--month YYYY-MM] [--json]`, and the
// same report mailed to the admin on the first of each month.
//
// The security KPIs an insurer or a manager asks for, for one calendar month (UTC): login
// attacks seen and stopped, networks banned, breached passwords refused, accounts held as
// compromised (with the time from the first message of the burst to the hold and what left
// before it), spam and phishing caught and released, inbound TLS and DMARC rates, outbound
// DANE and MTA-STS coverage, log-shipping uptime, and whether the security log verifies.
// Sources: the security log's records of the month, and the counters' daily totals the
// server keeps (app/stats.hpp; a server that was not running counted nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "store/reports.hpp"

namespace mk::app {

struct SecurityReport {
  std::string month;  // "2026-11"
  std::string hostname;
  // Logins (IMAP, submission).
  std::int64_t logins = 0, failed_logins = 0;
  std::map<std::string, std::int64_t> failed_by_service;
  std::int64_t attacking_addresses = 0;     // distinct client addresses with a failed login
  std::int64_t bans = 0, banned_networks = 0, refused_while_banned = 0, bans_lifted = 0;
  std::int64_t breached_refused = 0, breached_warned = 0, breached_accounts = 0;
  // Accounts held as compromised.
  struct Hold {
    std::string user, reason, time;  // time as the record has it (RFC 3339)
    std::int64_t seconds_to_hold = -1;  // from the first message of the window that held it; -1: unknown
    std::int64_t left_before = -1;      // messages (or, for a hold on remote refusals, recipients) that left before it; -1: unknown
    std::int64_t held_messages = 0;     // queued messages stopped by the hold
  };
  std::vector<Hold> holds;
  std::int64_t released = 0, dropped = 0;
  // Mail received on the MX.
  std::int64_t received = 0, received_tls = 0, dmarc_checked = 0, dmarc_pass = 0, dmarc_fail = 0;
  std::int64_t accepted = 0, junked = 0, rejected = 0, deferred = 0;
  std::map<std::string, std::int64_t> caught_by_reason;  // junked or rejected: spam, phishing, dmarc_reject, ...
  std::int64_t moved_out_of_junk = 0, moved_to_junk = 0;  // what users corrected
  std::int64_t submissions_contained = 0;
  // Mail sent.
  std::int64_t delivered = 0, bounced = 0, deferred_out = 0;
  std::map<std::string, std::int64_t> delivered_by_tls;  // dane, mta-sts, tls, plaintext
  // The trail.
  struct Shipping {
    std::int64_t seconds = 0, connected_seconds = 0;
  };
  std::map<std::string, Shipping> shipping;  // by collector
  std::int64_t log_tampered = 0, log_damaged = 0, shipping_overflows = 0;
  std::int64_t log_records = 0;  // records of the month
  bool log_verified = true;
  std::string log_problem;
};

// A daily count's labels, {a="x",b="y"} -> {a: x, b: y}; the values are mailkeep's own
// words (no escapes).
std::map<std::string, std::string> counter_labels(std::string_view labels);

// "YYYY-MM" -> [first day, first day of the next month) as unix days; error if malformed.
Result<std::pair<std::int64_t, std::int64_t>> month_days(const std::string& month);
// The month before the one `now` (unix seconds) falls in, "YYYY-MM".
std::string previous_month(std::int64_t now);

// Reads the security log (its records whose time is in the month) and the daily totals.
Result<SecurityReport> build_security_report(const std::string& month, const std::string& hostname,
                                             const std::string& security_log, store::Reports& store);

std::string render_text(const SecurityReport& r);
std::string render_json(const SecurityReport& r);

// The previous month's report, sent once (to the admin) at the first check of a new month.
// state_file keeps the last month sent; a new instance starts from the month before its
// first check, so it never sends a report about a month it did not run in.
class MonthlyReport {
 public:
  MonthlyReport(std::string state_file, std::function<Status(const std::string& month)> send, log::Logger log);
  void check(std::int64_t now);  // thread-safe

 private:
  std::string state_file_;
  std::function<Status(const std::string&)> send_;
  log::Logger log_;
  std::mutex mu_;
  std::string last_;  // "" until read from state_file
};

}  // namespace mk::app
