// mailkeep domain dns NAME: the records a hosted domain needs (setup/records.hpp, printed by
// app/dns_records.cpp as quickstart prints them), and
// mailkeep domain dkim rotate|activate NAME: DKIM key rotation in two steps, so the new
// public keys are in DNS before anything is signed with them.
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "app/app.hpp"
#include "base/strings.hpp"
#include "dkim/sign.hpp"

namespace mk::app {
namespace {

// kExitOk, or the exit code after telling the admin the domain is not hosted.
int check_hosted(store::Store& s, const std::string& domain) {
  auto hosted = s.has_domain(domain);
  if (!hosted) return fail(hosted.error());
  if (!*hosted) return fail(err(fmt::format("{0} is not hosted here; add it with: mailkeep domain add {0}", domain)), kExitUsage);
  return kExitOk;
}

}  // namespace

Status create_dkim_keys(store::Store& s, const std::string& domain, const std::string& state) {
  return admin::create_dkim_keys(s, domain, state);
}

int cmd_domain_dns(const std::string& config_path, const std::string& name) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  const std::string d = to_lower(name);
  if (int code = check_hosted(s, d); code != kExitOk) return code;
  auto plan = dns_plan(s, o.config, {d});
  if (!plan) return fail(plan.error());
  print_dns(*plan, d);
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
