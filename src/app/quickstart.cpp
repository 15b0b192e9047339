// `mailkeep quickstart ADDRESS`: a working install for a real domain in one command (PRODUCT.md
// interface contract): the config, the store with the domain and its DKIM keys, the TLS keys,
// the first account and its role aliases, the systemd unit, and every DNS record to publish.
// Safe to re-run: what exists is reported and kept (config, keys, password, unit).
//
// SECURITY: see app/quickstart.hpp. The account's password is read from a terminal without
// echo or from --password-stdin, or generated and shown once; it is never in argv.
#include "app/quickstart.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

#include "app/app.hpp"
#include "auth/password.hpp"
#include "base/strings.hpp"
#include "message/address.hpp"
#include "net/selfsigned.hpp"
#include "net/tls_keys.hpp"
#include "setup/records.hpp"

namespace mk::app {
namespace {

namespace qs = quickstart;

constexpr const char* kSystemdUnitDir = "/etc/systemd/system";
// The collector's open files: its default max_connections (200) and what it writes beside.
constexpr std::uint64_t kCollectorFiles = 200 + 300;
constexpr std::int64_t kCollectorStopSeconds = 30;

// One line of the report: what, where, and what happened to it.
void report(std::string_view what, const std::string& text) {
  std::printf("  %-10s %s\n", std::string(what).c_str(), text.c_str());
}

// This machine's fully qualified name, as the resolver knows it (getaddrinfo's canonical name
// of gethostname(), the way `hostname --fqdn` finds it).
std::string machine_fqdn() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  addrinfo hints{};
  hints.ai_flags = AI_CANONNAME;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  std::string fqdn = name;
  if (::getaddrinfo(name, nullptr, &hints, &res) == 0) {
    if (res && res->ai_canonname) fqdn = res->ai_canonname;
    ::freeaddrinfo(res);
  }
  return to_lower(fqdn);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// The directory part of a path ("." for a bare name).
std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// An error about a path the admin chose: exit 2 with the fix.
int unwritable(const Error& e, const std::string& option) {
  return fail(
      err(fmt::format("{}. Run quickstart as root (sudo), or pass {} with a path you can write",
                      e.message, option)),
      kExitUsage);
}

// Refuses (exit 2, with the fix) a data directory quickstart must not give to the system user:
// `/`, or one with someone else's files in it. `fix` says what to change.
int refuse_data_dir(const std::string& dir, const std::string& fix) {
  auto ids = qs::system_user_ids();
  auto s = qs::check_data_dir_to_give(dir, ids ? ids->first : uid_t(-1));
  if (s) return kExitOk;
  return fail(err(fmt::format("{}. {}", s.error().message, fix)), kExitUsage);
}

// Writes the config unless one exists; then loads it. The generated one must load cleanly.
Result<Config> config_for(const std::string& config_path, const std::string& hostname,
                          const std::string& data_dir, const std::string& account, bool& written) {
  written = false;
  if (!exists(config_path)) {
    if (auto d = qs::make_dirs(parent_dir(config_path), 0755); !d) return d.error();
    auto w = qs::create_file_once(config_path, qs::config_text(hostname, data_dir, account), 0640);
    if (!w) return w.error();
    written = *w;
  }
  return load_config(config_path);
}

// The account: created with a new password unless it exists (its password is then kept).
int ensure_account(store::Store& s, const Config& cfg, const std::string& address,
                   bool password_stdin) {
  auto existing = s.find_account(address);
  if (!existing) return fail(existing.error());
  if (*existing) {
    report(
        "account",
        fmt::format("{}: already there; its password is unchanged (change it with mailkeep account "
                    "passwd {})",
                    address, address));
    return kExitOk;
  }
  std::string password;
  bool generated = false;
  if (password_stdin || ::isatty(0)) {
    auto pw = read_password(password_stdin);
    if (!pw) return fail(pw.error(), kExitUsage);
    password = *pw;
  } else {
    password = auth::generate_password();
    generated = true;
  }
  auto pw = hash_new_password(password, cfg.data_dir);
  if (!pw) return fail(pw.error(), kExitUsage);
  if (auto r = s.add_account(address, pw->hash); !r) return fail(r.error());
  if (auto r = s.set_scram(address, pw->scram); !r) return fail(r.error());
  if (generated)
    report("account",
           fmt::format("{}: created; its password, shown only now: {}", address, password));
  else
    report("account", fmt::format("{}: created with the password given", address));
  return kExitOk;
}

// postmaster@, abuse@ and the report addresses deliver to the account, unless they already
// reach someone (an account of their own, or an alias the admin made).
int ensure_aliases(store::Store& s, const std::string& domain, const std::string& account) {
  for (auto local : setup::kRoleAliases) {
    const std::string a = fmt::format("{}@{}", local, domain);
    if (a == account) continue;
    auto acct = s.find_account(a);
    if (!acct) return fail(acct.error());
    auto targets = s.alias_targets(a);
    if (!targets) return fail(targets.error());
    if (*acct || !targets->empty()) {
      report("alias", fmt::format("{}: already there, kept", a));
      continue;
    }
    if (auto r = s.add_alias(a, account); !r) return fail(r.error());
    report("alias", fmt::format("{} -> {}: added", a, account));
  }
  return kExitOk;
}

// The hardened unit, the system user and the data directory's owner, where systemd runs.
// Installs the service of `unit` (the mail server, or the log collector): the system user,
// the data directory and config given to it, the unit file, enabled.
int install_service(const QuickstartOptions& o, qs::UnitSettings unit) {
  const std::string& config_path = unit.config_path;
  const std::string start = fmt::format("mailkeep {} --config {}", unit.collector ? "collector" : "serve", config_path);
  const char* unit_name = unit.collector ? qs::kCollectorUnitName : qs::kUnitName;
  const bool test_dir = !o.systemd_dir.empty();
  if (o.no_systemd) {
    report("systemd", "skipped (--no-systemd); start it with: " + start);
    return kExitOk;
  }
  if (!test_dir && !qs::systemd_running()) {
    report("systemd", "not running on this machine; skipped. Start it with: " + start);
    return kExitOk;
  }
  char self[PATH_MAX] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return fail(err("cannot find the path of this mailkeep binary (/proc/self/exe)"));
  unit.binary = std::string(self, std::size_t(n));
  const std::string unit_dir = test_dir ? qs::absolute_path(o.systemd_dir) : kSystemdUnitDir;
  const std::string& data_dir = unit.data_dir;
  if (!test_dir) {
    bool created = false;
    if (auto s = qs::ensure_system_user(data_dir, created); !s) return fail(s.error());
    report("user", fmt::format("{}: {}", qs::kSystemUser,
                               created ? "system user created" : "already there"));
    auto ids = qs::system_user_ids();
    if (!ids) return fail(ids.error());
    // The server runs as that user: it owns the data directory and may read the config,
    // which stays root's to change.
    if (auto s = qs::chown_tree(data_dir, ids->first, ids->second); !s) return fail(s.error());
    if (::chown(config_path.c_str(), 0, ids->second) != 0 ||
        ::chmod(config_path.c_str(), 0640) != 0)
      return fail(err(
          fmt::format("cannot give {} to root:{} with mode 0640", config_path, qs::kSystemUser)));
    report("owner", fmt::format("{} belongs to {}; {} is root:{} 0640", data_dir,
                                qs::kSystemUser, config_path, qs::kSystemUser));
  }
  const std::string unit_path = unit_dir + "/" + unit_name;
  auto w = qs::create_file_once(unit_path, qs::systemd_unit(unit), 0644);
  if (!w) return fail(w.error());
  report(
      "systemd",
      *w ? unit_path + ": written"
         : unit_path + ": already there, kept (remove it and run quickstart again for a new one)");
  if (test_dir) return kExitOk;
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {qs::kSystemctl, "daemon-reload"}, {qs::kSystemctl, "enable", unit_name}})
    if (auto s = qs::run_program(cmd); !s) return fail(s.error());
  report("systemd", unit.collector ? fmt::format("{} enabled (starts at boot); start it with: systemctl start "
                                                 "mailkeep-collector",
                                                 unit_name)
                                   : std::string("mailkeep enabled (starts at boot); not started yet: publish the "
                                                 "DNS records first"));
  return kExitOk;
}

