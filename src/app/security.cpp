// mailkeep security bans list|lift: the networks banned from logging in (auth/throttle.hpp).
// A running server sees a lifted ban within seconds.
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "app/app.hpp"
#include "audit/log.hpp"
#include "auth/throttle.hpp"

namespace mk::app {

int cmd_bans(const std::string& config_path, const std::string& action, const std::string& key) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  if (action == "lift") {
    // An address is lifted as the network it was banned under (an IPv6 address: its /64).
    std::string k = key;
    if (auto ip = IpAddr::parse(key)) k = auth::Throttle::network_key(*ip);
    auto r = o.store->lift_ban(k);
    if (!r) return fail(r.error());
    if (!*r) return fail(err(fmt::format("{} is not banned (see: mailkeep security bans list)", k)), kExitUsage);
    std::printf("ban of %s lifted\n", k.c_str());
    warn_unless_audited(o.config.data_dir, "ban_lifted", {{"network", k}, {"by", "mailkeep security bans lift"}});
    return kExitOk;
  }
  auto bans = o.store->list_bans();
  if (!bans) return fail(bans.error());
  const std::int64_t now = std::time(nullptr);
  std::size_t active = 0;
  for (const auto& b : *bans) {
    if (b.until <= now) continue;
    ++active;
    char until[32];
    std::tm tm{};
    const std::time_t t = b.until;
    ::gmtime_r(&t, &tm);
    std::strftime(until, sizeof until, "%Y-%m-%d %H:%M:%SZ", &tm);
    std::printf("%-40s until %s  (ban #%lld: %s)\n", b.key.c_str(), until, static_cast<long long>(b.count),
                b.reason.c_str());
  }
  if (active == 0) std::printf("no networks are banned\n");
  return kExitOk;
}

int cmd_audit_verify(const std::string& config_path) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  const std::string path = o.config.data_dir + "/security.log";
  const auto r = audit::verify(path);
  if (!r.ok) {
    std::fprintf(stderr, "mailkeep: %s\n", r.problem.c_str());
    return kExitRuntime;
  }
  std::printf("%s: %llu records, chain intact\n", path.c_str(), static_cast<unsigned long long>(r.records));
  return kExitOk;
}

}  // namespace mk::app
