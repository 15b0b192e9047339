// app/config.hpp: mailkeep.toml, loaded and validated at start-up.
//
// Every key is known: an unknown key, a wrong type or a bad value is an error that names the
// file, the line, the key and how to fix it, and all errors are reported at once. Omitted
// keys take secure defaults. mailkeep.example.toml documents every key; keep it in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "audit/remote_settings.hpp"
#include "auth/throttle_config.hpp"
#include "base/duration.hpp"
#include "base/ip.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "certs/settings.hpp"
#include "dns/config.hpp"
#include "filter/blocklist_config.hpp"
#include "filter/thresholds.hpp"
#include "guard/settings.hpp"
#include "http/limits.hpp"
#include "web/settings.hpp"
#include "imap/server/limits.hpp"
#include "net/tls.hpp"
#include "outbound/settings.hpp"
#include "smtp/limits.hpp"
#include "store/config.hpp"

namespace mk::app {

struct ListenAddr {
  std::string host;  // numeric IPv4 or IPv6 address
  std::uint16_t port = 0;
};

// Each section binds its keys straight to the settings struct of the module it configures
// (smtp/limits.hpp, imap/server/limits.hpp, http/limits.hpp, certs/settings.hpp, dns/config.hpp, outbound/settings.hpp,
// auth/throttle_config.hpp, guard/settings.hpp, filter/thresholds.hpp,
// filter/blocklist_config.hpp, store/config.hpp): their defaults are the only ones.

struct SmtpConfig {
  std::vector<ListenAddr> listen;
  smtp::Limits limits;  // max_message_size, max_recipients, connections, timeouts
  // Forwarders (mailing lists, your other provider) whose valid ARC seal vouches for mail
  // that fails DMARC after passing through them (RFC 8617 §7.2). Empty: nobody.
  std::vector<std::string> arc_trusted_sealers;
};

// Message submission (RFC 6409) for the accounts' own mail clients. Message size, recipient
// and timeout limits are those of [smtp]; only the connection limits are its own.
struct SubmissionConfig {
  std::vector<ListenAddr> listen;      // STARTTLS (587)
  std::vector<ListenAddr> listen_tls;  // implicit TLS (465, RFC 8314)
  std::size_t max_connections = 500;
  std::size_t max_connections_per_ip = 20;
};

struct ImapConfig {
  std::vector<ListenAddr> listen;      // STARTTLS (143)
  std::vector<ListenAddr> listen_tls;  // implicit TLS (993)
  imap::Limits limits;
};

// The web server: HTTP (80: ACME challenges, and a redirect to HTTPS for everything else)
// and HTTPS (443: MTA-STS policies, client autoconfiguration, later the admin pages and API).
struct HttpConfig {
  std::vector<ListenAddr> listen;      // HTTP (80)
  std::vector<ListenAddr> listen_tls;  // HTTPS (443)
  http::Limits limits;
};

// The Prometheus endpoint (/metrics, app/metrics.hpp): its own plain-HTTP listener, on
// loopback unless a bearer token guards it.
constexpr std::uint16_t kMetricsPort = 9325;

struct MetricsConfig {
  std::vector<ListenAddr> listen;  // default 127.0.0.1:9325; [] turns the endpoint off
  std::string token_file;          // a secret Prometheus sends as "Authorization: Bearer ..."
};

// DMARC aggregate reports (RFC 7489 §7.2) about the mail we receive: opt-in, since they tell
// other domains which addresses sent us mail in their name.
struct DmarcConfig {
  bool send_reports = false;
  Duration report_interval{std::chrono::hours(24)};
};

struct SpamConfig {
  filter::Thresholds thresholds;  // tag_score, junk_score, reject_score
  filter::BlocklistConfig lists;  // DNS block/allow lists: zones, and the score of a listing
  // The instance's model learns from every user's training, within bounds (filter/learning.hpp).
  bool shared_learning = true;
  // ... and from mail the MX can trust without the classifier (needs shared_learning).
  bool auto_learn = true;
};

// Account security.
struct SecurityConfig {
  // A correct password found in the breached-password list (mailkeep breached import):
  // "block" refuses protocol logins until it is changed, "warn" only logs and flags it.
  bool block_breached = true;
  // Where security alerts for the admin go (breached passwords, compromised accounts); empty: only the log.
  std::string admin_address;
  auth::ThrottleConfig throttle;  // brute-force protection: allow_networks, login_failures_before_ban, ban_time
  guard::Limits sending;          // per-account sending limits to other domains; exceeding one holds the account
};

struct Config {
  std::string path;  // the file it was loaded from
  std::string hostname;
  std::string data_dir;
  bool dev = false;
  Duration shutdown_grace{std::chrono::seconds(30)};
  log::Format log_format = log::Format::kv;
  log::Level log_level = log::Level::info;
  audit::RemoteSettings log_remote;  // [log.remote]: collectors the security log is shipped to
  std::string tls_cert;
  std::string tls_key;
  net::TlsMin tls_min = net::TlsMin::tls12;
  SmtpConfig smtp;
  SubmissionConfig submission;
  ImapConfig imap;
  HttpConfig http;
  web::Settings web;  // [web]: admins, session lifetimes
  // [share]: sharing a link into one's mailbox (share/service.hpp).
  struct Share {
    bool enabled = true;
    // Networks a link's page may be fetched from although they are not public. Empty: none
    // (loopback, private, link-local and this machine's own addresses are all refused).
    std::vector<IpNetwork> fetch_allow;
  } share;
  MetricsConfig metrics;
  certs::AcmeSettings acme;  // [acme]
  dns::Config dns;
  outbound::Settings outbound;
  DmarcConfig dmarc;
  SpamConfig spam;
  SecurityConfig security;
  store::StoreConfig store;  // [store]; its data_dir is server.data_dir
};

// Loads and validates; the error lists every problem as "FILE:LINE: message".
Result<Config> load_config(const std::string& path);
// Same, from text (the name is used in messages); relative paths resolve against base_dir.
Result<Config> parse_config(const std::string& text, const std::string& name,
                            const std::string& base_dir);

Result<ListenAddr> parse_listen(const std::string& s);

// Every key the loader accepts, as "section.key" (for docs and their test).
std::vector<std::string> config_keys();

}  // namespace mk::app
