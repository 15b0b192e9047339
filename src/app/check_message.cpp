// mailkeep check-message FILE: what the MX would decide about a message file now, and why,
// for users debugging their own DNS records, signatures and spam verdicts. It runs the MX's
// very inbound chain (app/compose.hpp: sender authentication, receiver policy, filter) on the
// instance's store, read-only; --rcpt gives a recipient's own verdict.
//
// DNS comes from the config's [dns] section when the config file exists, else full
// recursion. SPF needs the client's address (--ip); without it only DKIM counts for DMARC.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/app.hpp"
#include "app/compose.hpp"
#include "delivery/recipients.hpp"
#include "inbound/spam_filter.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "dns/resolver.hpp"
#include "filter/verdict.hpp"
#include "mailauth/assess.hpp"
#include "message/header.hpp"
#include "message/parsed.hpp"

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
  if (!o.ip.empty() && !IpAddr::parse(o.ip))
    return fail(err("--ip " + o.ip + ": not an IPv4 or IPv6 address"), kExitUsage);
  const bool have_ip = !o.ip.empty();
  const std::string mail_from = o.mail_from.empty() ? return_path(msg) : o.mail_from;
  if (o.helo.empty() && mail_from.empty() && have_ip)
    return fail(err("SPF needs the envelope sender (--mail-from) or the HELO name (--helo)"), kExitUsage);

  // The instance's store (what its users know, their models and thresholds), read-only; with
  // no instance here, an empty one: the verdict of a fresh install.
  std::string scratch;
  if (cfg.data_dir.empty() || ::stat(cfg.data_dir.c_str(), &st) != 0) {
    if (!cfg.data_dir.empty())
      std::fprintf(stderr, "mailkeep: %s does not exist: judging as a fresh install would (no users, no models)\n",
                   cfg.data_dir.c_str());
    char tmpl[] = "/tmp/mailkeep-check-XXXXXX";
    if (!::mkdtemp(tmpl)) return fail(err("cannot create a temporary directory"), kExitRuntime);
    scratch = cfg.data_dir = cfg.store.data_dir = tmpl;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) std::filesystem::remove_all(dir);
    }
  } cleanup{scratch};
  cfg.store.read_only = scratch.empty();  // an instance's store is only read, never changed
  auto store = store::open(cfg.store);
  if (!store) return fail(store.error(), kExitRuntime);

  smtp::Transaction txn;
  if (auto mb = message::parse_mailbox(mail_from); mb && !mail_from.empty()) txn.mail.path.mailbox = *mb;
  else txn.mail.path.null = true;
  delivery::LocalRecipients local(**store);
  for (const auto& r : o.rcpts) {
    auto mb = message::parse_mailbox(r);
    if (!mb) return fail(err("--rcpt " + r + ": not an email address"), kExitUsage);
    auto v = local.resolve(*mb);
    if (v.kind == smtp::RcptVerdict::Kind::temp_fail)
      return fail(err("--rcpt " + r + ": the store could not be read; try again"), kExitRuntime);
    if (v.kind != smtp::RcptVerdict::Kind::accept)
      return fail(err("--rcpt " + r + ": not a recipient this instance accepts mail for"), kExitUsage);
    txn.rcpts.push_back(smtp::Recipient{mb->canonical(), std::move(v.targets), {}});
  }

  // DNS from [dns] when there is a config, else full recursion (also in dev mode: the point
  // is to look at the sender's real records).
  boost::asio::io_context io;
  auto resolver = dns::Resolver::create(io, cfg.dns);
  if (!resolver) return fail(resolver.error(), kExitRuntime);
  const InboundChain chain = make_inbound_chain(cfg, resolver->get(), **store, log::Logger(), true);
  inbound::InboundPipeline::Explanation why;
  smtp::PipelineDecision decision;
  const message::Parsed parsed(msg);  // as the MX parses what it received
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    decision = co_await chain.pipeline->evaluate(txn, parsed, o.helo, o.ip, &why);
    (*resolver)->stop();
  }, boost::asio::detached);
  io.run();
  const mailauth::Assessment& a = why.auth;

  auto line = [](std::string_view what, std::string_view result, const std::string& detail) {
    std::printf("%-6s %-10s %s\n", std::string(what).c_str(), std::string(result).c_str(), detail.c_str());
  };
  std::printf("From:  %s\n", a.from_domains.empty() ? "(no author domain)" : fmt::format("{}", fmt::join(a.from_domains, ", ")).c_str());
  if (!have_ip) {
    line("SPF", "-", "not checked (give --ip, and --mail-from or --helo)");
  } else {
    std::string d = fmt::format("{} {} for {}", a.spf.identity, a.spf.domain, o.ip);
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
    if (!have_ip) d += " (SPF not checked)";
    line("DMARC", dmarc::outcome_name(v.result), d);
  }
  {
    std::string d = a.arc.problem;
    if (a.arc.status == arc::Chain::pass) d = fmt::format("{} set(s), sealed by {}", a.arc.instances, fmt::join(a.arc.sealers, ", "));
    if (a.arc.status == arc::Chain::none) d = "no ARC sets";
    line("ARC", arc::chain_name(a.arc.status), d);
  }
  if (have_ip) line("iprev", mailauth::iprev_name(a.iprev), a.ptr_name.empty() ? o.ip : a.ptr_name);
  std::printf("\n%s", a.header.c_str());

  for (const auto& note : why.list_notes) std::printf("DNS list: %s\n", note.c_str());
  if (why.filtered) {
    const filter::Verdict& v = why.verdict;
    std::printf("\nSpam filter (%s):\n", why.model ? "rules and the trained model" : "rules only: no model trained yet");
    for (const auto& s : v.signals) std::printf("  %-14s %+7.2f  %s\n", s.name.c_str(), s.score, s.why.c_str());
    std::printf("  %-14s %+7.2f  -> %s\n", "total", v.score,
                v.action == filter::Action::reject ? "refused at SMTP time"
                : v.action == filter::Action::junk ? "delivered to Junk"
                : v.action == filter::Action::tag  ? "delivered, tagged as probable spam"
                                                   : "delivered");
    std::printf("%s", v.header().c_str());
  }
  // What the MX would do with it, all stages together.
  std::string outcome = decision.reject ? fmt::format("refused: {} {} {}", decision.reject->code,
                                                      decision.reject->enhanced, fmt::join(decision.reject->lines, " "))
                        : decision.junk || !decision.junk_accounts.empty() ? "accepted, into Junk"
                                                                           : "accepted";
  if (!why.filtered && !decision.reject) outcome += " (no filter verdict)";
  std::printf("\nMX decision: %s\n", outcome.c_str());
  for (const auto& f : decision.log)
    if (f.key == "reason" || f.key == "phishing") std::printf("  %s: %s\n", f.key.c_str(), f.value.c_str());
  return kExitOk;
}

}  // namespace mk::app
