// Admin commands: domains, accounts and aliases in the store named by the config file.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "app/app.hpp"
#include "audit/log.hpp"
#include "auth/app_password.hpp"
#include "auth/breached.hpp"
#include "auth/password.hpp"
#include "auth/totp.hpp"
#include "base/strings.hpp"
#include "base/units.hpp"
#include "filter/verdict.hpp"
#include "message/address.hpp"
#include "store/store.hpp"

namespace mk::app {

OpenedStore open_admin_store(const std::string& config_path) {
  auto cfg = load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return {nullptr, kExitUsage, {}};
  }
  auto st = store::open(cfg->store);
  if (!st) {
    std::fprintf(stderr, "mailkeep: %s\n", st.error().message.c_str());
    return {nullptr, kExitRuntime, {}};
  }
  return {std::move(st.value()), kExitOk, std::move(*cfg)};
}

void warn_unless_audited(const std::string& data_dir, std::string_view event, const audit::Fields& fields) {
  auto log = audit::Log::open(data_dir + "/security.log");
  Status st = log ? (*log)->append(event, fields) : Status(log.error());
  if (!st)
    std::fprintf(stderr, "mailkeep: warning: done, but not recorded in the security log: %s\n",
                 st.error().message.c_str());
}

int fail(const Error& e, int code) {
  std::fprintf(stderr, "mailkeep: %s\n", e.message.c_str());
  return code;
}

Result<std::string> read_password(bool from_stdin) {
  std::string pw;
  if (from_stdin) {
    if (!std::getline(std::cin, pw)) return err("no password on standard input");
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
  }
  if (!::isatty(0))
    return err("standard input is not a terminal; pass the password with --password-stdin");
  termios old{};
  ::tcgetattr(0, &old);
  termios quiet = old;
  quiet.c_lflag &= ~tcflag_t(ECHO);
  auto ask = [&](const char* prompt) {
    std::fprintf(stderr, "%s", prompt);
    ::tcsetattr(0, TCSANOW, &quiet);
    std::string s;
    std::getline(std::cin, s);
    ::tcsetattr(0, TCSANOW, &old);
    std::fprintf(stderr, "\n");
    return s;
  };
  pw = ask("New password: ");
  if (ask("Repeat password: ") != pw) return err("the passwords do not match");
  return pw;
}

Result<NewPassword> hash_new_password(const std::string& pw, const std::string& data_dir) {
  return admin::hash_new_password(pw, breached_index_path(data_dir));
}

namespace {

Result<std::string> canonical_address(const std::string& address) { return admin::canonical_address(address); }

// The account at an address, or an error naming the address that is not one.
Result<store::Account> existing_account(store::Store& s, const std::string& address) {
  auto addr = canonical_address(address);
  if (!addr) return addr.error();
  auto acct = s.find_account(*addr);
  if (!acct) return acct.error();
  if (!*acct) return err(fmt::format("no such account: {}", *addr));
  return **acct;
}

Result<NewPassword> new_password(bool from_stdin, const std::string& data_dir) {
  auto pw = read_password(from_stdin);
  if (!pw) return pw.error();
  return hash_new_password(*pw, data_dir);
}

}  // namespace

int cmd_domain(const std::string& config_path, const std::string& action, const std::string& name) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  if (action == "list") {
    auto l = s.list_domains();
    if (!l) return fail(l.error());
    for (const auto& d : *l) std::printf("%s\n", d.c_str());
    return kExitOk;
  }
  if (!message::is_valid_domain(name, true))
    return fail(err(fmt::format("\"{}\" is not a valid domain name", name)), kExitUsage);
  Status r = action == "add" ? admin::add_domain(s, s, name) : s.remove_domain(name);
  if (!r) return fail(r.error());
  std::printf("domain %s %s\n", name.c_str(), action == "add" ? "added" : "removed");
  if (action == "add") {
    std::printf("DKIM keys created; publish the DNS records from: mailkeep domain dns %s\n", name.c_str());
  }
  return kExitOk;
}

