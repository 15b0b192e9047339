// mailkeep check [DOMAIN] [--json]: the self-diagnosis (PRODUCT.md). It builds what this
// instance is from the configuration and the store (hostname, listeners, hosted domains, the
// records the admin was asked to publish, the resolver's settings) and runs every check of
// check/run.hpp through mailkeep's own resolver; the store is only read.
//
// Trust: certificates are verified as the queue runner verifies MTA-STS hosts, against the
// system's CA store plus [outbound] ca_file (a private CA in test setups).
// Exit codes: 0 when every finding passed, 1 when one failed or could not be checked, 2 for
// usage and configuration errors.
#include <cstdio>
#include <ctime>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include "app/app.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/write_file.hpp"
#include "check/run.hpp"
#include "dns/resolver.hpp"
#include "net/offload.hpp"

namespace mk::app {
namespace {

constexpr std::size_t kMaxTrustAnchorFile = 1u << 20;

// The records mailkeep asks the admin to publish for the hostname and the domains: exactly
// the list `domain dns` and quickstart print (app/dns_records.cpp, setup/records.hpp). The
// reverse DNS is left to the FCrDNS check, which follows PTR and A the way receivers do.
Result<std::vector<check::ExpectedRecord>> expected_records(const Config& cfg, store::Store& s,
                                                            const std::vector<std::string>& domains) {
  auto plan = dns_plan(s, cfg, domains);
  if (!plan) return plan.error();
  std::vector<check::ExpectedRecord> out;
  for (const auto& r : plan->records)
    if (r.type != "PTR") out.push_back({r.owner, r.type, r.value});
  return out;
}

// Every listener of the configuration, as clients reach it.
std::vector<check::Listener> listeners_of(const Config& cfg) {
  std::vector<check::Listener> out;
  auto add = [&out](const std::vector<ListenAddr>& v, const char* service, check::TlsMode mode) {
    for (const auto& l : v) out.push_back({service, l.host, l.port, mode});
  };
  add(cfg.smtp.listen, "smtp", check::TlsMode::smtp_starttls);
  add(cfg.submission.listen, "submission", check::TlsMode::smtp_starttls);
  add(cfg.submission.listen_tls, "submissions", check::TlsMode::implicit);
  add(cfg.imap.listen, "imap", check::TlsMode::imap_starttls);
  add(cfg.imap.listen_tls, "imaps", check::TlsMode::implicit);
  add(cfg.http.listen_tls, "https", check::TlsMode::implicit);
  return out;
}

std::string summary(const std::vector<check::Finding>& findings) {
  std::size_t failed = 0, unknown = 0;
  for (const auto& f : findings) {
    failed += f.outcome == check::Outcome::fail;
    unknown += f.outcome == check::Outcome::unknown;
  }
  if (failed == 0 && unknown == 0) return fmt::format("mailkeep check: all {} checks passed\n", findings.size());
  return fmt::format("mailkeep check: {} failed, {} could not be checked, {} passed\n", failed, unknown,
                     findings.size() - failed - unknown);
}

}  // namespace

Result<check::Plan> check_plan(const Config& cfg, store::Store& s, const std::vector<std::string>& domains) {
  auto expected = expected_records(cfg, s, domains);
  if (!expected) return expected.error();
  check::Plan plan;
  plan.hostname = cfg.hostname;
  plan.domains = domains;
  plan.expected = std::move(*expected);
  plan.listeners = listeners_of(cfg);
  plan.resolver.dnssec = cfg.dns.dnssec;
  plan.resolver.trust_anchor = cfg.dns.trust_anchor;
  plan.resolver.upstream = cfg.dns.upstream;
  if (cfg.dns.dnssec) {
    auto anchor = read_file(cfg.dns.trust_anchor, kMaxTrustAnchorFile);
    if (!anchor)
      return err(fmt::format("{} ([dns] trust_anchor; Debian package dns-root-data)", anchor.error().message), kExitUsage);
    plan.resolver.anchor_zone = check::trust_anchor_zone(*anchor);
  }
  plan.ca_file = cfg.outbound.ca_file;
  plan.filter_lists.address_zones = cfg.spam.lists.dnsbl;
  plan.filter_lists.address_zones.insert(plan.filter_lists.address_zones.end(), cfg.spam.lists.dnswl.begin(),
                                         cfg.spam.lists.dnswl.end());
  plan.filter_lists.domain_zones = cfg.spam.lists.uribl;
  plan.sts_port = cfg.outbound.sts_port;
  plan.query_timeout = cfg.dns.query_timeout;
  return plan;
}

boost::asio::awaitable<Result<boost::json::array>> live_dns_check(const Config& cfg, store::Store& s,
                                                                  boost::asio::thread_pool* work,
                                                                  boost::asio::io_context& io, std::string domain) {
  if (cfg.dev && cfg.dns.upstream.empty())
    co_return err("this instance has no DNS resolver ([dns] upstream): nothing can be checked");
  // A resolver of its own, with an empty cache: the answer is what is published now, not what
  // the server's resolver kept (a missing record's NXDOMAIN, for its negative TTL), and the
  // check does not load the resolver mail uses.
  auto resolver = dns::Resolver::create(io, cfg.dns);
  if (!resolver) co_return resolver.error();
  struct Stop {
    dns::Resolver& r;
    ~Stop() { r.stop(); }
  } stop{**resolver};
  // The plan reads the store and a file: on the work pool (offload needs a default-constructible result).
  auto made = co_await net::offload(work, [&]() -> std::optional<Result<check::Plan>> { return check_plan(cfg, s, {domain}); });
  auto& plan = *made;
  if (!plan) co_return plan.error();
  plan->group_budget = kLiveCheckBudget / 2;  // two groups: the DNSSEC probe, then the records
  auto findings = co_await check::check_published(*plan, **resolver);
  boost::json::array out;
  for (const auto& f : findings)
    out.push_back(boost::json::object{{"check", f.check},
                                      {"subject", f.subject},
                                      {"outcome", check::outcome_name(f.outcome)},
                                      {"problem", f.problem},
                                      {"fix", f.fix}});
  co_return out;
}

int cmd_check(const std::string& config_path, const std::string& domain_arg, bool json) {
  auto loaded = load_config(config_path);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return kExitUsage;
  }
  Config cfg = std::move(*loaded);
  cfg.store.read_only = true;  // a diagnosis changes nothing
  auto opened = store::open(cfg.store);
  if (!opened)
    return fail(err(fmt::format("{} (the instance of {}; run `mailkeep quickstart` to make one)", opened.error().message,
                                config_path)),
                kExitUsage);
  auto& s = **opened;

