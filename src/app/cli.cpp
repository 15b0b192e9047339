// The command line (PRODUCT.md "Interface contract"); exit code 2 for usage errors.
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "app/app.hpp"

namespace mk::app {

namespace {
constexpr const char* kDefaultConfig = "/etc/mailkeep/mailkeep.toml";
constexpr const char* kDefaultCollectorConfig = "/etc/mailkeep/collector.toml";
constexpr const char* kDefaultCollectorData = "/var/lib/mailkeep-collector";
}

int main_cli(int argc, char** argv) {
  CLI::App app{"mailkeep: a self-hosted mail server that is safe and boring", "mailkeep"};
  app.require_subcommand(1);
  std::string config = std::getenv("MAILKEEP_CONFIG") ? std::getenv("MAILKEEP_CONFIG") : kDefaultConfig;
  app.add_option("--config", config, "configuration file (default $MAILKEEP_CONFIG or " + std::string(kDefaultConfig) + ")");
  int result = kExitOk;

  DevOptions dev;
  auto* dev_cmd = app.add_subcommand("dev", "run a complete local instance on 127.0.0.1");
  dev_cmd->add_option("--data-dir", dev.data_dir, "data directory (default ./var/dev)");
  dev_cmd->add_option("--port-base", dev.port_base, "listeners on BASE+25, ... (default 1000)");
  dev_cmd->add_option("--password", dev.password, "password for me@localhost (default: generated)");
  dev_cmd->callback([&] { result = cmd_dev(dev); });

  auto* serve_cmd = app.add_subcommand("serve", "run the mail server");
  serve_cmd->add_option("--config", config, "configuration file");
  serve_cmd->callback([&] { result = cmd_serve(config); });

  QuickstartOptions qs;
  auto* qs_cmd = app.add_subcommand("quickstart", "set up a real domain: config, keys, first account, systemd unit, "
                                                  "and the DNS records to publish (safe to re-run)");
  qs_cmd->add_option("ADDRESS", qs.address, "the first account, you@example.org")->required();
  qs_cmd->add_option("--hostname", qs.hostname, "the server's name, which the MX records name (default: this machine's FQDN)");
  auto* qs_config = qs_cmd->add_option("--config", config, "configuration file to write or use (default " +
                                                              std::string(kDefaultConfig) + ", with --collector " +
                                                              kDefaultCollectorConfig + ")");
  auto* qs_data = qs_cmd->add_option("--data-dir", qs.data_dir,
                                     "data directory for a new config (default /var/lib/mailkeep, with --collector "
                                     "/var/lib/mailkeep-collector)");
  qs_cmd->add_flag("--collector", qs.collector,
                   "set up the log collector for a second machine instead (ADDRESS receives its alerts)");
  qs_cmd->add_option("--relay", qs.relay, "--collector: the mail server alert mail goes through, host:port");
  qs_cmd->add_flag("--password-stdin", qs.password_stdin, "read the account's password from standard input");
  qs_cmd->add_flag("--no-systemd", qs.no_systemd, "do not install the systemd service");
  // For tests: write the unit into DIR, with no system user and no systemctl.
  qs_cmd->add_option("--systemd-dir", qs.systemd_dir)->group("");
  qs_cmd->callback([&] {
    qs.config_path = config;
    if (qs.collector && qs_config->count() == 0 && !std::getenv("MAILKEEP_CONFIG")) qs.config_path = kDefaultCollectorConfig;
    if (qs.collector && qs_data->count() == 0) qs.data_dir = kDefaultCollectorData;
    result = cmd_quickstart(qs);
  });

  auto* tls_cmd = app.add_subcommand("tls", "the server's certificate and keys");
  tls_cmd->require_subcommand(1);
  tls_cmd->add_subcommand("status", "the certificate presented, its days left, and the keys' TLSA records")
      ->callback([&] { result = cmd_tls_status(config); });
  bool force_rollover = false;
  auto* rollover = tls_cmd->add_subcommand(
      "rollover", "make the next key the one in use (once its TLSA record is published) and make a new next key");
  rollover->add_flag("--force", force_rollover, "do not check that the next key's TLSA record is published");
  rollover->callback([&] { result = cmd_tls_rollover(config, force_rollover); });

  auto* config_cmd = app.add_subcommand("config", "configuration file tools");
  config_cmd->require_subcommand(1);
  config_cmd->add_subcommand("check", "validate the configuration file and exit")->callback([&] {
    auto c = load_config(config);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.error().message.c_str());
      result = kExitUsage;
    } else {
      std::printf("%s: OK\n", config.c_str());
    }
  });

  std::string address, target, name;
  bool password_stdin = false;

  auto* account = app.add_subcommand("account", "manage mail accounts");
  account->require_subcommand(1);
  for (const char* action : {"add", "passwd"}) {
    auto* c = account->add_subcommand(action, std::string(action) == "add" ? "create an account" : "change an account's password");
    c->add_option("ADDRESS", address, "account address (local@domain)")->required();
    c->add_flag("--password-stdin", password_stdin, "read the password from standard input");
    c->callback([&, action] { result = cmd_account(config, action, address, password_stdin); });
  }
  auto* acc_quota = account->add_subcommand("quota", "set an account's storage quota (0 = unlimited)");
  acc_quota->add_option("ADDRESS", address, "account address")->required();
  acc_quota->add_option("SIZE", name, "size such as 2GiB, 500MiB or 0")->required();
  acc_quota->callback([&] { result = cmd_quota(config, address, name); });
  account->add_subcommand("list", "list accounts")->callback([&] { result = cmd_account(config, "list", "", false); });
  auto* acc_rm = account->add_subcommand("remove", "delete an account and all its mail");
  acc_rm->add_option("ADDRESS", address, "account address")->required();
  acc_rm->callback([&] { result = cmd_account(config, "remove", address, false); });

  auto* app_pw = account->add_subcommand("app-password", "passwords for single mail clients (shown once, revocable)");
  app_pw->require_subcommand(1);
  std::string app_name, app_scopes = "imap,submission";
  auto* ap_add = app_pw->add_subcommand("add", "make an app password for a client");
  ap_add->add_option("ADDRESS", address, "account address")->required();
  ap_add->add_option("NAME", app_name, "the client, e.g. phone or laptop")->required();
  ap_add->add_option("--scope", app_scopes, "imap, submission or both (default imap,submission)");
  ap_add->callback([&] { result = cmd_app_password(config, "add", address, app_name, app_scopes); });
  auto* ap_list = app_pw->add_subcommand("list", "list an account's app passwords and their last use");
  ap_list->add_option("ADDRESS", address, "account address")->required();
  ap_list->callback([&] { result = cmd_app_password(config, "list", address, "", ""); });
  auto* ap_rm = app_pw->add_subcommand("revoke", "revoke an app password");
  ap_rm->add_option("ADDRESS", address, "account address")->required();
  ap_rm->add_option("NAME", app_name, "its name")->required();
  ap_rm->callback([&] { result = cmd_app_password(config, "revoke", address, app_name, ""); });
  std::string on_off;
  auto* req = account->add_subcommand("require-app-passwords", "accept only app passwords for IMAP and SMTP (on|off)");
  req->add_option("ADDRESS", address, "account address")->required();
  req->add_option("ON_OFF", on_off, "on or off")->required();
  req->callback([&] { result = cmd_require_app_passwords(config, address, on_off); });
  std::vector<std::string> threshold_values;
  auto* thr = account->add_subcommand("spam-thresholds",
                                      "the account's own spam scores for tag, Junk and reject (or \"default\"); none: show them");
  thr->add_option("ADDRESS", address, "account address")->required();
  thr->add_option("VALUES", threshold_values, "TAG JUNK REJECT (e.g. 2 4 20), or default");
  thr->callback([&] { result = cmd_spam_thresholds(config, address, threshold_values); });

  std::string forward_to;
  bool forward_no_keep = false, forward_off = false;
  auto* fwd = account->add_subcommand("forward", "forward an account's mail to another address (none: show it)");
  fwd->add_option("ADDRESS", address, "account address")->required();
  fwd->add_option("TARGET", forward_to, "where its mail goes: an address elsewhere or another account here");
  fwd->add_flag("--no-keep", forward_no_keep, "keep no copy here (spam still stays in Junk here)");
  fwd->add_flag("--off", forward_off, "stop forwarding");
  fwd->callback([&] { result = cmd_forward(config, address, forward_to, forward_no_keep, forward_off); });

  auto* totp = account->add_subcommand("totp", "the second factor (RFC 6238) of the admin and web login");
  totp->require_subcommand(1);
  std::string totp_code;
  for (const char* action : {"enable", "disable", "check"}) {
    const std::string a = action;
    auto* c = totp->add_subcommand(action, a == "enable" ? "make a new TOTP secret (shown once) for an account"
                                           : a == "disable" ? "turn TOTP off for an account"
                                                            : "check a code as the login will");
    c->add_option("ADDRESS", address, "account address")->required();
    if (a == "check") c->add_option("CODE", totp_code, "the 6-digit code")->required();
    c->callback([&, action] { result = cmd_totp(config, action, address, totp_code); });
  }

  for (const char* action : {"release", "drop-held"}) {
    const bool drop = std::string(action) == "drop-held";
    auto* c = account->add_subcommand(action, drop ? "discard an account's held outbound mail and let it send again"
                                                   : "let a held account send again; its held mail goes out");
    c->add_option("ADDRESS", address, "account address")->required();
    c->callback([&, drop] { result = cmd_release(config, address, drop); });
  }

  auto* domain = app.add_subcommand("domain", "manage hosted domains");
  domain->require_subcommand(1);
  for (const char* action : {"add", "remove"}) {
    auto* c = domain->add_subcommand(action, std::string(action) + " a hosted domain");
    c->add_option("NAME", name, "domain name")->required();
    c->callback([&, action] { result = cmd_domain(config, action, name); });
  }
  domain->add_subcommand("list", "list hosted domains")->callback([&] { result = cmd_domain(config, "list", ""); });
  auto* dns = domain->add_subcommand("dns", "print the DNS records to publish for a domain and this server, as a zone-file "
                                            "fragment and as rows for a provider's web form");
  dns->add_option("NAME", name, "domain name")->required();
  dns->callback([&] { result = cmd_domain_dns(config, name); });
  auto* dkim = domain->add_subcommand("dkim", "rotate a domain's DKIM keys");
  dkim->require_subcommand(1);
  auto* rotate = dkim->add_subcommand("rotate", "make new keys; publish them (domain dns), then activate");
  rotate->add_option("NAME", name, "domain name")->required();
  rotate->callback([&] { result = cmd_dkim(config, "rotate", name); });
  auto* activate = dkim->add_subcommand("activate", "sign with the new keys; the old ones stay published until the next rotation");
  activate->add_option("NAME", name, "domain name")->required();
  activate->callback([&] { result = cmd_dkim(config, "activate", name); });

  auto* alias = app.add_subcommand("alias", "manage aliases (extra addresses delivering to accounts, or forwarding elsewhere)");
  alias->require_subcommand(1);
  auto* al_add = alias->add_subcommand("add", "add an alias");
  al_add->add_option("ADDRESS", address, "alias address")->required();
  al_add->add_option("TARGET", target, "account that receives the mail, or an address in another domain to forward to")->required();
  al_add->callback([&] { result = cmd_alias(config, "add", address, target); });
  auto* al_rm = alias->add_subcommand("remove", "remove an alias");
  al_rm->add_option("ADDRESS", address, "alias address")->required();
  al_rm->callback([&] { result = cmd_alias(config, "remove", address, ""); });
  alias->add_subcommand("list", "list aliases")->callback([&] { result = cmd_alias(config, "list", "", ""); });

  auto* mailbox = app.add_subcommand("mailbox", "manage an account's mailboxes (folders)");
  mailbox->require_subcommand(1);
  auto* mb_add = mailbox->add_subcommand("add", "create a mailbox");
  mb_add->add_option("ADDRESS", address, "account address")->required();
  mb_add->add_option("NAME", name, "mailbox name, '/' separates levels")->required();
  mb_add->callback([&] { result = cmd_mailbox(config, "add", address, name); });
  auto* mb_list = mailbox->add_subcommand("list", "list an account's mailboxes");
  mb_list->add_option("ADDRESS", address, "account address")->required();
  mb_list->callback([&] { result = cmd_mailbox(config, "list", address, ""); });

  auto* queue = app.add_subcommand("queue", "inspect and manage the outbound queue");
  queue->require_subcommand(1);
  std::int64_t queue_id = 0;
  queue->add_subcommand("list", "list queued messages and their recipients")->callback([&] {
    result = cmd_queue(config, "list", 0);
  });
  for (const char* action : {"show", "retry", "hold", "release", "drop"}) {
    const char* help = std::string(action) == "show" ? "show a queued message's recipients and headers"
                       : std::string(action) == "retry" ? "try a queued message's recipients now"
                       : std::string(action) == "hold" ? "keep a message from being sent until released"
                       : std::string(action) == "release" ? "let a held message be sent"
                                                          : "delete a queued message without sending it";
    auto* c = queue->add_subcommand(action, help);
    c->add_option("ID", queue_id, "queue ID from `mailkeep queue list`")->required();
    c->callback([&, action] { result = cmd_queue(config, action, queue_id); });
  }
  std::string bounce_reason;
  auto* qb = queue->add_subcommand("bounce", "return a queued message to its sender with a bounce (and remove it)");
  qb->add_option("ID", queue_id, "queue ID from `mailkeep queue list`")->required();
  qb->add_option("--reason", bounce_reason, "what the bounce tells the sender");
  qb->callback([&] { result = cmd_queue(config, "bounce", queue_id, bounce_reason); });

  auto* breached = app.add_subcommand("breached", "the list of passwords known from data breaches");
  breached->require_subcommand(1);
  std::string breached_file;
  auto* br_import = breached->add_subcommand(
      "import", "load a list of SHA-1 password hashes (Have I Been Pwned \"SHA1:COUNT\" lines, any order)");
  br_import->add_option("FILE", breached_file, "the list")->required();
  br_import->callback([&] { result = cmd_breached_import(config, breached_file); });
  breached->add_subcommand("check", "check passwords read from stdin, one per line: prints \"breached\" or \"not found\" for each")
      ->callback([&] { result = cmd_breached_check(config); });

  auto* security = app.add_subcommand("security", "login protection");
  security->require_subcommand(1);
  auto* bans = security->add_subcommand("bans", "networks banned after repeated failed logins");
  bans->require_subcommand(1);
  std::string ban_key;
  bans->add_subcommand("list", "list the networks banned now")->callback([&] { result = cmd_bans(config, "list", ""); });
  auto* lift = bans->add_subcommand("lift", "lift a ban");
  lift->add_option("NETWORK", ban_key, "an address or network as listed")->required();
  lift->callback([&] { result = cmd_bans(config, "lift", ban_key); });

  auto* audit_cmd = app.add_subcommand("audit", "the security log");
  audit_cmd->require_subcommand(1);
  audit_cmd->add_subcommand("verify", "check that no security log record was changed or removed")->callback([&] {
    result = cmd_audit_verify(config);
  });

  auto* log_cmd = app.add_subcommand("log", "shipping the security log to collectors");
  log_cmd->require_subcommand(1);
  log_cmd->add_subcommand("key", "print this server's log key as the collector's [[collector.server]] entry (made on first use)")
      ->callback([&] { result = cmd_log_key(config); });

  auto* collector = app.add_subcommand("collector", "the remote log collector, for a second machine: receive, check and "
                                                    "keep the security logs servers ship to it");
  collector->add_option("--config", config, "the collector's configuration file ([collector])");
  collector->callback([&] {
    if (collector->get_subcommands().empty()) result = cmd_collector(config);
  });
  std::string collector_server;
  auto* collector_verify = collector->add_subcommand("verify", "check the stored chains offline (exit 0 only if all link)");
  collector_verify->add_option("SERVER", collector_server, "only this server");
  collector_verify->callback([&] { result = cmd_collector_verify(config, collector_server); });

  CheckMessageOptions check;
  auto* cm = app.add_subcommand("check-message", "what the MX would decide about a message file, and why (SPF, DKIM, DMARC, ARC, filter)");
  cm->add_option("FILE", check.file, "the message (RFC 5322, LF or CRLF line endings)")->required();
  cm->add_option("--ip", check.ip, "the sending client's IP address, for SPF and reverse DNS");
  cm->add_option("--helo", check.helo, "the name the client gave in HELO/EHLO");
  cm->add_option("--mail-from", check.mail_from, "the envelope sender (default: the file's Return-Path)");
  cm->add_option("--rcpt", check.rcpts, "a local recipient, for their own verdict (repeatable)");
  cm->callback([&] { result = cmd_check_message(config, check); });

  std::string check_domain;
  bool check_json = false;
  auto* chk = app.add_subcommand("check", "self-diagnosis: DNS records, DNSSEC, reverse DNS, block lists, the "
                                          "certificate on every listener, MTA-STS, open relay, AUTH before TLS");
  chk->add_option("DOMAIN", check_domain, "check only this hosted domain (default: all of them)");
  chk->add_flag("--json", check_json, "print the findings as one JSON object");
  chk->add_option("--config", config, "configuration file");
  chk->callback([&] { result = cmd_check(config, check_domain, check_json); });

  auto* report = app.add_subcommand("report", "summaries: DMARC reports received about your domains, the month's security KPIs");
  report->require_subcommand(1);
  int report_days = 7;
  auto* report_dmarc = report->add_subcommand("dmarc", "who sends mail as your domains, from DMARC aggregate reports");
  report_dmarc->add_option("--days", report_days, "how far back (default 7)");
  report_dmarc->callback([&] { result = cmd_report_dmarc(config, report_days); });
  std::string report_month;
  bool report_json = false;
  auto* report_security = report->add_subcommand(
      "security", "the month's security KPIs: attacks stopped, accounts held, spam caught, TLS, log shipping");
  report_security->add_option("--month", report_month, "YYYY-MM, in UTC (default: the previous month)");
  report_security->add_flag("--json", report_json, "one JSON object instead of text");
  report_security->callback([&] { result = cmd_report_security(config, report_month, report_json); });

  auto* spam = app.add_subcommand("spam", "the spam filter's classifier");
  spam->require_subcommand(1);
  SpamEvalOptions spam_eval;
  auto* sp_eval = spam->add_subcommand("eval", "train a fresh classifier and measure it on labelled test mail");
  sp_eval->add_option("--train-spam", spam_eval.train_spam, "directory of spam to train on (repeatable)");
  sp_eval->add_option("--train-ham", spam_eval.train_ham, "directory of ham to train on (repeatable)");
  sp_eval->add_option("--test-spam", spam_eval.test_spam, "directory of spam to test on (repeatable)")->required();
  sp_eval->add_option("--test-ham", spam_eval.test_ham, "directory of ham to test on (repeatable)")->required();
  sp_eval->add_option("--threshold", spam_eval.threshold, "spam above this score (default: the Junk threshold, 3)");
  sp_eval->add_flag("--verbose", spam_eval.verbose, "print each test message's score");
  sp_eval->add_flag("--rules", spam_eval.rules,
                    "score the filter's verdict (rules, phishing checks and the model) instead of the classifier alone");
  sp_eval->callback([&] { result = cmd_spam_eval(spam_eval); });
  std::vector<std::string> train_spam, train_ham;
  auto* sp_train = spam->add_subcommand("train", "teach the instance's global spam model from directories of messages");
  sp_train->add_option("--spam", train_spam, "directory of spam (repeatable)");
  sp_train->add_option("--ham", train_ham, "directory of ham (repeatable)");
  sp_train->callback([&] { result = cmd_spam_train(config, train_spam, train_ham); });

  app.add_subcommand("version", "print the version")->callback([&] { std::printf("mailkeep 0.1.0\n"); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "mailkeep: %s\nRun 'mailkeep --help' for usage.\n", e.what());
    return kExitUsage;
  }
  return result;
}

}  // namespace mk::app
