// `mailkeep dev`: a complete local instance on 127.0.0.1 (PRODUCT.md interface contract).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "app/app.hpp"
#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "store/store.hpp"

namespace mk::app {
namespace {

constexpr int kSmtpOffset = 25;
constexpr int kSubmissionOffset = 587;
constexpr int kSubmissionsOffset = 465;
constexpr int kImapOffset = 143;
constexpr int kImapsOffset = 993;
constexpr int kHttpOffset = 80;
constexpr int kHttpsOffset = 443;
constexpr int kMetricsOffset = 9;
constexpr const char* kDevDomain = "localhost";
constexpr const char* kDevAccount = "me@localhost";

std::string dev_config(int port_base) {
  return fmt::format(R"(# Written by `mailkeep dev` at every start; edit a copy for other uses.
# Administer this instance with: mailkeep --config <this file> COMMAND
[server]
hostname = "localhost"
data_dir = "."          # relative to this file
dev = true
shutdown_grace = "5s"

[log]
format = "kv"
level = "info"

[smtp]
listen = ["127.0.0.1:{}"]

[submission]
listen = ["127.0.0.1:{}"]
listen_tls = ["127.0.0.1:{}"]

[imap]
listen = ["127.0.0.1:{}"]
listen_tls = ["127.0.0.1:{}"]

[http]
listen = ["127.0.0.1:{}"]
listen_tls = ["127.0.0.1:{}"]

[web]
admins = ["me@localhost"]

[metrics]
listen = ["127.0.0.1:{}"]
)",
                     port_base + kSmtpOffset, port_base + kSubmissionOffset, port_base + kSubmissionsOffset,
                     port_base + kImapOffset, port_base + kImapsOffset, port_base + kHttpOffset,
                     port_base + kHttpsOffset, port_base + kMetricsOffset);
}

}  // namespace

int cmd_dev(const DevOptions& opts) {
  if (opts.port_base < 0 || opts.port_base + 993 > 65535) {
    std::fprintf(stderr, "mailkeep dev: --port-base must be between 0 and %d\n", 65535 - 993);
    return kExitUsage;
  }
  // mkdir -p
  std::string dir = opts.data_dir;
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
        std::fprintf(stderr, "mailkeep dev: cannot create %s\n", part.c_str());
        return kExitRuntime;
      }
    }
  }
  const std::string config_path = dir + "/mailkeep.toml";
  {
    std::ofstream f(config_path, std::ios::trunc);
    f << dev_config(opts.port_base);
    if (!f) {
      std::fprintf(stderr, "mailkeep dev: cannot write %s\n", config_path.c_str());
      return kExitRuntime;
    }
  }
  auto cfg = load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return kExitUsage;
  }

  // The demo domain and account. Dev mode accepts any non-empty password: it only ever
  // listens on loopback.
  std::string password = opts.password.empty() ? auth::generate_password() : opts.password;
  {
    auto st = store::open(cfg->store);
    if (!st) {
      std::fprintf(stderr, "mailkeep dev: %s\n", st.error().message.c_str());
      return kExitRuntime;
    }
    auto& s = **st;
    Status ready;
    auto has = s.has_domain(kDevDomain);
    if (!has) ready = has.error();
    else if (!*has) ready = s.add_domain(kDevDomain);
    // Dev signs its mail like production does, so DKIM can be tried locally.
    if (auto keys = s.dkim_keys(kDevDomain); ready && !keys) ready = keys.error();
    else if (ready && keys->empty()) ready = create_dkim_keys(s, kDevDomain, "active");
    if (!ready) {
      std::fprintf(stderr, "mailkeep dev: cannot set up the domain %s: %s\n", kDevDomain, ready.error().message.c_str());
      return kExitRuntime;
    }
    auto hash = auth::hash_password(password);
    if (!hash) {
      std::fprintf(stderr, "mailkeep dev: %s\n", hash.error().message.c_str());
      return kExitRuntime;
    }
    auto acct = s.find_account(kDevAccount);
    Status r = (acct && *acct) ? s.set_password(kDevAccount, *hash)
                               : Status(s.add_account(kDevAccount, *hash).ok() ? Status() : Status(err("cannot create account")));
    if (r) r = s.set_scram(kDevAccount, auth::make_scram_secret(password));
    if (!r) {
      std::fprintf(stderr, "mailkeep dev: %s\n", r.error().message.c_str());
      return kExitRuntime;
    }
    s.close();
  }

  return run_server(*cfg, [&](const std::vector<std::string>& lines) {
    std::printf("mailkeep dev: data directory %s, config %s\n", dir.c_str(), config_path.c_str());
    for (const auto& l : lines) std::printf("listening %s\n", l.c_str());
    std::printf("account %s password %s\n", kDevAccount, password.c_str());
    std::fflush(stdout);
  });
}

}  // namespace mk::app