  std::vector<std::string> domains;
  if (!domain_arg.empty()) {
    const std::string d = to_lower(domain_arg);
    auto hosted = s.has_domain(d);
    if (!hosted) return fail(hosted.error());
    if (!*hosted)
      return fail(err(fmt::format("{0} is not hosted here; add it with: mailkeep domain add {0}", d)), kExitUsage);
    domains.push_back(d);
  } else {
    auto all = s.list_domains();
    if (!all) return fail(all.error());
    domains = *all;
  }
  auto made = check_plan(cfg, s, domains);
  // A trust anchor that cannot be read is the configuration's fault (2); the rest, the run's (1).
  if (!made) return fail(made.error(), made.error().code == kExitUsage ? kExitUsage : kExitRuntime);
  check::Plan plan = std::move(*made);
  plan.now = std::time(nullptr);

  boost::asio::io_context io;
  auto resolver = dns::Resolver::create(io, cfg.dns);
  if (!resolver) return fail(resolver.error(), kExitUsage);
  std::vector<check::Finding> findings;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    findings = co_await check::run_checks(plan, **resolver);
    (*resolver)->stop();
  }, boost::asio::detached);
  io.run();

  // The dashboard (/admin/) shows the last run: kept beside the data, replaced whole.
  const std::string report = check::render_json(findings);
  if (auto w = write_file_atomic(cfg.data_dir + "/" + std::string(kLastCheckFile), report, 0600); !w)
    std::fprintf(stderr, "mailkeep: note: the result was not kept for the dashboard: %s\n", w.error().message.c_str());
  const std::string out = json ? report : check::render_text(findings) + summary(findings);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return check::exit_code(findings);
}

}  // namespace mk::app