// `quickstart --collector`: the log collector's config, its certificate, its service, and
// what to set on each mail server. Alerts go to alert_to.
int quickstart_collector(const QuickstartOptions& o, const std::string& alert_to) {
  if (!o.relay.empty()) {
    const auto colon = o.relay.rfind(':');
    auto port = colon == std::string::npos ? std::nullopt : parse_u64(o.relay.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535 || colon == 0)
      return fail(err(fmt::format("--relay \"{}\" must be host:port, such as mail.example.org:25", o.relay)),
                  kExitUsage);
  }
  std::string hostname = to_lower(o.hostname.empty() ? machine_fqdn() : o.hostname);
  if (!setup::plausible_fqdn(hostname))
    return fail(err(fmt::format("\"{}\" is not a fully qualified host name; pass the name the mail servers "
                                "will reach the collector at, such as --hostname logs.example.org",
                                hostname)),
                kExitUsage);
  const bool systemd = o.systemd_dir.empty() && !o.no_systemd && qs::systemd_running();
  if (systemd && ::geteuid() != 0)
    return fail(err("installing the systemd service needs root: run quickstart with sudo, or pass --no-systemd"),
                kExitUsage);
  const std::string config_path = qs::absolute_path(o.config_path);
  std::string data_dir = qs::absolute_path(o.data_dir);
  std::printf("mailkeep quickstart --collector for %s\n", hostname.c_str());
  std::string cert = data_dir + "/tls/collector-cert.pem";
  if (exists(config_path)) {
    auto kept = load_collector_config(config_path);
    if (!kept) {
      std::fprintf(stderr, "%s\nmailkeep: fix the configuration file, or pass --config with a new file\n",
                   kept.error().message.c_str());
      return kExitUsage;
    }
    data_dir = kept->data_dir;
    cert = kept->tls_cert;
    report("config", config_path + ": already there, kept; its data directory is " + data_dir);
    // Installing the service gives the data directory to the system user: the config's (the
    // admin may have written any path there) must be new, empty or that user's already.
    if (systemd)
      if (int code = refuse_data_dir(data_dir, fmt::format("Set data_dir in {} to an empty or new directory",
                                                           config_path));
          code != kExitOk)
        return code;
    if (auto d = qs::make_dirs(data_dir, 0700); !d) return unwritable(d.error(), "--config FILE");
  } else {
    if (int code = refuse_data_dir(data_dir, "Choose an empty or new directory with --data-dir DIR");
        code != kExitOk)
      return code;
    if (auto d = qs::make_dirs(data_dir, 0700); !d) return unwritable(d.error(), "--data-dir DIR");
    if (auto d = qs::make_dirs(data_dir + "/tls", 0700); !d) return unwritable(d.error(), "--data-dir DIR");
    const std::string key = data_dir + "/tls/collector-key.pem";
    // Written as root into a directory the system user may own: created once, never through
    // a link and never over a file (the servers may already trust this certificate).
    if (exists(cert) != exists(key))
      return fail(err(fmt::format("only one of {} and {} is there: remove it too for a new certificate (and give "
                                  "the mail servers the new one), or put the other back",
                                  cert, key)),
                  kExitUsage);
    if (!exists(cert)) {
      auto pem = net::self_signed_pem({hostname}, {});
      if (!pem) return fail(pem.error());
      auto k = qs::create_file_once(key, pem->key, 0600);
      if (!k || !*k) return fail(k ? err(key + " appeared meanwhile; run quickstart again") : k.error());
      auto c = qs::create_file_once(cert, pem->cert, 0644);
      if (!c || !*c) return fail(c ? err(cert + " appeared meanwhile; run quickstart again") : c.error());
      report("TLS", cert + ": a self-signed certificate for " + hostname);
    }
    if (auto d = qs::make_dirs(parent_dir(config_path), 0755); !d) return unwritable(d.error(), "--config FILE");
    auto w = qs::create_file_once(
        config_path, qs::collector_config_text({hostname, data_dir, cert, key, alert_to, o.relay}), 0640);
    if (!w) return unwritable(w.error(), "--config FILE");
    if (auto check = load_collector_config(config_path); !check) return fail(check.error());
    report("config", config_path + ": written");
  }
  if (int code = install_service(o, {"", config_path, data_dir, kCollectorFiles, kCollectorStopSeconds, true});
      code != kExitOk)
    return code;
  std::printf(
      "\nNext steps:\n"
      "  1. On each mail server, copy %s there (e.g. to /etc/mailkeep/collector.pem)\n"
      "     and add to its mailkeep.toml:\n"
      "       [log.remote]\n"
      "       collectors = [\"%s:6514\"]\n"
      "       ca_file = \"/etc/mailkeep/collector.pem\"\n"
      "       server_name = \"%s\"\n"
      "  2. On each mail server run `mailkeep log key` and add what it prints to %s.\n"
      "  3. Let the mail servers reach port 6514 here, and no one else.\n"
      "  4. Start the collector: %s\n"
      "     then restart the mail servers; `mailkeep collector --config %s verify` checks what arrived.\n",
      cert.c_str(), hostname.c_str(), hostname.c_str(), config_path.c_str(),
      systemd ? "systemctl start mailkeep-collector" : fmt::format("mailkeep collector --config {}", config_path).c_str(),
      config_path.c_str());
  if (o.relay.empty())
    std::printf("  Alerts to %s go through an MTA on this machine (127.0.0.1:25); without one, set\n"
                "  alert_relay (a mail server that takes mail for it from here) or alert_webhook in %s.\n"
                "  Every alert is also written to %s/alerts.log.\n",
                alert_to.c_str(), config_path.c_str(), data_dir.c_str());
  return kExitOk;
}

}  // namespace

