// store/reports.hpp: the Reports role of the store: TLS-RPT and DMARC results to report,
// and DMARC aggregate reports received about our domains.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

// TLS-RPT (RFC 8460): counts of TLS sessions per reporting period and policy domain.
struct TlsResult {
  std::int64_t period = 0;  // start of the reporting period (unix seconds)
  std::string policy_domain;
  std::string policy_type;    // "sts", "tlsa", "no-policy-found"
  std::string policy_string;  // the policy's lines, "\n"-separated
  std::string mx_pattern;     // MTA-STS mx patterns, "\n"-separated
  std::string result_type;    // "" for success, else an RFC 8460 result type
  std::string mx_host;
  std::string ip;
  std::int64_t count = 1;
};

// DMARC aggregate reporting (RFC 7489 §7.2). What we evaluated, for reports we send: one row
// per distinct set of facts in a period, counted.
struct DmarcResult {
  std::int64_t period = 0;
  std::string policy_domain;
  std::string policy;  // the published record, as fetched
  std::string source_ip, header_from, envelope_from;
  std::string disposition, dkim, spf;  // evaluated: none/quarantine/reject, pass/fail
  std::string reason;                  // override type, if any
  std::string auth;  // DKIM results "dkim domain selector result" and "spf domain result", one per line
  std::int64_t count = 1;
};

// One row of an aggregate report someone sent about one of our domains.
struct DmarcFeedback {
  std::string reporter, report_id;
  std::int64_t row = 0;
  std::string domain;
  std::int64_t begin = 0, end = 0;
  std::string source_ip, header_from, disposition, dkim, spf;
  std::int64_t count = 0;
  std::int64_t received = 0;
};

// A counter's total over one day (UTC), kept beyond the process's life for the monthly
// security report: name and labels as the metrics endpoint shows them.
struct DailyCount {
  std::int64_t day = 0;  // unix day: seconds / 86400
  std::string name;
  std::string labels;  // rendered, e.g. {result="delivered",tls="dane"}
  std::int64_t value = 0;
};

class Reports {
 public:
  virtual ~Reports() = default;
  // Adds each row's value to that day's total (one transaction).
  virtual Status add_daily_counts(const std::vector<DailyCount>& rows) = 0;
  // The totals of the days in [from_day, to_day).
  virtual Result<std::vector<DailyCount>> daily_counts(std::int64_t from_day, std::int64_t to_day) = 0;

  // TLS-RPT: adds to a result's count; lists and drops a finished period's results.
  virtual Status add_tls_result(const TlsResult& r) = 0;
  virtual Result<std::vector<TlsResult>> tls_results_before(std::int64_t period_start) = 0;
  virtual Status delete_tls_results(std::int64_t period) = 0;
  // DMARC: results to report (added up like TLS-RPT's), and reports received about us
  // (a report already stored, by reporter and report ID, is not stored twice).
  virtual Status add_dmarc_result(const DmarcResult& r) = 0;
  virtual Result<std::vector<DmarcResult>> dmarc_results_before(std::int64_t period_start) = 0;
  virtual Status delete_dmarc_results(std::int64_t period) = 0;
  virtual Status add_dmarc_feedback(const std::vector<DmarcFeedback>& rows) = 0;
  virtual Result<std::vector<DmarcFeedback>> dmarc_feedback_since(std::int64_t since) = 0;
};

}  // namespace mk::store
