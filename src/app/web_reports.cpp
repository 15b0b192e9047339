// app/web_reports.cpp: the reports of the web API (/api/v1/reports/...) as JSON, from the
// same data as `mailkeep report` (see app.hpp).
#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "app/app.hpp"
#include "app/security_report.hpp"

namespace mk::app {
namespace json = boost::json;

namespace {

constexpr std::int64_t kDay = 86400;

std::string day_text(std::int64_t day) {
  const std::time_t t = static_cast<std::time_t>(day * kDay);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

json::object counts_object(const std::map<std::string, std::int64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

}  // namespace

Result<json::value> spam_stats_json(store::Reports& store, int days, std::int64_t now) {
  const std::int64_t today = now / kDay;
  auto rows = store.daily_counts(today - days + 1, today + 1);  // [from, to)
  if (!rows) return rows.error();
  struct Day {
    std::int64_t received = 0, accepted = 0, junked = 0, rejected = 0, deferred = 0, to_junk = 0, out_of_junk = 0;
    std::map<std::string, std::int64_t> caught;
  };
  std::map<std::int64_t, Day> by_day;
  for (std::int64_t d = today - days + 1; d <= today; ++d) by_day[d];
  for (const auto& row : *rows) {
    auto l = counter_labels(row.labels);
    Day& d = by_day[row.day];
    if (row.name == "mailkeep_smtp_messages_total" && l["service"] == "smtp") {
      const std::string& outcome = l["outcome"];
      if (outcome == "accepted") d.accepted += row.value;
      if (outcome == "junked") d.junked += row.value;
      if (outcome == "rejected") d.rejected += row.value;
      if (outcome == "deferred") d.deferred += row.value;
      if ((outcome == "junked" || outcome == "rejected") && l["reason"] != "none" && l["reason"] != "other")
        d.caught[l["reason"]] += row.value;
    } else if (row.name == "mailkeep_smtp_received_total") {
      d.received += row.value;
    } else if (row.name == "mailkeep_filter_trained_total") {
      (l["as"] == "ham" ? d.out_of_junk : d.to_junk) += row.value;
    }
  }
  json::array series;
  Day total;
  for (const auto& [day, d] : by_day) {
    series.push_back(json::object{{"day", day_text(day)},       {"received", d.received}, {"accepted", d.accepted},
                                  {"junked", d.junked},         {"rejected", d.rejected}, {"deferred", d.deferred},
                                  {"caught", counts_object(d.caught)}, {"marked_spam", d.to_junk},
                                  {"moved_out_of_junk", d.out_of_junk}});
    total.received += d.received;
    total.accepted += d.accepted;
    total.junked += d.junked;
    total.rejected += d.rejected;
    total.deferred += d.deferred;
    total.to_junk += d.to_junk;
    total.out_of_junk += d.out_of_junk;
    for (const auto& [k, v] : d.caught) total.caught[k] += v;
  }
  return json::value(json::object{{"days", std::move(series)},
                      {"total", json::object{{"received", total.received},
                                             {"accepted", total.accepted},
                                             {"junked", total.junked},
                                             {"rejected", total.rejected},
                                             {"deferred", total.deferred},
                                             {"caught", counts_object(total.caught)},
                                             {"marked_spam", total.to_junk},
                                             {"moved_out_of_junk", total.out_of_junk}}}});
}

Result<json::value> dmarc_report_json(store::Reports& store, int days, std::int64_t now) {
  auto rows = store.dmarc_feedback_since(now - std::int64_t(days) * kDay);
  if (!rows) return rows.error();
  json::array domains;
  for (const auto& [name, d] : summarize_dmarc(*rows)) {
    json::array sources;
    for (const auto& [ip, s] : d.sources) {
      json::array reporters;
      for (const auto& r : s.reporters) reporters.push_back(json::value(r));
      sources.push_back(json::object{{"address", ip},
                                     {"messages", s.messages},
                                     {"pass", s.pass},
                                     {"fail", s.fail},
                                     {"dispositions", counts_object(s.dispositions)},
                                     {"reporters", std::move(reporters)}});
    }
    domains.push_back(json::object{{"domain", name},
                                   {"reports", std::int64_t(d.reports.size())},
                                   {"messages", d.messages},
                                   {"pass", d.pass},
                                   {"sources", std::move(sources)}});
  }
  return json::value(json::object{{"days", days}, {"domains", std::move(domains)}});
}

Result<json::value> security_report_json(const Config& cfg, store::Store& store, const std::string& month) {
  if (auto days = month_days(month); !days) return store::error(store::Errc::invalid, days.error().message);
  auto report = build_security_report(month, cfg.hostname, cfg.data_dir + "/security.log", store);
  if (!report) return report.error();
  boost::system::error_code ec;
  json::value v = json::parse(render_json(*report), ec);
  if (ec) return err("the security report is not JSON: " + ec.message());
  return v;
}

}  // namespace mk::app
