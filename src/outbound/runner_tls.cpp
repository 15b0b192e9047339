// outbound/runner_tls.cpp: the queue runner's TLS policy and reporting, apart from delivery:
// the MTA-STS policy of a destination (RFC 8461: fetched over HTTPS by
// outbound/mta_sts_fetch.cpp, cached in the store, refreshed when the _mta-sts TXT id
// changes), the TLS-RPT result of each session and the periodic TLS-RPT reports (RFC 8460)
// queued to the domains that ask for them. What a policy requires of a session is decided in
// outbound/tls_requirement.cpp.
#include <algorithm>
#include <ctime>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "outbound/dsn.hpp"
#include "outbound/mta_sts_fetch.hpp"
#include "outbound/runner.hpp"
#include "outbound/tlsrpt.hpp"

namespace mk::outbound {

namespace asio = boost::asio;
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
std::int64_t now_s() { return std::int64_t(std::time(nullptr)); }

}  // namespace

void Runner::tls_result(const std::string& domain, const Route& rt, const Host& h, const std::string& ip,
                        std::string result_type) {
  store::TlsResult r;
  const std::int64_t now = now_s(), interval = std::max<std::int64_t>(1, whole_seconds(cfg_.tls_report_interval));
  r.period = now - now % interval;
  r.policy_domain = domain;
  r.mx_host = h.name;
  r.ip = ip;
  r.result_type = std::move(result_type);
  if (!h.tlsa.empty()) {
    r.policy_type = "tlsa";
    for (const auto& t : h.tlsa) {
      std::string hex;
      for (unsigned char c : t.data) hex += fmt::format("{:02x}", c);
      r.policy_string += fmt::format("{} {} {} {}\n", t.usage, t.selector, t.matching, hex);
    }
  } else if (rt.sts && rt.sts->mode != tlspolicy::StsMode::none) {
    r.policy_type = "sts";
    r.policy_string = fmt::format("version: STSv1\nmode: {}\n", tlspolicy::to_string(rt.sts->mode));
    for (const auto& m : rt.sts->mx) {
      r.policy_string += "mx: " + m + "\n";
      r.mx_pattern += m + "\n";
    }
    r.policy_string += fmt::format("max_age: {}\n", rt.sts->max_age);
  } else {
    r.policy_type = "no-policy-found";
  }
  if (auto st = store_.reports.add_tls_result(r); !st) log_.warn("outbound.tlsrpt_record_failed", {{"error", st.error().message}});
}

asio::awaitable<void> Runner::report_loop() {
  while (!stopping_) {
    const std::int64_t now = now_s(), interval = std::max<std::int64_t>(1, whole_seconds(cfg_.tls_report_interval));
    co_await send_reports(now - now % interval);
    // Wake shortly after the current period ends (at most hourly, to notice a restart's backlog).
    const std::int64_t next = now - now % interval + interval + 1;
    report_timer_.expires_after(std::chrono::seconds(std::clamp<std::int64_t>(next - now, 1, 3600)));
    auto [ec] = co_await report_timer_.async_wait(kTuple);
    (void)ec;
  }
}

