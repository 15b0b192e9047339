// app/app.hpp: the mailkeep command implementations, wired to the CLI in app/cli.cpp.
// Exit codes (PRODUCT.md): 0 success, 1 runtime failure, 2 usage or configuration error.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "admin/accounts.hpp"
#include "app/config.hpp"
#include "audit/collector.hpp"
#include "audit/log.hpp"
#include "check/run.hpp"
#include "dns/lookup.hpp"
#include "filter/verdict.hpp"
#include "setup/records.hpp"
#include "store/store.hpp"

namespace mk::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

// The server's log key in its data directory (audit/signing.hpp).
inline constexpr std::string_view kLogSigningKey = "log-signing.key";

// Runs the servers until SIGINT/SIGTERM. on_ready receives one line per listener.
int run_server(const Config& cfg, const std::function<void(const std::vector<std::string>&)>& on_ready);

struct DevOptions {
  std::string data_dir = "./var/dev";
  int port_base = 1000;
  std::string password;
};
int cmd_dev(const DevOptions& opts);
int cmd_serve(const std::string& config_path);

// Admin commands on the store named by the config file.
int cmd_domain(const std::string& config_path, const std::string& action, const std::string& name);
int cmd_account(const std::string& config_path, const std::string& action,
                const std::string& address, bool password_stdin);
int cmd_alias(const std::string& config_path, const std::string& action,
              const std::string& address, const std::string& target);

int cmd_quota(const std::string& config_path, const std::string& address, const std::string& size);
int cmd_mailbox(const std::string& config_path, const std::string& action,
                const std::string& address, const std::string& name);
// domain dns NAME | domain dkim rotate|activate NAME (app/domains.cpp)
int cmd_domain_dns(const std::string& config_path, const std::string& name);
// tls status | tls rollover [--force] (app/tls_cli.cpp)
int cmd_tls_status(const std::string& config_path);
int cmd_tls_rollover(const std::string& config_path, bool force);
int cmd_dkim(const std::string& config_path, const std::string& action, const std::string& name);
// New active Ed25519 and RSA keys for a domain that has none (domain add does this).
Status create_dkim_keys(store::Store& s, const std::string& domain, const std::string& state);

// The DNS records to publish for hosted domains and the server itself (setup/records.hpp),
// with the notes about what is missing (app/dns_records.cpp); domain dns and quickstart print
// them the same way: a zone-file fragment, then rows for a provider's web form.
struct DnsPlan {
  std::vector<setup::Record> records;
  std::vector<std::string> notes;
};
Result<DnsPlan> dns_plan(store::Store& s, const Config& cfg, const std::vector<std::string>& domains);
void print_dns(const DnsPlan& plan, const std::string& what);
// The line print_dns puts between the zone-file fragment and the rows.
inline constexpr const char* kRowsHeading = "; The same records as rows for a DNS provider's web form";

// quickstart ADDRESS (app/quickstart.cpp): a working install for a real domain.
struct QuickstartOptions {
  std::string address;
  std::string hostname;     // empty: this machine's FQDN
  std::string config_path;  // default /etc/mailkeep/mailkeep.toml
  std::string data_dir = "/var/lib/mailkeep";
  bool password_stdin = false;
  bool no_systemd = false;
  std::string systemd_dir;  // hidden (tests): write the unit here; no system user, no systemctl
  bool collector = false;   // set up the log collector instead; ADDRESS receives its alerts
  std::string relay;        // --collector: where alert mail goes ("host:port")
};
int cmd_quickstart(const QuickstartOptions& o);
// The log collector's configuration file ([collector], app/collector_cli.cpp), checked.
Result<audit::CollectorSettings> load_collector_config(const std::string& path);
// queue list|show|retry|hold|release|drop [ID]
// reason: for bounce, the words the bounce gives its sender.
int cmd_queue(const std::string& config_path, const std::string& action, std::int64_t id, const std::string& reason = "");

// check-message FILE [--ip] [--helo] [--mail-from] [--rcpt]... (app/check_message.cpp)
struct CheckMessageOptions {
  std::string file, ip, helo, mail_from;
  std::vector<std::string> rcpts;  // local recipients: their own verdicts
};
int cmd_check_message(const std::string& config_path, const CheckMessageOptions& o);

// What the DMARC aggregate reports received say, by domain and sending address
// (app/report_cli.cpp: `report dmarc` and the web API). A source passes when DKIM or SPF did.
struct DmarcSource {
  std::int64_t messages = 0, pass = 0, fail = 0;
  std::map<std::string, std::int64_t> dispositions;
  std::set<std::string> reporters;
};
struct DmarcDomain {
  std::set<std::pair<std::string, std::string>> reports;  // reporter, report id
  std::int64_t messages = 0, pass = 0;
  std::map<std::string, DmarcSource> sources;  // by source address
};
std::map<std::string, DmarcDomain> summarize_dmarc(const std::vector<store::DmarcFeedback>& rows);

// The web API's reports (app/web_reports.cpp), as JSON: the spam filter's daily figures
// for the last `days` days (what was received, accepted, junked and rejected, what caught it,
// what users corrected), the DMARC summary above, and the month's security report.
Result<boost::json::value> spam_stats_json(store::Reports& store, int days, std::int64_t now);
Result<boost::json::value> dmarc_report_json(store::Reports& store, int days, std::int64_t now);
Result<boost::json::value> security_report_json(const Config& cfg, store::Store& store, const std::string& month);

