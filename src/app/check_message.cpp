// mailkeep check-message FILE: the sender authentication verdicts for a message file, as the
// MX would work them out now, for users debugging their own DNS records and signatures.
//
// DNS comes from the config's [dns] section when the config file exists, else full
// recursion. SPF needs the client's address (--ip); without it only DKIM counts for DMARC.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/app.hpp"
#include "app/spam_filter.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "dns/resolver.hpp"
#include "filter/verdict.hpp"
#include "mailauth/assess.hpp"
#include "message/header.hpp"

namespace mk::app {
namespace {

constexpr std::size_t kMaxMessageFile = 64u << 20;

// Mail files on disk often have bare LF line endings; DKIM is defined over CRLF.
std::string to_crlf(const std::string& in) {
  std::string out;
  out.reserve(in.size() + in.size() / 32);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) out += '\r';
    out += in[i];
  }
  return out;
}

// The envelope sender recorded by the final delivery, if the file has one.
std::string return_path(std::string_view msg) {
  auto v = message::header_value(message::parse_message_header(msg), "Return-Path");
  if (!v) return {};
  std::string s(trim(*v));
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

int cmd_check_message(const std::string& config_path, const CheckMessageOptions& o) {
  auto text = read_file(o.file, kMaxMessageFile);
  if (!text) return fail(err(text.error().message + " (the message file)"), kExitUsage);
  const std::string msg = to_crlf(*text);

  Config cfg;
  struct stat st{};
  if (::stat(config_path.c_str(), &st) == 0) {
    auto c = load_config(config_path);
    if (!c) return fail(c.error(), kExitUsage);
    cfg = std::move(*c);
  }
  mailauth::Params p;
  if (!o.ip.empty()) {
    auto ip = IpAddr::parse(o.ip);
    if (!ip) return fail(err("--ip " + o.ip + ": not an IPv4 or IPv6 address"), kExitUsage);
    p.ip = *ip;
  } else {
    p.have_ip = false;
  }
  p.helo = o.helo;
  p.mail_from = o.mail_from.empty() ? return_path(msg) : o.mail_from;
  if (p.helo.empty() && p.mail_from.empty() && p.have_ip)
    return fail(err("SPF needs the envelope sender (--mail-from) or the HELO name (--helo)"), kExitUsage);
  p.authserv_id = cfg.hostname;
  p.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  boost::asio::io_context io;
  dns::Config dc;
  dc.upstream = cfg.dns.upstream;
  dc.dnssec = cfg.dns.dnssec;
  dc.trust_anchor = cfg.dns.trust_anchor;
  auto resolver = dns::Resolver::create(io, dc);
  if (!resolver) return fail(resolver.error(), kExitRuntime);
  dmarc::OrgDomains orgs;
  mailauth::Assessment a;
  // The DNS lists, as the MX would ask them (the client's address only with --ip).
  filter::BlocklistResult listed;
  const filter::BlocklistConfig& lists = cfg.spam.lists;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    a = co_await mailauth::assess(**resolver, orgs, p, msg);
    if (!lists.empty()) {
      // Named first: GCC 12 mishandles temporaries in a co_await's arguments.
      std::string client = p.have_ip ? p.ip.to_string() : std::string();
      std::vector<std::string> domains = filter::link_domains(msg, orgs);
      listed = co_await filter::check_blocklists(**resolver, lists, std::move(client), std::move(domains));
    }
    (*resolver)->stop();
  }, boost::asio::detached);
  io.run();

  auto line = [](std::string_view what, std::string_view result, const std::string& detail) {
    std::printf("%-6s %-10s %s\n", std::string(what).c_str(), std::string(result).c_str(), detail.c_str());
  };
  std::printf("From:  %s\n", a.from_domains.empty() ? "(no author domain)" : fmt::format("{}", fmt::join(a.from_domains, ", ")).c_str());
  if (!p.have_ip) {
    line("SPF", "-", "not checked (give --ip, and --mail-from or --helo)");
  } else {
    std::string d = fmt::format("{} {} for {}", a.spf.identity, a.spf.domain, p.ip.to_string());
    if (!a.spf.mechanism.empty()) d += fmt::format(": \"{}\"", a.spf.mechanism);
    if (!a.spf.problem.empty()) d += " (" + a.spf.problem + ")";
    if (!a.spf.explanation.empty()) d += " explanation: " + log_safe(a.spf.explanation);
    line("SPF", spf::outcome_name(a.spf.result), d);
    if (a.helo_spf.identity == "helo" && a.spf.identity != "helo")
      line("HELO", spf::outcome_name(a.helo_spf.result),
           fmt::format("SPF of the HELO name {}{}", a.helo_spf.domain,
                       a.helo_spf.problem.empty() ? "" : " (" + a.helo_spf.problem + ")"));
  }
  if (a.dkim.empty()) line("DKIM", "none", "no signatures");
  for (const auto& s : a.dkim) {
    std::string d = fmt::format("d={} s={} a={}", s.domain, s.selector, s.algorithm);
    if (s.key_bits) d += fmt::format(" ({}-bit key)", s.key_bits);
    if (s.testing) d += " (key in testing mode)";
    if (!s.problem.empty()) d += ": " + s.problem;
    line("DKIM", dkim::status_name(s.status), d);
  }
  {
    const auto& v = a.dmarc;
    std::string d;
    if (v.record) {
      d = fmt::format("policy {} (record at _dmarc.{}), disposition {}", dmarc::policy_name(v.policy), v.policy_domain,
                      dmarc::policy_name(v.disposition));
    } else {
      d = v.problem;
    }
    d += fmt::format("; aligned: spf {}, dkim {}", v.spf_aligned ? "yes" : "no",
                     v.dkim_aligned ? "yes (" + v.dkim_domain + ")" : "no");
    if (!p.have_ip) d += " (SPF not checked)";
    line("DMARC", dmarc::outcome_name(v.result), d);
  }
  {
    std::string d = a.arc.problem;
    if (a.arc.status == arc::Chain::pass) d = fmt::format("{} set(s), sealed by {}", a.arc.instances, fmt::join(a.arc.sealers, ", "));
    if (a.arc.status == arc::Chain::none) d = "no ARC sets";
    line("ARC", arc::chain_name(a.arc.status), d);
  }
  if (p.have_ip) line("iprev", mailauth::iprev_name(a.iprev), a.ptr_name.empty() ? p.ip.to_string() : a.ptr_name);
  std::printf("\n%s", a.header.c_str());

  // The spam filter's verdict, as the MX would reach it (the instance's model, if trained).
  filter::Inputs fin;
  std::optional<filter::Model> model;
  if (!cfg.data_dir.empty()) {
    if (auto m = filter::Model::load(spam_model_path(cfg.data_dir))) model = std::move(*m);
  }
  fin.model = model ? &*model : nullptr;
  fin.auth = &a;
  fin.thresholds = {cfg.spam.tag_score, cfg.spam.junk_score, cfg.spam.reject_score};
  fin.extra = listed.signals;
  for (const auto& note : listed.notes) std::printf("DNS list: %s\n", note.c_str());
  const filter::Verdict v = filter::judge(msg, fin);
  std::printf("\nSpam filter (%s):\n", model ? "rules and the trained model" : "rules only: no model trained yet");
  for (const auto& s : v.signals) std::printf("  %-14s %+7.2f  %s\n", s.name.c_str(), s.score, s.why.c_str());
  std::printf("  %-14s %+7.2f  -> %s\n", "total", v.score,
              v.action == filter::Action::reject ? "refused at SMTP time"
              : v.action == filter::Action::junk ? "delivered to Junk"
              : v.action == filter::Action::tag  ? "delivered, tagged as probable spam"
                                                 : "delivered");
  std::printf("%s", v.header().c_str());
  return kExitOk;
}

}  // namespace mk::app
