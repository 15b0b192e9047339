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

#include "base/log.hpp"
#include "base/result.hpp"
#include "filter/blocklist_config.hpp"
#include "net/tls.hpp"
#include "store/config.hpp"

namespace mk::app {

struct ListenAddr {
  std::string host;  // numeric IPv4 or IPv6 address
  std::uint16_t port = 0;
};

struct SmtpConfig {
  std::vector<ListenAddr> listen;
  std::uint64_t max_message_size = 50ull << 20;
  std::size_t max_recipients = 100;
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 20;
  std::size_t max_errors = 20;
  // RFC 5321 §4.5.3.2.7: a server should wait at least 5 minutes for the next command.
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  // Bound on receiving one message's content (DATA or all BDAT chunks).
  std::chrono::milliseconds data_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds session_timeout{std::chrono::minutes(30)};
  // Forwarders (mailing lists, your other provider) whose valid ARC seal vouches for mail
  // that fails DMARC after passing through them (RFC 8617 §7.2). Empty: nobody.
  std::vector<std::string> arc_trusted_sealers;
};

// Message submission (RFC 6409) for the accounts' own mail clients. Message size, recipient
// and timeout limits are those of [smtp].
struct SubmissionConfig {
  std::vector<ListenAddr> listen;      // STARTTLS (587)
  std::vector<ListenAddr> listen_tls;  // implicit TLS (465, RFC 8314)
  std::size_t max_connections = 500;
  std::size_t max_connections_per_ip = 20;
};

// DNS for outbound delivery (libunbound).
struct DnsConfig {
  std::vector<std::string> upstream;  // forwarders "ip" or "ip@port"; empty: full recursion
  bool dnssec = true;
  std::string trust_anchor = "/usr/share/dns/root.key";
  // The MX's lookups for one message (SPF, DKIM, DMARC, ARC, reverse DNS) together end within
  // message_budget, each within query_timeout (dns/deadline.hpp).
  std::chrono::milliseconds message_budget{std::chrono::seconds(20)};
  std::chrono::milliseconds query_timeout{std::chrono::seconds(5)};
};

// Outbound delivery from the queue.
struct OutboundConfig {
  std::uint16_t port = 25;  // remote MX port; other values only for test setups
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 5)};
  std::chrono::milliseconds delay_warning{std::chrono::hours(4)};
  std::chrono::milliseconds retry_min{std::chrono::minutes(5)};  // doubles per attempt up to 4h
  std::size_t connections_per_domain = 5;
  std::size_t max_connections = 100;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  bool paused = false;  // keep everything queued, send nothing (maintenance)
  std::string ca_file;  // extra CAs for MTA-STS (PEM), besides the system store
  std::chrono::milliseconds tls_report_interval{std::chrono::hours(24)};  // TLS-RPT period
};

// DMARC aggregate reports (RFC 7489 §7.2) about the mail we receive: opt-in, since they tell
// other domains which addresses sent us mail in their name.
struct DmarcConfig {
  bool send_reports = false;
  std::chrono::milliseconds report_interval{std::chrono::hours(24)};
};

// The spam filter's actions (filter/verdict.hpp), in log-odds: at tag_score a message is
// marked as probable spam, at junk_score it goes to Junk, at reject_score it is refused at
// SMTP time.
struct SpamConfig {
  double tag_score = 2;
  double junk_score = 3;
  double reject_score = 15;
  // DNS block/allow lists (filter/blocklists.hpp): zones, and the score of a listing.
  filter::BlocklistConfig lists;
};

// Account security.
struct SecurityConfig {
  // A correct password found in the breached-password list (mailkeep breached import):
  // "block" refuses protocol logins until it is changed, "warn" only logs and flags it.
  bool block_breached = true;
  // Where security alerts for the admin go (breached passwords, compromised accounts); empty: only the log.
  std::string admin_address;
  // Brute-force protection of the login ports (auth/throttle.hpp).
  std::vector<std::string> allow_networks;  // never delayed or banned: your own networks
  std::size_t login_failures_before_ban = 10;  // per network (IPv6: /64) within 15 minutes
  std::chrono::milliseconds ban_time{std::chrono::minutes(15)};  // doubles with each repeated ban
  // Sending limits per account, to other domains (guard/limits.hpp); exceeding one holds the account.
  std::size_t max_messages_per_hour = 100;
  std::size_t max_recipients_per_day = 500;
  std::size_t max_new_recipients_per_hour = 40;
};

struct ImapConfig {
  std::vector<ListenAddr> listen;      // STARTTLS (143)
  std::vector<ListenAddr> listen_tls;  // implicit TLS (993)
  std::size_t max_connections = 2000;
  std::size_t max_connections_per_ip = 50;
  std::size_t max_sessions_per_account = 50;
  // RFC 9051 §5.4: autologout after at least 30 minutes of inactivity.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(30)};
};

struct Config {
  std::string path;  // the file it was loaded from
  std::string hostname;
  std::string data_dir;
  bool dev = false;
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
  log::Format log_format = log::Format::kv;
  log::Level log_level = log::Level::info;
  std::string tls_cert;
  std::string tls_key;
  net::TlsMin tls_min = net::TlsMin::tls12;
  SmtpConfig smtp;
  SubmissionConfig submission;
  ImapConfig imap;
  DnsConfig dns;
  OutboundConfig outbound;
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
