// app/dns_records.cpp: the records `mailkeep domain dns` and `mailkeep quickstart` print, with
// the inputs of setup/records.hpp gathered from the config, the store and the data directory.
// The records and both renderings are the setup module's; this only collects and prints.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>

#include "app/app.hpp"
#include "base/ip.hpp"
#include "net/interfaces.hpp"
#include "net/tls_keys.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::app {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Whether mail to the address reaches someone here: an account, or an alias with a target.
Result<bool> reachable(store::Store& s, const std::string& address) {
  auto acct = s.find_account(address);
  if (!acct) return acct.error();
  if (*acct) return true;
  auto targets = s.alias_targets(address);
  if (!targets) return targets.error();
  return !targets->empty();
}

template <std::size_t N>
Result<std::string> first_reachable(store::Store& s, const std::string& domain,
                                    const std::string_view (&locals)[N]) {
  for (auto local : locals) {
    const std::string a = fmt::format("{}@{}", local, domain);
    auto r = reachable(s, a);
    if (!r) return r.error();
    if (*r) return a;
  }
  return std::string();
}

// The addresses the A/AAAA records name: the public ones the SMTP listener is bound to, or,
// when it listens on every address, the public addresses of the machine's interfaces.
std::vector<std::string> server_addresses(const Config& cfg) {
  std::vector<std::string> out;
  for (const auto& l : cfg.smtp.listen)
    if (auto ip = IpAddr::parse(l.host); ip && net::is_public_address(*ip))
      out.push_back(ip->to_string());
  return out.empty() ? net::public_interface_addresses() : out;
}

// The TLSA digests of the keys the server presents: tls.key when the admin configured a
// certificate, else the data directory's key.pem and next-key.pem (net/tls_keys.hpp).
void tlsa_inputs(const Config& cfg, setup::HostInput& host, std::vector<std::string>& notes) {
  auto digest = [&](const std::string& file, std::string& out) {
    auto d = net::tlsa_spki_sha256_hex(file);
    if (d)
      out = *d;
    else
      notes.push_back(fmt::format("TLSA record left out: {}", d.error().message));
  };
  if (!cfg.tls_key.empty()) {
    digest(cfg.tls_key, host.tlsa_current);
    notes.push_back(fmt::format(
        "TLSA names the key of tls.key ({}): its certificate's renewals must keep that key "
        "(certbot --reuse-key), or update the record first",
        cfg.tls_key));
    return;
  }
  const std::string current = net::tls_key_path(cfg.data_dir),
                    next = net::tls_next_key_path(cfg.data_dir);
  if (exists(current)) digest(current, host.tlsa_current);
  if (exists(next)) digest(next, host.tlsa_next);
  if (!exists(current) && !exists(next))
    notes.push_back("no TLSA (DANE) records yet: `mailkeep quickstart` makes the server's keys");
}

}  // namespace

Result<DnsPlan> dns_plan(store::Store& s, const Config& cfg,
                         const std::vector<std::string>& domains) {
  DnsPlan plan;
  setup::Inputs in;
  in.host.hostname = cfg.hostname;
  in.host.addresses = server_addresses(cfg);
  if (in.host.addresses.empty())
    plan.notes.push_back(
        fmt::format("{0} needs A (and AAAA) records with this server's public addresses, and each "
                    "address a PTR record naming {0} (your hosting provider sets those)",
                    cfg.hostname));
  tlsa_inputs(cfg, in.host, plan.notes);
  // A certificate the admin brought comes from a CA we do not know: no CAA that could refuse it.
  if (cfg.tls_cert.empty()) in.host.caa_issuers = {std::string(setup::kDefaultCaaIssuer)};
  for (const auto& d : domains) {
    setup::DomainInput di;
    di.domain = d;
    auto keys = s.dkim_keys(d);
    if (!keys) return keys.error();
    for (const auto& k : *keys)
      di.dkim.push_back({k.selector,
                         k.algorithm == "rsa-sha256" ? dkim::Algorithm::rsa_sha256
                                                     : dkim::Algorithm::ed25519_sha256,
                         k.public_b64, k.state});
    if (keys->empty())
      plan.notes.push_back(
          fmt::format("no DKIM keys yet: create them with `mailkeep domain dkim rotate {}`", d));
    auto dmarc = first_reachable(s, d, setup::kDmarcReportLocals);
    if (!dmarc) return dmarc.error();
    di.dmarc_rua = *dmarc;
    if (di.dmarc_rua.empty())
      plan.notes.push_back(fmt::format(
          "To receive DMARC aggregate reports, make postmaster@{0} reach you (mailkeep "
          "alias add postmaster@{0} YOU@{0}) and run this again: the record will ask for them.",
          d));
    else
      plan.notes.push_back(
          fmt::format("DMARC aggregate reports go to {}; `mailkeep report dmarc` summarizes them.",
                      di.dmarc_rua));
    auto tlsrpt = first_reachable(s, d, setup::kTlsReportLocals);
    if (!tlsrpt) return tlsrpt.error();
    di.tlsrpt_rua = *tlsrpt;
    if (di.tlsrpt_rua.empty())
      plan.notes.push_back(
          fmt::format("no TLS-RPT record: it needs an address for the reports (tls-reports@{0} or "
                      "postmaster@{0} reaching you)",
                      d));
    di.sts_policy = tlspolicy::served_sts_policy(cfg.hostname);
    in.domains.push_back(std::move(di));
  }
  plan.records = setup::records(in);
  return plan;
}

void print_dns(const DnsPlan& plan, const std::string& what) {
  std::vector<std::string> notes{
      fmt::format("DNS records for {}. Publish them at your DNS provider.", what)};
  notes.insert(notes.end(), plan.notes.begin(), plan.notes.end());
  std::printf("%s", setup::render_zone(plan.records, notes).c_str());
  std::printf("\n%s (TXT values as one text):\n%s", kRowsHeading,
              setup::render_rows(plan.records).c_str());
}

}  // namespace mk::app