int cmd_quickstart(const QuickstartOptions& o) {
  // Everything the admin typed is checked before anything is written.
  auto mb = message::parse_mailbox(o.address);
  if (o.address.find('@') == std::string::npos || !mb || mb->domain_literal)
    return fail(
        err(fmt::format("\"{}\" is not an email address; give the first account's address, such as "
                        "you@example.org",
                        o.address)),
        kExitUsage);
  const std::string address = mb->canonical();
  const std::string domain = to_lower(mb->domain);
  if (o.collector) return quickstart_collector(o, address);
  if (!setup::plausible_fqdn(domain))
    return fail(
        err(fmt::format(
            "\"{}\" is not a domain on the Internet; give an address in the domain you will "
            "receive mail for, such as you@example.org",
            mb->domain)),
        kExitUsage);
  if (!o.hostname.empty() && !setup::plausible_fqdn(o.hostname))
    return fail(
        err(fmt::format(
            "--hostname \"{}\" is not a fully qualified host name; pass the name your MX record "
            "will point at, such as --hostname mail.{}",
            o.hostname, domain)),
        kExitUsage);
  const bool systemd = o.systemd_dir.empty() && !o.no_systemd && quickstart::systemd_running();
  if (systemd && ::geteuid() != 0)
    return fail(err("installing the systemd service needs root: run quickstart with sudo, or pass "
                    "--no-systemd"),
                kExitUsage);
  const std::string config_path = qs::absolute_path(o.config_path);

  std::printf("mailkeep quickstart for %s\n", address.c_str());
  std::string hostname = to_lower(o.hostname);
  const std::string data_dir = qs::absolute_path(o.data_dir);
  const bool had_config = exists(config_path);
  if (!had_config) {
    if (hostname.empty()) {
      hostname = machine_fqdn();
      if (!setup::plausible_fqdn(hostname))
        return fail(
            err(fmt::format(
                "this machine's name \"{}\" is not a fully qualified host name; pass the name "
                "your MX record will point at, such as --hostname mail.{}",
                hostname, domain)),
            kExitUsage);
    }
    // Checked in every mode, before anything is written: a new install's data directory is
    // new or empty, whether or not this run gives it to the system user.
    if (int code = refuse_data_dir(
            data_dir, fmt::format("Choose an empty or new directory with --data-dir DIR, such as {}",
                                  QuickstartOptions{}.data_dir));
        code != kExitOk)
      return code;
    if (auto d = qs::make_dirs(data_dir, 0700); !d) return unwritable(d.error(), "--data-dir DIR");
  }
  bool written = false;
  auto cfg = config_for(config_path, hostname, data_dir, address, written);
  if (!cfg) {
    if (cfg.error().code != 0) return unwritable(cfg.error(), "--config FILE");
    std::fprintf(stderr,
                 "%s\nmailkeep: fix the configuration file, or pass --config with a new file\n",
                 cfg.error().message.c_str());
    return kExitUsage;
  }
  if (written) {
    report("config", config_path + ": written");
  } else {
    report("config", config_path + ": already there, kept; using its hostname " + cfg->hostname +
                         " and data directory " + cfg->data_dir);
    if (!o.hostname.empty() && to_lower(o.hostname) != cfg->hostname)
      report("", fmt::format("(--hostname {} ignored: edit {} to change the hostname)", o.hostname,
                             config_path));
    if (o.data_dir != QuickstartOptions{}.data_dir && data_dir != cfg->data_dir)
      report("",
             fmt::format("(--data-dir {} ignored: the config says {})", o.data_dir, cfg->data_dir));
    // Installing the service gives the data directory to the system user: the config's
    // (the admin may have written any path there) must be what quickstart made.
    if (systemd)
      if (int code = refuse_data_dir(
              cfg->data_dir,
              fmt::format("Set data_dir in {} to an empty or new directory; if it holds this "
                          "server's data, give it to {} yourself (chown -R {}: DIR) and run "
                          "quickstart again",
                          config_path, qs::kSystemUser, qs::kSystemUser));
          code != kExitOk)
        return code;
    if (auto d = qs::make_dirs(cfg->data_dir, 0700); !d)
      return unwritable(d.error(), "--config FILE");
  }

  auto opened = store::open(cfg->store);
  if (!opened) return fail(opened.error());
  auto& s = **opened;
  auto hosted = s.has_domain(domain);
  if (!hosted) return fail(hosted.error());
  if (!*hosted)
    if (auto r = s.add_domain(domain); !r) return fail(r.error());
  auto keys = s.dkim_keys(domain);
  if (!keys) return fail(keys.error());
  if (keys->empty())
    if (auto r = create_dkim_keys(s, domain, "active"); !r) return fail(r.error());
  report("domain",
         fmt::format("{}: {}", domain,
                     !*hosted        ? "added, with DKIM keys (Ed25519 and RSA)"
                     : keys->empty() ? "already there; DKIM keys (Ed25519 and RSA) created"
                                     : "already there, with its DKIM keys, kept"));

  const bool had_keys =
      exists(net::tls_key_path(cfg->data_dir)) && exists(net::tls_next_key_path(cfg->data_dir));
  if (auto r = net::ensure_tls_keys(cfg->data_dir); !r) return fail(r.error());
  report("TLS keys", fmt::format("{} and next-key.pem: {}", net::tls_key_path(cfg->data_dir),
                                 had_keys ? "already there, kept" : "created"));

  if (int code = ensure_account(s, *cfg, address, o.password_stdin); code != kExitOk) return code;
  if (int code = ensure_aliases(s, domain, address); code != kExitOk) return code;
  auto plan = dns_plan(s, *cfg, {domain});
  if (!plan) return fail(plan.error());
  s.close();
  warn_unless_audited(cfg->data_dir, "quickstart", {{"user", address}, {"domain", domain}});
  if (int code = install_service(o, {"", config_path, cfg->data_dir, qs::max_open_files(*cfg),
                                     qs::stop_timeout_seconds(*cfg)});
      code != kExitOk)
    return code;

  std::printf("\n");
  print_dns(*plan, fmt::format("{} and {}", domain, cfg->hostname));
  std::printf(
      "\nNext steps:\n"
      "  1. Publish the records above at your DNS provider, and ask your hosting provider for the "
      "PTR\n"
      "     records (reverse DNS) of this server's addresses.\n"
      "  2. Start the server: %s\n"
      "  3. Once the records resolve: mailkeep --config %s check\n",
      systemd ? "systemctl start mailkeep"
              : fmt::format("mailkeep serve --config {}", config_path).c_str(),
      config_path.c_str());
  return kExitOk;
}

}  // namespace mk::app
