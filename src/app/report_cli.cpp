// mailkeep report security: app/security_report.hpp.
// mailkeep report dmarc [--days N]: what the DMARC aggregate reports received about our
// domains say: who sends mail as each domain, how much of it passes, and what receivers did.
// Sources that fail are either forgeries or a service of yours that needs SPF or DKIM set up.
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>

#include "app/app.hpp"
#include "app/security_report.hpp"

namespace mk::app {

std::map<std::string, DmarcDomain> summarize_dmarc(const std::vector<store::DmarcFeedback>& rows) {
  std::map<std::string, DmarcDomain> domains;
  for (const auto& r : rows) {
    DmarcDomain& d = domains[r.domain];
    d.reports.insert({r.reporter, r.report_id});
    DmarcSource& s = d.sources[r.source_ip];
    const bool ok = r.dkim == "pass" || r.spf == "pass";
    d.messages += r.count;
    d.pass += ok ? r.count : 0;
    s.messages += r.count;
    (ok ? s.pass : s.fail) += r.count;
    s.dispositions[r.disposition.empty() ? "none" : r.disposition] += r.count;
    s.reporters.insert(r.reporter);
  }
  return domains;
}

int cmd_report_dmarc(const std::string& config_path, int days) {
  auto opened = open_admin_store(config_path);
  if (!opened.store) return opened.code;
  if (days < 1) return fail(err("--days must be at least 1"), kExitUsage);
  const std::int64_t since = std::int64_t(std::time(nullptr)) - std::int64_t(days) * 86400;
  auto rows = opened.store->dmarc_feedback_since(since);
  if (!rows) return fail(rows.error());
  if (rows->empty()) {
    std::printf("No DMARC aggregate reports received in the last %d days.\n"
                "Publish rua=mailto:<an address here> in your _dmarc record (mailkeep domain dns).\n", days);
    return kExitOk;
  }
  const auto domains = summarize_dmarc(*rows);
  std::printf("DMARC aggregate reports received in the last %d days\n", days);
  for (const auto& [name, d] : domains) {
    std::printf("\n%s: %zu reports, %lld messages, %lld passed DMARC, %lld failed\n", name.c_str(), d.reports.size(),
                static_cast<long long>(d.messages), static_cast<long long>(d.pass),
                static_cast<long long>(d.messages - d.pass));
    for (const auto& [ip, s] : d.sources) {
      std::string disp;
      for (const auto& [k, n] : s.dispositions) disp += fmt::format("{}{} {}", disp.empty() ? "" : ", ", k, n);
      std::string by;
      for (const auto& r : s.reporters) by += (by.empty() ? "" : ", ") + r;
      std::printf("  %-39s %6lld messages  pass %lld  fail %lld  (%s; reported by %s)%s\n", ip.c_str(),
                  static_cast<long long>(s.messages), static_cast<long long>(s.pass), static_cast<long long>(s.fail),
                  disp.c_str(), by.c_str(), s.fail > 0 ? "  <- not authenticated" : "");
    }
  }
  return kExitOk;
}

int cmd_report_security(const std::string& config_path, const std::string& month, bool json) {
  auto opened = open_admin_store(config_path);
  if (!opened.store) return opened.code;
  const std::string which = month.empty() ? previous_month(std::time(nullptr)) : month;
  if (auto days = month_days(which); !days) return fail(days.error(), kExitUsage);
  auto report = build_security_report(which, opened.config.hostname, opened.config.data_dir + "/security.log",
                                      *opened.store);
  if (!report) return fail(report.error());
  const std::string out = json ? render_json(*report) : render_text(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace mk::app