int cmd_account(const std::string& config_path, const std::string& action,
                const std::string& address, bool password_stdin) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  if (action == "list") {
    auto l = s.list_accounts();
    if (!l) return fail(l.error());
    for (const auto& a : *l)
      std::printf("%s\t%llu bytes%s%s%s%s\n", a.address.c_str(), static_cast<unsigned long long>(a.used_bytes),
                  a.quota_bytes ? fmt::format(" of {}", a.quota_bytes).c_str() : "",
                  a.disabled ? "\tdisabled" : "", a.password_breached ? "\tpassword breached: change it" : "",
                  a.outbound_hold.empty() ? "" : ("\toutbound held: " + a.outbound_hold).c_str());
    return kExitOk;
  }
  auto addr = canonical_address(address);
  if (!addr) return fail(addr.error(), kExitUsage);
  if (action == "remove") {
    if (auto r = s.remove_account(*addr); !r) return fail(r.error());
    std::printf("account %s removed\n", addr->c_str());
    return kExitOk;
  }
  if (action == "add") {
    // Fail early, before asking for a password.
    auto at = addr->rfind('@');
    auto hosted = s.has_domain(addr->substr(at + 1));
    if (hosted && !*hosted)
      return fail(err(fmt::format("domain {0} is not hosted here; add it first with: mailkeep domain add {0}",
                                  addr->substr(at + 1))));
    auto existing = s.find_account(*addr);
    if (existing && *existing) return fail(err(fmt::format("account {} already exists", *addr)));
  } else {
    auto existing = s.find_account(*addr);
    if (existing && !*existing) return fail(err(fmt::format("no such account: {}", *addr)));
  }
  auto pw = new_password(password_stdin, o.config.data_dir);
  if (!pw) return fail(pw.error(), kExitUsage);
  if (action == "add") {
    if (auto r = admin::add_account(s, s, *addr, *pw); !r) return fail(r.error());
  } else {
    auto acct = s.find_account(*addr);
    if (!acct) return fail(acct.error());
    if (!*acct) return fail(err(fmt::format("no such account: {}", *addr)));
    if (auto r = admin::set_password(s, **acct, *pw); !r) return fail(r.error());  // ends its web sessions
  }
  std::printf(action == "add" ? "account %s added\n" : "password for %s changed\n", addr->c_str());
  return kExitOk;
}

int cmd_quota(const std::string& config_path, const std::string& address, const std::string& size) {
  auto bytes = parse_size(size);
  if (!bytes) return fail(err(fmt::format("\"{}\" is not a size (examples: 2GiB, 500MiB, 0)", size)), kExitUsage);
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto addr = canonical_address(address);
  if (!addr) return fail(addr.error(), kExitUsage);
  if (auto r = o.store->set_quota(*addr, *bytes); !r) return fail(r.error());
  std::printf("quota for %s set to %s\n", addr->c_str(), *bytes == 0 ? "unlimited" : size.c_str());
  return kExitOk;
}

int cmd_alias(const std::string& config_path, const std::string& action,
              const std::string& address, const std::string& target) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  if (action == "list") {
    auto l = s.list_aliases();
    if (!l) return fail(l.error());
    for (const auto& a : *l) std::printf("%s\t%s\n", a.address.c_str(), a.target.c_str());
    return kExitOk;
  }
  auto addr = canonical_address(address);
  if (!addr) return fail(addr.error(), kExitUsage);
  if (action == "remove") {
    if (auto r = s.remove_alias(*addr); !r) return fail(r.error());
    std::printf("alias %s removed\n", addr->c_str());
    return kExitOk;
  }
  auto forwards = admin::add_alias(s, *addr, target);
  // A refusal of the operation itself (code 0) is the admin's to fix; a store error is not.
  if (!forwards) return fail(forwards.error(), forwards.error().code == 0 ? kExitUsage : kExitRuntime);
  std::printf("alias %s -> %s added%s\n", addr->c_str(), canonical_address(target)->c_str(), *forwards ? " (forwards to another domain)" : "");
  return kExitOk;
}

int cmd_mailbox(const std::string& config_path, const std::string& action,
                const std::string& address, const std::string& name) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  auto acct = existing_account(s, address);
  if (!acct) return fail(acct.error(), kExitUsage);
  const std::string* addr = &acct->address;
  if (action == "list") {
    auto l = s.list_mailboxes(acct->id);
    if (!l) return fail(l.error());
    for (const auto& m : *l)
      std::printf("%s%s%s\n", m.name.c_str(), m.special_use.empty() ? "" : "\t", m.special_use.c_str());
    return kExitOk;
  }
  if (name.empty() || name.size() > 255 || name.find_first_of("\r\n*%") != std::string::npos)
    return fail(err(fmt::format("\"{}\" is not a valid mailbox name", name)), kExitUsage);
  auto r = s.create_mailbox(acct->id, name, "");
  if (!r) return fail(r.error());
  std::printf("mailbox %s created for %s\n", name.c_str(), addr->c_str());
  return kExitOk;
}

std::string breached_index_path(const std::string& data_dir) { return data_dir + "/breached.idx"; }

