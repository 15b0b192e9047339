// mailkeep collector (serve | verify) and mailkeep log key: the log collector's configuration
// and commands (audit/collector.hpp).
//
// The collector reads the [collector] section and its [[collector.server]] tables of its own
// configuration file (on the collector's machine there is no mail server to configure):
//   [collector]
//   listen = ["0.0.0.0:6514"]
//   data_dir = "/var/lib/mailkeep-collector"
//   tls_cert = "/etc/mailkeep/collector.crt"
//   tls_key = "/etc/mailkeep/collector.key"
//   client_ca = ""          # optional: senders must present a certificate this CA signed
//   accept_plain = false    # also keep other syslog (rsyslog) per sending host
//   max_log_size = "1GiB"   # each operational.log stops here, and the plain syslog files together
//   alert_webhook = "https://hooks.example.org/mailkeep"   # JSON POST per alert
//   alert_mail_to = "admin@example.org"                     # and/or a mail per alert,
//   alert_relay = "127.0.0.1:25"                            # through this relay
//   silence_after = "45s"   # no record and no heartbeat for this long: an alert
//   [[collector.server]]
//   name = "mail.example.org"
//   key = "ed25519:..."     # `mailkeep log key` on that server
// Errors name the file, the line and the fix, all at once, like mailkeep.toml's.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdio>

#include "app/app.hpp"
#include "audit/collector.hpp"
#include "audit/signing.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/units.hpp"
#include "message/address.hpp"

