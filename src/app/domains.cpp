// mailkeep domain dns NAME: the records a hosted domain needs, in zone-file form, and
// mailkeep domain dkim rotate|activate NAME: DKIM key rotation in two steps, so the new
// public keys are in DNS before anything is signed with them.
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "app/app.hpp"
#include "base/strings.hpp"
#include "dkim/sign.hpp"

namespace mk::app {
namespace {

// A TXT value as zone-file strings of at most 255 bytes (RFC 1035 §3.3.14).
std::string txt_strings(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); i += 255) out += fmt::format("{}\"{}\"", i ? " " : "", v.substr(i, 255));
  return out;
}

// "mk20261201e": the date the key was made, and its algorithm; a suffix if the day is taken.
std::string new_selector(const std::vector<store::DkimKey>& existing, dkim::Algorithm a) {
  char day[16];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(day, sizeof day, "%Y%m%d", &tm);
  const std::string base = fmt::format("mk{}{}", day, a == dkim::Algorithm::ed25519_sha256 ? 'e' : 'r');
  for (int n = 1;; ++n) {
    std::string s = n == 1 ? base : fmt::format("{}{}", base, n);
    bool taken = false;
    for (const auto& k : existing) taken |= k.selector == s;
    if (!taken) return s;
  }
}

// kExitOk, or the exit code after telling the admin the domain is not hosted.
int check_hosted(store::Store& s, const std::string& domain) {
  auto hosted = s.has_domain(domain);
  if (!hosted) return fail(hosted.error());
  if (!*hosted) return fail(err(fmt::format("{0} is not hosted here; add it with: mailkeep domain add {0}", domain)), kExitUsage);
  return kExitOk;
}

}  // namespace

Status create_dkim_keys(store::Store& s, const std::string& domain, const std::string& state) {
  auto existing = s.dkim_keys(domain);
  if (!existing) return existing.error();
  for (auto a : {dkim::Algorithm::ed25519_sha256, dkim::Algorithm::rsa_sha256}) {
    auto kp = dkim::generate_key(a);
    if (!kp) return kp.error();
    store::DkimKey k{domain, new_selector(*existing, a), std::string(dkim::algorithm_name(a)), kp->private_pem,
                     kp->public_b64, state, 0};
    if (auto r = s.add_dkim_key(k); !r) return r;
    existing->push_back(k);
  }
  return {};
}

int cmd_domain_dns(const std::string& config_path, const std::string& name) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  const std::string d = to_lower(name);
  if (int code = check_hosted(s, d); code != kExitOk) return code;
  auto keys = s.dkim_keys(d);
  if (!keys) return fail(keys.error());
  const std::string& host = o.config.hostname;
  std::printf("; DNS records for %s. Publish them at your DNS provider.\n", d.c_str());
  std::printf("; %s must also resolve (A/AAAA) to this server, and the server's IP addresses\n"
              "; must have PTR records naming %s, or large providers will refuse its mail.\n\n",
              host.c_str(), host.c_str());
  std::printf("%s.\t3600\tIN\tMX\t10 %s.\n", d.c_str(), host.c_str());
  std::printf("; SPF: only this domain's MX hosts send its mail.\n");
  std::printf("%s.\t3600\tIN\tTXT\t\"v=spf1 mx -all\"\n", d.c_str());
  if (keys->empty()) {
    std::printf("; no DKIM keys yet: create them with `mailkeep domain dkim rotate %s`\n", d.c_str());
  }
  for (const auto& k : *keys) {
    const auto a = k.algorithm == "rsa-sha256" ? dkim::Algorithm::rsa_sha256 : dkim::Algorithm::ed25519_sha256;
    std::printf("; DKIM %s key, %s%s\n", k.algorithm.c_str(), k.state.c_str(),
                k.state == "next" ? " (publish now; `mailkeep domain dkim activate` once it resolves)"
                : k.state == "retired" ? " (keep until the next rotation)" : "");
    std::printf("%s._domainkey.%s.\t3600\tIN\tTXT\t%s\n", k.selector.c_str(), d.c_str(),
                txt_strings(dkim::dns_txt(a, k.public_b64)).c_str());
  }
  std::printf("; DMARC: receivers quarantine mail that fails SPF and DKIM alignment.\n");
  // Aggregate reports go to postmaster@ when it reaches someone here (mailkeep report dmarc
  // summarizes them); asking for reports nobody receives would only make them bounce.
  const std::string postmaster = "postmaster@" + d;
  auto acct = s.find_account(postmaster);
  auto alias = s.alias_targets(postmaster);
  const bool reachable = (acct && *acct) || (alias && !alias->empty());
  if (reachable) {
    std::printf("; Aggregate reports go to %s; `mailkeep report dmarc` summarizes them.\n", postmaster.c_str());
    std::printf("_dmarc.%s.\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:%s\"\n", d.c_str(),
                postmaster.c_str());
  } else {
    std::printf("; To receive aggregate reports, make %s reach you (mailkeep alias add %s YOU@%s)\n"
                "; and run this again: the record will ask for them.\n",
                postmaster.c_str(), postmaster.c_str(), d.c_str());
    std::printf("_dmarc.%s.\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine; adkim=s; aspf=s\"\n", d.c_str());
  }
  return kExitOk;
}

int cmd_dkim(const std::string& config_path, const std::string& action, const std::string& name) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  const std::string d = to_lower(name);
  if (int code = check_hosted(s, d); code != kExitOk) return code;
  if (action == "rotate") {
    auto keys = s.dkim_keys(d);
    if (!keys) return fail(keys.error());
    bool any_active = false, any_next = false;
    for (const auto& k : *keys) any_active |= k.state == "active", any_next |= k.state == "next";
    if (any_next)
      return fail(err(fmt::format("{0} already has new keys waiting; publish them (mailkeep domain dns {0}) and "
                                  "run `mailkeep domain dkim activate {0}`", d)), kExitUsage);
    // A domain without keys gets active ones at once; otherwise the new ones wait for DNS.
    if (auto r = create_dkim_keys(s, d, any_active ? "next" : "active"); !r) return fail(r.error());
    std::printf(any_active ? "new DKIM keys for %s created; publish them (mailkeep domain dns %s), wait for the "
                             "DNS TTL, then run: mailkeep domain dkim activate %s\n"
                           : "DKIM keys for %s created and active; publish them: mailkeep domain dns %s%.0s\n",
                d.c_str(), d.c_str(), d.c_str());
    return kExitOk;
  }
  if (auto r = s.activate_next_dkim_keys(d); !r) return fail(r.error(), kExitUsage);
  std::printf("%s now signs with its new DKIM keys; the previous ones stay published until the next rotation\n",
              d.c_str());
  return kExitOk;
}

}  // namespace mk::app