int cmd_breached_import(const std::string& config_path, const std::string& file) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  const auto started = std::chrono::steady_clock::now();
  auto st = auth::import_breached(file, breached_index_path(o.config.data_dir));
  if (!st) return fail(st.error(), kExitUsage);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::printf("imported %llu breached password hashes (%llu lines) in %lld ms into %s\n"
              "new passwords are checked against it now; a running server checks logins within %lld s\n",
              static_cast<unsigned long long>(st->entries), static_cast<unsigned long long>(st->lines),
              static_cast<long long>(ms), breached_index_path(o.config.data_dir).c_str(),
              static_cast<long long>(auth::BreachedList::kRecheckSeconds));
  return kExitOk;
}

int cmd_breached_check(const std::string& config_path) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto index = auth::BreachedIndex::open(breached_index_path(o.config.data_dir));
  if (!index) return fail(err(index.error().message + "; import a list first (mailkeep breached import FILE)"));
  std::string line;
  std::string out;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out += (*index)->contains_password(line) ? "breached\n" : "not found\n";
    if (out.size() > 64 * 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int cmd_app_password(const std::string& config_path, const std::string& action, const std::string& address,
                     const std::string& name, const std::string& scopes) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto acct = existing_account(*o.store, address);
  if (!acct) return fail(acct.error(), kExitUsage);
  const std::string* addr = &acct->address;
  const std::int64_t id = acct->id;
  if (action == "add") {
    auto sc = auth::parse_scopes(scopes);
    if (!sc) return fail(sc.error(), kExitUsage);
    if (name.empty() || name.size() > 64) return fail(err("name the client in 1 to 64 characters (\"phone\")"), kExitUsage);
    const std::string pw = auth::generate_password(auth::kAppPasswordLength);
    store::AppPassword p;
    p.account_id = id;
    p.name = name;
    p.hash = auth::app_password_hash(pw);
    p.scopes = *sc;
    p.created = std::int64_t(std::time(nullptr));
    if (auto r = o.store->add_app_password(p); !r) return fail(r.error(), kExitUsage);
    std::printf("app password \"%s\" for %s (%s): %s\n"
                "It is shown only now: enter it in the mail client as the password.\n",
                name.c_str(), addr->c_str(), sc->c_str(), pw.c_str());
    return kExitOk;
  }
  if (action == "revoke") {
    auto r = o.store->revoke_app_password(id, name);
    if (!r) return fail(r.error());
    if (!*r) return fail(err(fmt::format("{} has no app password named \"{}\"", *addr, name)), kExitUsage);
    std::printf("app password \"%s\" of %s revoked\n", name.c_str(), addr->c_str());
    return kExitOk;
  }
  auto list = o.store->app_passwords(id);
  if (!list) return fail(list.error());
  if (acct->require_app_passwords) std::printf("%s logs in to IMAP and SMTP with app passwords only\n", addr->c_str());
  for (const auto& p : *list) {
    auto when = [](std::int64_t t) {
      if (t == 0) return std::string("never");
      char buf[32];
      std::tm tm{};
      const std::time_t tt = t;
      ::gmtime_r(&tt, &tm);
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
      return std::string(buf);
    };
    std::printf("%-20s %-16s created %s  last used %s%s\n", p.name.c_str(), p.scopes.c_str(), when(p.created).c_str(),
                when(p.last_used).c_str(), p.last_ip.empty() ? "" : (" from " + p.last_ip).c_str());
  }
  if (list->empty()) std::printf("%s has no app passwords\n", addr->c_str());
  return kExitOk;
}

int cmd_require_app_passwords(const std::string& config_path, const std::string& address, const std::string& on) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  if (on != "on" && on != "off") return fail(err("say on or off"), kExitUsage);
  auto addr = canonical_address(address);
  if (!addr) return fail(addr.error(), kExitUsage);
  if (auto r = o.store->set_require_app_passwords(*addr, on == "on"); !r) return fail(r.error(), kExitUsage);
  std::printf(on == "on" ? "%s: IMAP and SMTP logins now need an app password\n"
                         : "%s: the account password works for IMAP and SMTP again\n", addr->c_str());
  return kExitOk;
}

int cmd_spam_thresholds(const std::string& config_path, const std::string& address,
                        const std::vector<std::string>& values) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto addr = canonical_address(address);
  if (!addr) return fail(addr.error(), kExitUsage);
  const filter::Thresholds instance = o.config.spam.thresholds;
  if (values.empty()) {
    auto acct = o.store->find_account(*addr);
    if (!acct) return fail(acct.error());
    if (!*acct) return fail(err("no such account: " + *addr), kExitUsage);
    const auto own = filter::parse_thresholds((*acct)->spam_thresholds);
    const auto t = own.value_or(instance);
    std::printf("%s: tag at %g, Junk at %g, reject at %g (%s)\n", addr->c_str(), t.tag, t.junk, t.reject,
                own ? "its own" : "the instance's [spam] settings");
    return kExitOk;
  }
  std::string text;
  if (values.size() == 1 && values[0] == "default") {
    text = "";
  } else {
    std::string joined;
    for (const auto& v : values) joined += (joined.empty() ? "" : " ") + v;
    auto t = filter::parse_thresholds(joined);
    if (!t)
      return fail(err("give three scores TAG JUNK REJECT in ascending order (e.g. 2 4 20), or \"default\""), kExitUsage);
    text = filter::format_thresholds(*t);
  }
  if (auto r = o.store->set_spam_thresholds(*addr, text); !r) return fail(r.error(), kExitUsage);
  if (text.empty()) std::printf("%s: the instance's spam thresholds apply again\n", addr->c_str());
  else std::printf("%s: spam thresholds now %s (tag, Junk, reject)\n", addr->c_str(), text.c_str());
  return kExitOk;
}