asio::awaitable<void> Runner::send_reports(std::int64_t before) {
  auto rows = store_.reports.tls_results_before(before);
  if (!rows || rows->empty()) co_return;
  // period -> domain -> rows
  std::map<std::int64_t, std::map<std::string, std::vector<store::TlsResult>>> grouped;
  for (auto& r : *rows) grouped[r.period][r.policy_domain].push_back(std::move(r));
  const std::int64_t interval = std::max<std::int64_t>(1, whole_seconds(cfg_.tls_report_interval));
  for (auto& [period, domains] : grouped) {
    for (auto& [domain, list] : domains) {
      // RFC 8460 §3: only domains that ask for reports get them.
      std::vector<std::string> rua;
      auto txt = co_await resolver_.query("_smtp._tls." + domain, dns::kTxt);
      if (txt && !txt->temporary())
        for (const auto& d : txt->rdata)
          if (auto t = dns::parse_txt(d))
            if (auto r = parse_tlsrpt_txt(*t)) rua.insert(rua.end(), r->begin(), r->end());
      if (rua.empty()) continue;
      TlsReportMeta meta{cfg_.hostname, "postmaster@" + cfg_.hostname,
                         fmt::format("{}.{}.{}", period, domain, random_id(6)), period, period + interval - 1};
      const std::string json = tlsrpt_json(meta, list);
      auto sent = server_mail_.send(tlsrpt_message(meta, domain, "noreply-tlsrpt@" + cfg_.hostname, rua, json), rua,
                                    "tlsrpt");
      if (!sent)
        log_.error("outbound.tlsrpt_failed", {{"domain", domain}, {"error", sent.error().message}});
      else
        log_.info("outbound.tlsrpt_queued", {{"domain", domain}, {"rua", rua.size()}});
    }
    // Left in place, the period is reported again at the next run: a duplicate, not a loss.
    log_.ok_or_log(store_.reports.delete_tls_results(period), "outbound.tlsrpt_results_not_deleted", {{"period", period}});
  }
}

asio::awaitable<std::optional<tlspolicy::StsPolicy>> Runner::sts_policy(const std::string& domain) {
  const std::int64_t now = now_s();
  std::optional<tlspolicy::StsPolicy> cached;
  if (auto rec = store_.keys.sts_policy(domain); rec && *rec) {
    tlspolicy::StsPolicy p;
    p.id = (*rec)->id;
    p.mode = (*rec)->mode == "enforce" ? tlspolicy::StsMode::enforce
             : (*rec)->mode == "testing" ? tlspolicy::StsMode::testing : tlspolicy::StsMode::none;
    for (auto l : split((*rec)->mx, '\n'))
      if (!l.empty()) p.mx.emplace_back(l);
    p.max_age = (*rec)->max_age;
    p.fetched = (*rec)->fetched;
    if (!p.expired(now)) cached = std::move(p);
  }
  std::optional<std::string> id;
  auto txt = co_await resolver_.query("_mta-sts." + domain, dns::kTxt);
  if (txt && !txt->temporary()) {
    int valid = 0;
    for (const auto& d : txt->rdata) {
      auto t = dns::parse_txt(d);
      if (!t || !t->starts_with("v=STSv1")) continue;
      ++valid;
      id = tlspolicy::parse_sts_txt(*t);
    }
    if (valid != 1) id.reset();  // RFC 8461 §3.1: exactly one record, else none
  }
  if (!id || (cached && cached->id == *id)) co_return cached;
  auto fresh = co_await fetch_sts_policy(resolver_, *tls_, domain, StsFetch{cfg_.sts_port, cfg_.connect_timeout});
  if (!fresh) {
    if (!cached) {
      const std::int64_t interval = std::max<std::int64_t>(1, whole_seconds(cfg_.tls_report_interval));
      log_.ok_or_log(store_.reports.add_tls_result(store::TlsResult{now - now % interval, domain, "sts", "", "",
                                                            "sts-policy-fetch-error", "mta-sts." + domain, "", 1}),
                     "outbound.tlsrpt_result_not_recorded", {{"domain", domain}});
    }
    log_.warn("outbound.mta_sts_fetch_failed", {{"domain", domain}, {"error", fresh.error().message},
                                                {"using_cached", cached.has_value()}});
    co_return cached;
  }
  fresh->id = *id;
  fresh->fetched = now;
  std::string mx;
  for (const auto& m : fresh->mx) mx += m + "\n";
  // Not cached: the policy is used now and fetched again next time.
  log_.ok_or_log(store_.keys.put_sts_policy(store::StsRecord{domain, fresh->id, std::string(tlspolicy::to_string(fresh->mode)),
                                                        mx, fresh->max_age, fresh->fetched}),
                 "outbound.mta_sts_not_cached", {{"domain", domain}});
  log_.info("outbound.mta_sts_policy", {{"domain", domain}, {"id", fresh->id}, {"mode", tlspolicy::to_string(fresh->mode)}});
  std::optional<tlspolicy::StsPolicy> policy(std::move(*fresh));
  co_return policy;
}

}  // namespace mk::outbound