namespace mk::app {
namespace {

constexpr std::size_t kMaxCollectorConfig = 1 << 20;

}  // namespace

Result<audit::CollectorSettings> load_collector_config(const std::string& path) {
  auto text = read_file(path, kMaxCollectorConfig);
  if (!text)
    return err(fmt::format("{} (the collector's configuration file)", text.error().message));
  toml::table root;
  try {
    root = toml::parse(*text, path);
  } catch (const toml::parse_error& pe) {
    return err(fmt::format("{}:{}: {}", path, pe.source().begin.line, pe.description()));
  }
  std::vector<std::string> errors;
  auto add = [&](const toml::node& n, const std::string& msg) {
    errors.push_back(fmt::format("{}:{}: {}", path, n.source().begin.line, msg));
  };
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? "." : path.substr(0, slash);
  auto resolve = [&](const std::string& p) {
    return p.empty() || p[0] == '/' ? p : base + "/" + p;
  };
  audit::CollectorSettings s;
  const auto* sec = root["collector"].as_table();
  if (!sec)
    return err(
        fmt::format("{}: missing the [collector] section (see `mailkeep collector --help`)", path));
  for (const auto& [k, node] : root)
    if (k.str() != "collector")
      add(node,
          fmt::format("unknown section \"{}\"; the collector reads only [collector]", k.str()));
  auto str = [&](const toml::node& n, const std::string& key, std::string& out) {
    auto v = n.value<std::string>();
    if (!n.is_string() || !v) return add(n, fmt::format("collector.{} must be a string", key));
    out = *v;
  };
  for (const auto& [k, node] : *sec) {
    const std::string key(k.str());
    if (key == "listen") {
      const auto* arr = node.as_array();
      if (!arr) {
        add(node, "collector.listen must be an array of \"address:port\" strings");
        continue;
      }
      for (const auto& item : *arr) {
        auto v = item.value<std::string>();
        auto l = v ? parse_listen(*v) : Result<ListenAddr>(err("not a string"));
        if (!l)
          add(item, fmt::format("collector.listen: {}", l.error().message));
        else
          s.listen.emplace_back(l->host, l->port);
      }
    } else if (key == "data_dir") {
      str(node, key, s.data_dir);
    } else if (key == "tls_cert") {
      str(node, key, s.tls_cert);
    } else if (key == "tls_key") {
      str(node, key, s.tls_key);
    } else if (key == "client_ca") {
      str(node, key, s.client_ca);
    } else if (key == "hostname") {
      str(node, key, s.hostname);
    } else if (key == "alert_webhook") {
      str(node, key, s.alerts.webhook);
      if (!s.alerts.webhook.empty() && !s.alerts.webhook.starts_with("https://") &&
          !s.alerts.webhook.starts_with("http://"))
        add(node, "collector.alert_webhook must be an http:// or https:// URL");
    } else if (key == "alert_ca_file") {
      str(node, key, s.alerts.ca_file);
    } else if (key == "alert_mail_to" || key == "alert_mail_from") {
      std::string v;
      str(node, key, v);
      auto mb = message::parse_mailbox(v);
      if (!v.empty() && (!mb || mb->domain.empty()))
        add(node, fmt::format("collector.{} must be an email address", key));
      else
        (key == "alert_mail_to" ? s.alerts.mail_to : s.alerts.mail_from) = v;
    } else if (key == "alert_relay") {
      str(node, key, s.alerts.relay);
      const auto colon = s.alerts.relay.rfind(':');
      auto port =
          colon == std::string::npos ? std::nullopt : parse_u64(s.alerts.relay.substr(colon + 1));
      if (!port || *port == 0 || *port > 65535 || colon == 0)
        add(node, "collector.alert_relay must be \"host:port\" (e.g. \"127.0.0.1:25\")");
    } else if (key == "silence_after") {
      std::string v;
      str(node, key, v);
      auto d = parse_duration(v);
      if (!d || *d < std::chrono::seconds(5) || *d > std::chrono::hours(24))
        add(node,
            "collector.silence_after must be a duration between \"5s\" and \"24h\" (servers "
            "heartbeat every 15 s)");
      else
        s.alerts.silence_after = *d;
    } else if (key == "accept_plain") {
      auto v = node.value<bool>();
      if (!node.is_boolean() || !v)
        add(node, "collector.accept_plain must be true or false");
      else
        s.accept_plain = *v;
    } else if (key == "max_connections") {
      auto v = node.value<std::int64_t>();
      if (!node.is_integer() || !v || *v < 1 || *v > 100000)
        add(node, "collector.max_connections must be between 1 and 100000");
      else
        s.max_connections = std::size_t(*v);
    } else if (key == "max_log_size") {
      std::optional<std::uint64_t> v;
      if (auto i = node.value<std::int64_t>(); node.is_integer() && i && *i > 0) v = std::uint64_t(*i);
      else if (auto t = node.value<std::string>(); node.is_string() && t) v = parse_size(*t);
      if (!v || *v < 4096 || *v > (1ull << 40))
        add(node, "collector.max_log_size must be a size between 4KiB and 1024GiB, e.g. \"1GiB\"");
      else
        s.max_log_size = *v;
    } else if (key == "server") {
      const auto* arr = node.as_array();
      if (!arr) {
        add(node, "collector.server must be [[collector.server]] tables with name and key");
        continue;
      }
      for (const auto& item : *arr) {
        const auto* t = item.as_table();
        if (!t) {
          add(item, "each [[collector.server]] is a table with name and key");
          continue;
        }
        audit::CollectorServer srv;
        for (const auto& [sk, sn] : *t) {
          const std::string skey(sk.str());
          auto v = sn.value<std::string>();
          if (skey == "name" && v && message::is_valid_domain(*v, false))
            srv.name = to_lower(*v);
          else if (skey == "name")
            add(sn, "collector.server.name must be the server's host name (its server.hostname)");
          else if (skey == "key" && v && audit::valid_public_key(*v))
            srv.public_key = *v;
          else if (skey == "key")
            add(sn,
                "collector.server.key must be \"ed25519:...\", as `mailkeep log key` prints it on "
                "that server");
          else
            add(sn, fmt::format(
                        "unknown key \"{}\" in [[collector.server]]; valid keys are name and key",
                        skey));
        }
        if (srv.name.empty() || srv.public_key.empty()) {
          add(item, "each [[collector.server]] needs both name and key");
          continue;
        }
        for (const auto& other : s.servers)
          if (other.name == srv.name) add(item, fmt::format("server {} is listed twice", srv.name));
        s.servers.push_back(srv);
      }
    } else {
      add(node,
          fmt::format(
              "unknown key \"collector.{}\"; valid keys are listen, data_dir, tls_cert, tls_key, "
              "client_ca, accept_plain, max_connections, max_log_size, hostname, alert_webhook, alert_ca_file, "
              "alert_mail_to, alert_mail_from, alert_relay, silence_after and [[collector.server]]",
              key));
    }
  }
  if (s.listen.empty())
    errors.push_back(path + ": missing collector.listen (e.g. [\"0.0.0.0:6514\"])");
  if (s.data_dir.empty())
    errors.push_back(path + ": missing collector.data_dir (where received logs are kept)");
  if (s.tls_cert.empty() || s.tls_key.empty())
    errors.push_back(
        path +
        ": collector.tls_cert and collector.tls_key are needed (syslog is received over TLS only)");
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    return err(all);
  }
  s.data_dir = resolve(s.data_dir);
  s.tls_cert = resolve(s.tls_cert);
  s.tls_key = resolve(s.tls_key);
  s.client_ca = resolve(s.client_ca);
  s.alerts.ca_file = resolve(s.alerts.ca_file);
  return s;
}