// check [DOMAIN] [--json] (app/check.cpp): the self-diagnosis; DOMAIN empty: every hosted domain.
int cmd_check(const std::string& config_path, const std::string& domain, bool json);
// What `check` checks for these domains, from the configuration and the store.
Result<check::Plan> check_plan(const Config& cfg, store::Store& s, const std::vector<std::string>& domains);
// The domains page's live check: DNSSEC validation and each record `domain dns` lists for the
// domain (PTR aside: check's reverse DNS test follows it), as published now, through a
// resolver of its own with an empty cache, within about kLiveCheckBudget: [{"check",
// "subject", "outcome" (ok, fail, unknown), "problem", "fix"}]. The store is read on `work`.
inline constexpr std::chrono::milliseconds kLiveCheckBudget{20000};
boost::asio::awaitable<Result<boost::json::array>> live_dns_check(const Config& cfg, store::Store& s,
                                                                  boost::asio::thread_pool* work,
                                                                  boost::asio::io_context& io, std::string domain);

// spam eval (app/spam_cli.cpp): trains a fresh model on the training sets and measures it
// on the test sets; needs no instance.
struct SpamEvalOptions {
  std::vector<std::string> train_spam, train_ham, test_spam, test_ham;
  double threshold = filter::Thresholds{}.junk;  // log-odds: what goes to Junk by default
  bool verbose = false;  // a line per test message
  // The filter's whole verdict (filter::judge: the rules, the phishing checks and the model,
  // without what only the MX knows: sender authentication, DNS lists, the recipient's
  // knowledge) instead of the classifier alone. Without training sets: a fresh install's.
  bool rules = false;
};
int cmd_spam_eval(const SpamEvalOptions& o);
// spam train --spam DIR --ham DIR: bulk training of the instance's global model.
std::string spam_model_path(const std::string& data_dir);
// What the running server learnt on top of it (filter/learning.hpp), and the day's counts of
// its learning budget: the server's files, never written by a command.
std::string spam_learned_model_path(const std::string& data_dir);
std::string spam_learning_state_path(const std::string& data_dir);
int cmd_spam_train(const std::string& config_path, const std::vector<std::string>& spam,
                   const std::vector<std::string>& ham);

// report dmarc [--days N] (app/report_cli.cpp)
int cmd_report_dmarc(const std::string& config_path, int days);
// month: "YYYY-MM" (UTC); empty: the previous month.
int cmd_report_security(const std::string& config_path, const std::string& month, bool json);

// account app-password add|list|revoke, account require-app-passwords ADDRESS on|off
int cmd_app_password(const std::string& config_path, const std::string& action, const std::string& address,
                     const std::string& name, const std::string& scopes);
int cmd_require_app_passwords(const std::string& config_path, const std::string& address, const std::string& on);
// account spam-thresholds ADDRESS [TAG JUNK REJECT | default]: the account's own actions.
int cmd_spam_thresholds(const std::string& config_path, const std::string& address, const std::vector<std::string>& values);
// `account forward`: show, set (TARGET, with --no-keep) or turn off (--off) an account's forwarding.
int cmd_forward(const std::string& config_path, const std::string& address, const std::string& target, bool no_keep,
                bool off);

// account totp enable|disable|check ADDRESS [CODE]
int cmd_totp(const std::string& config_path, const std::string& action, const std::string& address,
             const std::string& code);

// account release|drop-held ADDRESS: end a containment hold (app/containment.hpp)
int cmd_release(const std::string& config_path, const std::string& address, bool drop);

// breached import FILE (app/accounts.cpp): the breached-password list, into the data directory.
std::string breached_index_path(const std::string& data_dir);
int cmd_breached_import(const std::string& config_path, const std::string& file);
int cmd_breached_check(const std::string& config_path);

// security bans list|lift KEY (app/security.cpp)
int cmd_bans(const std::string& config_path, const std::string& action, const std::string& key);
// audit verify: the security log's hash chain
int cmd_audit_verify(const std::string& config_path);
// collector | collector verify [SERVER] | log key (app/collector_cli.cpp)
int cmd_collector(const std::string& config_path);
int cmd_collector_verify(const std::string& config_path, const std::string& server);
int cmd_log_key(const std::string& config_path);

// A new password from standard input (--password-stdin), or asked twice on the terminal.
Result<std::string> read_password(bool from_stdin);
// The argon2id hash for logins and the SCRAM-SHA-256 verifier of a new password, once it
// passed the password policy and the breached-password list (when one is loaded).
using NewPassword = admin::NewPassword;
Result<NewPassword> hash_new_password(const std::string& password, const std::string& data_dir);

// Where `mailkeep check` keeps its last result in the data directory, for the dashboard.
inline constexpr std::string_view kLastCheckFile = "last-check.json";

// For admin commands: the store named by the config file, or the exit code to return.
struct OpenedStore {
  std::unique_ptr<store::Store> store;
  int code = kExitOk;
  Config config;
};
OpenedStore open_admin_store(const std::string& config_path);
// Prints "mailkeep: message" to stderr and returns code.
int fail(const Error& e, int code = kExitRuntime);
// An admin command's record in the security log; a command that did its work but could not
// record it says so on stderr (and still succeeds).
void warn_unless_audited(const std::string& data_dir, std::string_view event, const audit::Fields& fields);

int main_cli(int argc, char** argv);

}  // namespace mk::app
