#include "inbound/auth_pipeline.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "dmarc/report.hpp"
#include "dns/deadline.hpp"
#include "mailauth/assess.hpp"
#include "delivery/recipients.hpp"
#include "message/header.hpp"
#include "net/offload.hpp"

namespace mk::inbound {
namespace asio = boost::asio;

namespace {

std::string dkim_summary(const std::vector<dkim::SigResult>& sigs) {
  if (sigs.empty()) return "none";
  std::string out;
  for (const auto& s : sigs) {
    if (!out.empty()) out += ',';
    out += std::string(dkim::status_name(s.status)) + ":" + s.domain;
  }
  return out;
}

bool temporary(const mailauth::Assessment& a) {
  if (a.spf.result == spf::Outcome::temperror || a.dmarc.result == dmarc::Outcome::temperror) return true;
  for (const auto& s : a.dkim)
    if (s.status == dkim::Status::temperror) return true;
  return false;
}

}  // namespace

bool AuthPipeline::hosted(std::string_view domain) {
  std::string d = to_lower(domain);
  while (!d.empty()) {
    auto h = store_.directory.has_domain(d);
    if (h && *h) return true;
    const auto dot = d.find('.');
    if (dot == std::string::npos) break;
    d.erase(0, dot + 1);
  }
  return false;
}

bool AuthPipeline::arc_vouches(const arc::ChainResult& chain) const {
  if (chain.status != arc::Chain::pass || chain.sealers.empty()) return false;
  if (std::find(opt_.trusted_sealers.begin(), opt_.trusted_sealers.end(), chain.sealers.back()) == opt_.trusted_sealers.end())
    return false;
  // The sealer's own Authentication-Results: DMARC passed when the message reached it.
  const std::string r = to_lower(chain.latest_results);
  for (std::size_t p = r.find("dmarc=pass"); p != std::string::npos; p = r.find("dmarc=pass", p + 1)) {
    const bool starts = p == 0 || r[p - 1] == ' ' || r[p - 1] == ';' || r[p - 1] == '\t' || r[p - 1] == '\n';
    const std::size_t end = p + 10;
    if (starts && (end == r.size() || r[end] == ' ' || r[end] == ';' || r[end] == '\r' || r[end] == '\t')) return true;
  }
  return false;
}

asio::awaitable<smtp::PipelineDecision> AuthPipeline::check(const smtp::Transaction& txn, const message::Parsed& msg,
                                                            std::string helo, std::string remote_ip) {
  mailauth::Assessment unused;
  dns::DeadlineLookup dns = message_dns();
  smtp::PipelineDecision d = co_await decide(txn, msg, std::move(helo), std::move(remote_ip), unused, dns);
  co_return d;
}

asio::awaitable<smtp::PipelineDecision> AuthPipeline::decide(const smtp::Transaction& txn, const message::Parsed& msg,
                                                             std::string helo, std::string remote_ip,
                                                             mailauth::Assessment& assessment,
                                                             dns::DeadlineLookup& dns) {
  smtp::PipelineDecision out;
  mailauth::Params p;
  // No client address only in check-message without --ip: then SPF and iprev are not checked.
  p.have_ip = !remote_ip.empty();
  p.ip = IpAddr::parse(remote_ip).value_or(IpAddr{});
  p.helo = std::move(helo);
  p.mail_from = txn.mail.path.null ? "" : txn.mail.path.mailbox.canonical();
  p.authserv_id = opt_.authserv_id;
  p.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  p.sample = int(randombytes_uniform(100));
  assessment = co_await mailauth::assess(dns, orgs_, p, msg);
  // Read here, on the message's executor: lookups sharing the deadline may still be running.
  const int answered = dns.answered(), failed = dns.failed();
  const mailauth::Assessment& a = assessment;
  if (answered == 0 && failed > 0) {  // dns.unreachable(), as it was when assess ended
    // Nothing answered: judging the message on failed lookups would reject good mail.
    if (!dns_outage_.exchange(true)) {
      ++dns_outages_;
      opt_.log.warn("dns.unreachable", {{"failed_lookups", failed}, {"outages", dns_outages_.load()},
                                        {"effect", "mail is deferred with 451 4.4.3 until DNS answers"}});
    }
    out.reject = smtp::Reply(451, "4.4.3", "Directory server failure: DNS lookups failed, try again later");
    out.log.push_back({"reason", "dns unreachable"});
    out.reason = "dns_unreachable";
    out.log.push_back({"dns_failed", failed});
    co_return out;
  }
  // The receiver's policy reads and writes the store (hosted domains, report data, DKIM keys
  // for the ARC seal): on the work pool (net/offload.hpp).
  auto policy = [&]() -> smtp::PipelineDecision {
    if (answered > 0 && dns_outage_.exchange(false)) opt_.log.info("dns.recovered", {});

    out.fields = a.header;
    std::size_t removed = 0;
    std::string stripped = mailauth::strip_own_results(msg, opt_.authserv_id, &removed);
    if (removed > 0) out.content = std::make_shared<const message::Parsed>(std::move(stripped));
    out.dmarc = std::string(dmarc::outcome_name(a.dmarc.result));
    out.log = {{"spf", spf::outcome_name(a.spf.result)},
               {"helo_spf", spf::outcome_name(a.helo_spf.result)},
               {"dkim", dkim_summary(a.dkim)},
               {"dmarc", dmarc::outcome_name(a.dmarc.result)},
               {"from_domain", a.from_domains.size() == 1 ? a.from_domains[0] : std::string()},
               {"arc", arc::chain_name(a.arc.status)},
               {"iprev", mailauth::iprev_name(a.iprev)},
               {"helo_ok", a.helo_matches}};
    if (removed > 0) out.log.push_back({"forged_ar_removed", removed});
    if (failed > 0) out.log.push_back({"dns_failed", failed});

    if (msg.authors().truncated) {
      out.reject = smtp::Reply(550, "5.7.1", "Message header or From: address list too large to check its author");
      out.reason = "from_unreadable";
      return out;
    }
    if (a.from_fields > 1 || a.from_domains.size() > 1) {
      out.reject = smtp::Reply(550, "5.7.1", "Message must have exactly one From: field with one author domain");
      out.reason = "from_ambiguous";
      return out;
    }
    const std::string from = a.from_domains.empty() ? std::string() : a.from_domains[0];
    const bool authenticated = a.dmarc.spf_aligned || a.dmarc.dkim_aligned;
    if (!authenticated && arc_vouches(a.arc)) {
      out.log.push_back({"reason", "arc override by " + a.arc.sealers.back()});
      record(a, p, "trusted_forwarder", "none");
      if (std::size_t n = take_reports(msg)) out.log.push_back({"dmarc_reports", n});
      return out;
    }
    if (!from.empty() && hosted(from) && !authenticated) {
      if (temporary(a)) {
        out.reject = smtp::Reply(451, "4.7.5", fmt::format("Cannot verify mail from {} now, try again later", from));
      } else {
        out.reject = smtp::Reply(550, "5.7.1", fmt::format("{} is hosted here: mail claiming it must pass SPF or DKIM "
                                                           "aligned with it", log_safe(from, 100)));
      }
      out.log.push_back({"reason", "hosted domain not authenticated"});
      out.reason = temporary(a) ? "auth_temporary" : "hosted_domain_forged";
      return out;
    }
    if (a.dmarc.result == dmarc::Outcome::fail) {
      if (a.dmarc.disposition == dmarc::Policy::reject) {
        out.reject = smtp::Reply(550, "5.7.1", fmt::format("Rejected by the DMARC policy of {}", log_safe(from, 100)));
        out.log.push_back({"reason", "dmarc reject"});
        out.reason = "dmarc_reject";
        record(a, p, "", "reject");
        return out;
      }
      if (a.dmarc.disposition == dmarc::Policy::quarantine) {
        out.junk = true;
        out.log.push_back({"reason", "dmarc quarantine"});
        out.reason = "dmarc_quarantine";
      }
    }
    if (const std::string fwd = delivery::forward_domain(txn); !fwd.empty() && !out.junk)
      out.fields = arc_seal(a, p, msg.text(), fwd, out.log) + out.fields;
    const bool sampled_out = a.dmarc.result == dmarc::Outcome::fail && a.dmarc.disposition != a.dmarc.policy;
    record(a, p, sampled_out ? (a.dmarc.record && a.dmarc.record->testing ? "policy_test_mode" : "sampled_out") : "",
           dmarc::policy_name(a.dmarc.disposition));
    if (std::size_t n = take_reports(msg)) out.log.push_back({"dmarc_reports", n});
    return out;
  };
  co_return co_await net::offload(opt_.work, policy);
}

void AuthPipeline::record(const mailauth::Assessment& a, const mailauth::Params& p, std::string_view reason,
                          std::string_view disposition) {
  const auto& v = a.dmarc;
  if (opt_.read_only || !opt_.record_for_reports || !v.record || v.record->rua.empty()) return;
  store::DmarcResult r;
  const std::int64_t interval = std::max<std::int64_t>(1, whole_seconds(opt_.report_interval));
  r.period = p.now - p.now % interval;
  r.policy_domain = v.policy_domain;
  r.policy = v.record_text;
  r.source_ip = p.ip.to_string();
  r.header_from = v.from_domain;
  r.envelope_from = a.spf.domain;
  r.disposition = std::string(disposition);
  r.dkim = v.dkim_aligned ? "pass" : "fail";
  r.spf = v.spf_aligned ? "pass" : "fail";
  r.reason = std::string(reason);
  for (const auto& d : a.dkim)
    if (!d.domain.empty()) r.auth += fmt::format("dkim {} {} {}\n", d.domain, d.selector, dkim::status_name(d.status));
  if (!a.spf.domain.empty()) r.auth += fmt::format("spf {} {}\n", a.spf.domain, spf::outcome_name(a.spf.result));
  opt_.log.ok_or_log(store_.reports.add_dmarc_result(r), "dmarc.result_not_recorded", {{"domain", r.policy_domain}});
}

std::string AuthPipeline::arc_seal(const mailauth::Assessment& a, const mailauth::Params& p, std::string_view content,
                                   const std::string& domain, std::vector<log::Field>& log) {
  auto keys = store_.keys.dkim_keys(domain);
  if (!keys) return {};
  const store::DkimKey* pick = nullptr;
  for (const auto& k : *keys) {
    if (k.state != "active") continue;
    // RSA first: it is what ARC verifiers support everywhere.
    if (!pick || (k.algorithm == "rsa-sha256" && pick->algorithm != "rsa-sha256")) pick = &k;
  }
  if (!pick) {
    log.push_back({"arc_seal", "no active DKIM key for " + domain});
    return {};
  }
  arc::Sealer sealer{domain, pick->selector,
                     pick->algorithm == "rsa-sha256" ? dkim::Algorithm::rsa_sha256 : dkim::Algorithm::ed25519_sha256,
                     pick->private_pem};
  // Our Authentication-Results payload: what follows "Authentication-Results: authserv-id;".
  std::string results = a.header;
  const auto semi = results.find(';');
  results = semi == std::string::npos ? std::string() : std::string(trim(results.substr(semi + 1)));
  auto sealed = arc::seal(content, sealer, opt_.authserv_id, results, a.arc, p.now);
  if (!sealed) {
    log.push_back({"arc_seal", sealed.error().message});
    return {};
  }
  log.push_back({"arc_seal", domain});
  return std::move(*sealed);
}

std::size_t AuthPipeline::take_reports(const message::Parsed& msg) {
  if (opt_.read_only) return 0;
  // RFC 7489 §7.2.1.1: report mail says "Report Domain:" in its subject; nothing else is parsed.
  auto subject = msg.field("Subject");
  if (!subject || !istarts_with(trim(*subject), "Report Domain:")) return 0;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  std::size_t taken = 0;
  for (const auto& rep : dmarc::reports_in_message(msg.text(), msg.mime())) {
    if (!hosted(rep.domain)) continue;  // only reports about our own domains
    std::vector<store::DmarcFeedback> rows;
    for (std::size_t i = 0; i < rep.rows.size(); ++i) {
      const auto& r = rep.rows[i];
      rows.push_back(store::DmarcFeedback{rep.org_name, rep.report_id, std::int64_t(i), rep.domain, rep.begin, rep.end,
                                          r.source_ip, r.header_from, r.disposition, r.dkim, r.spf,
                                          std::int64_t(std::min<std::uint64_t>(r.count, 1u << 30)), now});
    }
    if (opt_.log.ok_or_log(store_.reports.add_dmarc_feedback(rows), "dmarc.feedback_not_stored", {{"reporter", rep.org_name}}))
      ++taken;
  }
  return taken;
}

}  // namespace mk::inbound