int cmd_collector(const std::string& config_path) {
  auto s = load_collector_config(config_path);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return kExitUsage;
  }
  auto sink = std::make_shared<log::Sink>(2, log::Format::kv, log::Level::info);
  auto collector = audit::Collector::make(*s, log::Logger(sink).with({{"svc", "collector"}}));
  if (!collector) {
    std::fprintf(stderr, "mailkeep collector: %s\n", collector.error().message.c_str());
    return kExitRuntime;
  }
  for (const auto& [host, port] : s->listen)
    std::printf("listening syslog-tls %s:%u\n", host.c_str(), unsigned(port));
  std::fflush(stdout);
  return (*collector)->run();
}

int cmd_collector_verify(const std::string& config_path, const std::string& server) {
  auto s = load_collector_config(config_path);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return kExitUsage;
  }
  int status = kExitOk;
  bool found = false;
  for (const auto& srv : s->servers) {
    if (!server.empty() && srv.name != server) continue;
    found = true;
    // Each stored segment verifies on its own, and begins where a gap was recorded.
    const auto segments = audit::collector_segments(s->data_dir, srv.name);
    const auto r = audit::verify_collected(s->data_dir, srv.name);
    const std::uint64_t total = r.records;
    const std::string problem = r.ok ? std::string() : r.problem;
    const std::string parts =
        segments.size() > 1 ? fmt::format(" in {} segments (records are missing between them)", segments.size()) : "";
    if (problem.empty()) {
      std::printf("%s: OK, %llu records%s\n", srv.name.c_str(), static_cast<unsigned long long>(total),
                  parts.c_str());
    } else {
      std::printf("%s: BROKEN: %s\n", srv.name.c_str(), problem.c_str());
      status = kExitRuntime;
    }
  }
  if (!found) {
    std::fprintf(stderr, "mailkeep collector verify: no [[collector.server]] named \"%s\" in %s\n",
                 server.c_str(), config_path.c_str());
    return kExitUsage;
  }
  return status;
}

int cmd_log_key(const std::string& config_path) {
  auto cfg = load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return kExitUsage;
  }
  auto key = audit::SigningKey::load_or_create(cfg->data_dir + "/" + std::string(kLogSigningKey));
  if (!key) {
    std::fprintf(stderr, "mailkeep log key: %s\n", key.error().message.c_str());
    return kExitRuntime;
  }
  std::printf("[[collector.server]]\nname = \"%s\"\nkey = \"%s\"\n", cfg->hostname.c_str(),
              key->public_key().c_str());
  return kExitOk;
}

}  // namespace mk::app
