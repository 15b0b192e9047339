#include "reports/dmarc_reports.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "dmarc/report.hpp"
#include "dns/rdata.hpp"
#include "message/compress.hpp"
#include "message/report_mail.hpp"
#include "smtp/session.hpp"

namespace mk::reports {
namespace asio = boost::asio;

namespace {

constexpr std::int64_t kMaxSleep = 3600;  // wake at least hourly, to notice a restart's backlog

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "dkim d s result" / "spf d result" lines back into report fields.
void parse_auth(const std::string& auth, dmarc::ReportRow& row) {
  for (auto line : split(auth, '\n')) {
    const auto f = split(line, ' ');
    if (f.size() == 4 && f[0] == "dkim") row.dkim_results.push_back({std::string(f[1]), std::string(f[2]), std::string(f[3])});
    if (f.size() == 3 && f[0] == "spf") row.spf_result = dmarc::AuthResult{std::string(f[1]), "", std::string(f[2])};
  }
}

}  // namespace

DmarcReporter::DmarcReporter(asio::io_context& io, store::Reports& store, delivery::ServerMail& mail,
                             dns::Lookup& dns, std::string hostname, Duration interval, log::Logger log)
    : strand_(asio::make_strand(io)),
      timer_(strand_),
      store_(store),
      mail_(mail),
      dns_(dns),
      hostname_(std::move(hostname)),
      interval_(std::max<std::int64_t>(1, whole_seconds(interval))),
      log_(std::move(log)) {}

void DmarcReporter::start() {
  asio::co_spawn(strand_, loop(), log::LogThrown{log_, "dmarc.report_loop_failed"});
}

void DmarcReporter::stop() {
  asio::post(strand_, [this] {
    stopping_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> DmarcReporter::loop() {
  while (!stopping_) {
    const std::int64_t now = now_s();
    co_await send_before(now - now % interval_);
    const std::int64_t next = now - now % interval_ + interval_ + 1;
    timer_.expires_after(std::chrono::seconds(std::clamp<std::int64_t>(next - now, 1, kMaxSleep)));
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }
}

asio::awaitable<std::vector<std::string>> DmarcReporter::recipients(std::string domain) {
  std::vector<std::string> out;
  auto txt = co_await dns_.query("_dmarc." + domain, dns::kTxt);
  if (!txt || txt->temporary()) co_return out;
  std::optional<dmarc::Record> rec;
  for (const auto& rd : txt->rdata)
    if (auto t = dns::parse_txt(rd); t && dmarc::is_dmarc_record(*t))
      if (auto r = dmarc::parse_record(*t)) rec = std::move(*r);
  if (!rec) co_return out;
  for (const auto& uri : rec->rua) {
    if (!istarts_with(uri, "mailto:")) continue;
    const std::string addr = uri.substr(7);
    const auto at = addr.rfind('@');
    if (at == std::string::npos || at == 0) continue;
    const std::string rua_domain = to_lower(addr.substr(at + 1));
    if (orgs_.organizational(rua_domain) != orgs_.organizational(domain)) {
      // RFC 7489 §7.1: the report receiver's domain must agree to get this domain's reports.
      auto ok = co_await dns_.query(domain + "._report._dmarc." + rua_domain, dns::kTxt);
      bool agreed = false;
      if (ok && !ok->temporary())
        for (const auto& rd : ok->rdata)
          if (auto t = dns::parse_txt(rd); t && dmarc::is_dmarc_record(*t)) agreed = true;
      if (!agreed) {
        log_.warn("dmarc.report_refused", {{"domain", domain}, {"rua", log_safe(addr)},
                                          {"why", "no _report._dmarc authorization"}});
        continue;
      }
    }
    out.push_back(addr);
  }
  co_return out;
}

asio::awaitable<void> DmarcReporter::send_before(std::int64_t period_start) {
  auto rows = store_.dmarc_results_before(period_start);
  if (!rows || rows->empty()) co_return;
  std::map<std::int64_t, std::map<std::string, std::vector<store::DmarcResult>>> grouped;
  for (auto& r : *rows) grouped[r.period][r.policy_domain].push_back(std::move(r));
  for (auto& [period, domains] : grouped) {
    for (auto& [domain, list] : domains) {
      std::vector<std::string> rua = co_await recipients(domain);
      if (rua.empty()) continue;
      dmarc::Aggregate a;
      a.org_name = hostname_;
      a.email = "postmaster@" + hostname_;
      a.report_id = fmt::format("{}.{}.{}", period, domain, random_id(6));
      a.begin = period;
      a.end = period + interval_ - 1;
      a.domain = domain;
      if (auto p = dmarc::parse_record(list.front().policy)) a.policy = *p;
      for (const auto& r : list) {
        dmarc::ReportRow row;
        row.source_ip = r.source_ip;
        row.count = std::uint64_t(r.count);
        row.disposition = r.disposition;
        row.dkim = r.dkim;
        row.spf = r.spf;
        row.reason = r.reason;
        row.header_from = r.header_from;
        row.envelope_from = r.envelope_from;
        parse_auth(r.auth, row);
        a.rows.push_back(std::move(row));
      }
      message::ReportMail m;
      m.from = "noreply-dmarc@" + hostname_;
      m.from_name = "DMARC reporting";
      m.to = rua;
      m.subject = fmt::format("Report Domain: {} Submitter: {} Report-ID: <{}>", domain, hostname_, a.report_id);
      m.date = smtp::rfc5322_date(std::chrono::system_clock::now());
      m.message_id = fmt::format("{}@{}", a.report_id, hostname_);
      m.content_type = "multipart/mixed";
      m.text = fmt::format("This is a DMARC aggregate report from {} for {} (RFC 7489).", hostname_, domain);
      m.attachment_type = "application/gzip";
      m.attachment_name = fmt::format("{}!{}!{}!{}.xml.gz", hostname_, domain, a.begin, a.end);
      m.attachment = message::gzip(dmarc::aggregate_xml(a));
      if (auto st = mail_.send(message::report_mail(m), rua, "dmarc_report"); !st)
        log_.error("dmarc.report_failed", {{"domain", domain}, {"error", st.error().message}});
      else
        log_.info("dmarc.report_queued", {{"domain", domain}, {"rua", rua.size()}, {"rows", a.rows.size()}});
    }
    // Left in place, the period is reported again at the next run: a duplicate, not a loss.
    log_.ok_or_log(store_.delete_dmarc_results(period), "dmarc.results_not_deleted", {{"period", period}});
  }
}

}  // namespace mk::reports