int cmd_totp(const std::string& config_path, const std::string& action, const std::string& address,
             const std::string& code) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto acct = existing_account(*o.store, address);
  if (!acct) return fail(acct.error(), kExitUsage);
  const std::string* addr = &acct->address;
  if (action == "enable") {
    const std::string secret = auth::new_totp_secret();
    if (auto r = o.store->set_totp(*addr, secret); !r) return fail(r.error());
    std::printf("TOTP enabled for %s. Add it to an authenticator app (the secret is shown only now):\n"
                "  secret: %s\n  %s\n",
                addr->c_str(), secret.c_str(), auth::totp_uri("mailkeep " + o.config.hostname, *addr, secret).c_str());
    return kExitOk;
  }
  if (action == "disable") {
    if (auto r = o.store->set_totp(*addr, ""); !r) return fail(r.error());
    std::printf("TOTP disabled for %s\n", addr->c_str());
    return kExitOk;
  }
  // check: what the admin and web login will do with the code.
  if (acct->totp_secret.empty()) return fail(err(fmt::format("{} has no TOTP; enable it first", *addr)), kExitUsage);
  auto step = auth::totp_verify(acct->totp_secret, code, std::int64_t(std::time(nullptr)), acct->totp_last_step);
  if (!step) return fail(err("code refused (wrong, expired or already used)"));
  auto claimed = o.store->totp_used(*addr, *step);
  if (!claimed) return fail(claimed.error());
  if (!*claimed) return fail(err("code refused (wrong, expired or already used)"));
  std::printf("code accepted\n");
  return kExitOk;
}

int cmd_release(const std::string& config_path, const std::string& address, bool drop) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto acct = existing_account(*o.store, address);
  if (!acct) return fail(acct.error(), kExitUsage);
  const std::string* addr = &acct->address;
  const std::string was = acct->outbound_hold;
  auto changed = admin::end_hold(*o.store, *o.store, *acct, drop);
  if (!changed) return fail(changed.error());
  const std::size_t n = *changed;
  warn_unless_audited(o.config.data_dir, drop ? "outbound_dropped" : "outbound_released",
                      {{"user", *addr}, {"messages", std::to_string(n)}, {"was", was}});
  if (drop) std::printf("%s may send again; %zu held message(s) discarded\n", addr->c_str(), n);
  else std::printf("%s may send again; %zu held message(s) released to the queue\n", addr->c_str(), n);
  if (was.empty()) std::printf("(it was not held)\n");
  return kExitOk;
}

int cmd_forward(const std::string& config_path, const std::string& address, const std::string& target, bool no_keep,
                bool off) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto acct = existing_account(*o.store, address);
  if (!acct) return fail(acct.error(), kExitUsage);
  const std::string& addr = acct->address;
  if (target.empty() && !off) {
    if (acct->forward_to.empty()) std::printf("%s does not forward its mail\n", addr.c_str());
    else
      std::printf("%s forwards its mail to %s (%s)%s\n", addr.c_str(), acct->forward_to.c_str(),
                  acct->forward_keep ? "a copy stays here" : "no copy stays here",
                  acct->outbound_hold.empty() ? "" : "; paused while its outbound mail is held");
    return kExitOk;
  }
  if (off && !target.empty()) return fail(err("give a TARGET or --off, not both"), kExitUsage);
  auto to = admin::set_forward(*o.store, *acct, off ? "" : target, !no_keep);
  if (!to) return fail(to.error(), kExitUsage);
  warn_unless_audited(o.config.data_dir, "forward_changed",
                      {{"user", addr}, {"to", *to}, {"keep", no_keep ? "no" : "yes"}, {"by", "cli"}});
  if (to->empty()) std::printf("%s no longer forwards its mail\n", addr.c_str());
  else
    std::printf("%s now forwards its mail to %s (%s; spam is not forwarded)\n", addr.c_str(), to->c_str(),
                no_keep ? "no copy stays here" : "a copy stays here");
  return kExitOk;
}

}  // namespace mk::app
