// web/routes_reports.cpp: the admin's reports: the spam filter's figures (what was caught
// and why, what users corrected), what DMARC aggregate reports say about the hosted domains,
// the month's security report, and the last `mailkeep check`. Read-only; each mirrors a
// `mailkeep report` command and shares its code (app/web_reports.cpp).
#include <sys/stat.h>

#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "base/read_file.hpp"
#include "web/routes.hpp"

namespace mk::web {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxCheckFile = 1 << 20;
constexpr std::int64_t kMaxDays = 366;

// ?days=N within [1, kMaxDays], `fallback` when absent; nullopt when malformed.
std::optional<int> days_param(const Call& c, int fallback) {
  auto d = c.req.param("days");
  if (!d) return fallback;
  auto v = id_param(*d);
  if (!v || *v > kMaxDays) return std::nullopt;
  return int(*v);
}

Reply made(const Result<json::value>& r) {
  if (!r) return error_from(r.error());
  return ok(*r);
}

constexpr const char* kCounts = R"({"type":"object","additionalProperties":{"type":"integer"}})";

}  // namespace

json::value last_check(const std::string& path, bool every_finding) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return nullptr;
  auto text = read_file(path, kMaxCheckFile);
  if (!text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return nullptr;
  json::array failed;
  std::int64_t total = 0;
  if (auto* f = v.as_object().if_contains("findings"); f && f->is_array())
    for (const auto& x : f->as_array()) {
      ++total;
      if (!x.is_object()) continue;
      const auto& o = x.as_object();
      auto* outcome = o.if_contains("outcome");
      if (!every_finding && outcome && outcome->is_string() && outcome->as_string() == "ok") continue;
      json::object item;
      for (const char* k : {"check", "subject", "outcome", "problem", "fix"})
        if (auto* field = o.if_contains(k); field && field->is_string()) item[k] = *field;
      failed.push_back(std::move(item));
    }
  return json::object{{"ran", std::int64_t(st.st_mtime)}, {"checks", total},
                      {every_finding ? "findings" : "failed", std::move(failed)}};
}


void add_report_routes(Api& api, Services& svc) {
  const std::string spam_day = fmt::format(
      R"({{"type":"object","required":["received","accepted","junked","rejected","deferred","caught","marked_spam",)"
      R"("moved_out_of_junk"],"properties":{{"day":{{"type":"string"}},"received":{{"type":"integer"}},)"
      R"("accepted":{{"type":"integer"}},"junked":{{"type":"integer"}},"rejected":{{"type":"integer"}},)"
      R"("deferred":{{"type":"integer"}},"caught":{0},"marked_spam":{{"type":"integer"}},)"
      R"("moved_out_of_junk":{{"type":"integer"}}}}}})",
      kCounts);
  api.add("GET", "/api/v1/reports/spam", Access::admin,
          Doc{"What the MX received each day and what became of it: accepted, put in Junk, refused; what caught "
              "the junked and refused mail (spam, phishing, dmarc_reject, dnsbl, ...); what users took out of Junk "
              "(the filter's mistakes they corrected) and marked as spam (moved to Junk, or deleted unread from it).",
              "reports",
              {{"days", "query", "integer", "how many days, today included (default 30, at most 366)", false}},
              "",
              fmt::format(R"({{"type":"object","required":["days","total"],"properties":{{"days":{{"type":"array",)"
                          R"("items":{0}}},"total":{0}}}}})",
                          spam_day)},
          [&svc](Call& c) {
            auto days = days_param(c, 30);
            if (!days) return bad_field("days", "a number of days from 1 to 366");
            if (!svc.reports.spam) return error(503, "unavailable", "reports are not available here");
            return made(svc.reports.spam(*days, c.now));
          });
  api.add("GET", "/api/v1/reports/dmarc", Access::admin,
          Doc{"What the DMARC aggregate reports received say about the hosted domains: who sends mail as each, how "
              "much passes, what receivers did. A source that fails is a forgery or a service of yours that needs "
              "SPF or DKIM.",
              "reports",
              {{"days", "query", "integer", "how far back (default 7, at most 366)", false}},
              "",
              fmt::format(
                  R"({{"type":"object","required":["days","domains"],"properties":{{"days":{{"type":"integer"}},)"
                  R"("domains":{{"type":"array","items":{{"type":"object","required":["domain","reports","messages",)"
                  R"("pass","sources"],"properties":{{"domain":{{"type":"string"}},"reports":{{"type":"integer"}},)"
                  R"("messages":{{"type":"integer"}},"pass":{{"type":"integer"}},"sources":{{"type":"array","items":)"
                  R"({{"type":"object","required":["address","messages","pass","fail","dispositions","reporters"],)"
                  R"("properties":{{"address":{{"type":"string"}},"messages":{{"type":"integer"}},)"
                  R"("pass":{{"type":"integer"}},"fail":{{"type":"integer"}},"dispositions":{0},)"
                  R"("reporters":{{"type":"array","items":{{"type":"string"}}}}}}}}}}}}}}}}}}}})",
                  kCounts)},
          [&svc](Call& c) {
            auto days = days_param(c, 7);
            if (!days) return bad_field("days", "a number of days from 1 to 366");
            if (!svc.reports.dmarc) return error(503, "unavailable", "reports are not available here");
            return made(svc.reports.dmarc(*days, c.now));
          });
  api.add("GET", "/api/v1/reports/security", Access::admin,
          Doc{"The month's security report (`mailkeep report security --json`): logins and attacks, bans, accounts "
              "held, mail received and caught, TLS of mail sent, the security log's state.",
              "reports",
              {{"month", "query", "string", "YYYY-MM in UTC (default: this month so far)", false}},
              "",
              R"({"type":"object","required":["month"],"properties":{"month":{"type":"string"}}})"},
          [&svc](Call& c) {
            std::string month = c.req.param("month").value_or("");
            if (month.empty()) {
              const std::time_t t = static_cast<std::time_t>(c.now);
              std::tm tm{};
              gmtime_r(&t, &tm);
              month = fmt::format("{:04}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1);
            }
            if (!svc.reports.security) return error(503, "unavailable", "reports are not available here");
            return made(svc.reports.security(month));
          });
  api.add("GET", "/api/v1/check", Access::admin,
          Doc{"The last `mailkeep check`: when it ran and every finding (null when it never ran). Run `mailkeep "
              "check` on the server, or check a domain's records now with /api/v1/domains/{domain}/dns/check.",
              "reports", {}, "",
              R"({"type":["object","null"],"properties":{"ran":{"type":"integer"},"checks":{"type":"integer"},)"
              R"("findings":{"type":"array","items":{"type":"object","properties":{"check":{"type":"string"},)"
              R"("subject":{"type":"string"},"outcome":{"type":"string"},"problem":{"type":"string"},)"
              R"("fix":{"type":"string"}}}}}})"},
          [&svc](Call&) { return ok(last_check(svc.last_check, true)); });
}

}  // namespace mk::web
