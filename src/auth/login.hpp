// auth/login.hpp: checking a protocol login (IMAP LOGIN/AUTHENTICATE, SMTP AUTH) against the
// store. One place, so every protocol gets the same rules: user names are matched
// case-insensitively, disabled accounts cannot log in, and an unknown user costs the same
// argon2id verification as a wrong password, so timing does not reveal which accounts exist.
// A successful login also derives the account's SCRAM verifier if it has none.
#pragma once

#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "audit/log.hpp"
#include "auth/breached.hpp"
#include "auth/throttle.hpp"
#include "base/log.hpp"
#include "store/credentials.hpp"
#include "store/directory.hpp"
#include "store/roles.hpp"

namespace mk::auth {

// What a login is checked against besides the password itself.
struct LoginPolicy {
  const BreachedList* breached = nullptr;  // the breached-password list, if any
  bool block_breached = true;  // security.breached_passwords: "block" (true) or "warn"
  // Told when a login used a breached password (for the security log and alerts).
  // newly: the account was flagged just now (alert once, not at every refused attempt).
  std::function<void(const std::string& address, bool blocked, bool newly)> on_breached;
  // Brute-force protection: an account under attack refuses password logins from networks
  // that never used it (auth/throttle.hpp); the caller records the outcome.
  Throttle* throttle = nullptr;
  // The security log (audit/log.hpp): logins, failures, bans, breached passwords.
  audit::Log* audit = nullptr;
  // The key SCRAM derives unknown users' salts from (auth/scram.hpp). Kept in the data
  // directory, so an unknown user's salt is the same after a restart as a real account's is;
  // empty: one random per process.
  std::string scram_salt_key;
  // Where failures on the way are told (a security-log record or a store write that failed).
  log::Logger log;
  void record(std::string_view event, const audit::Fields& fields) const {
    if (audit) log.ok_or_log(audit->append(event, fields), "audit.append_failed", {{"event", event}});
  }
  // Told of every successful login (login = true) and of a client that names itself after
  // logging in (IMAP ID; login = false), for the login history and the alerts about new
  // networks and new clients. `client`: the program's name as it gave it ("" if unknown).
  std::function<void(const std::string& user, const std::string& ip, std::string_view service,
                     const std::string& client, bool login)>
      on_login;
  void logged_in(std::string_view service, const std::string& ip, const std::string& user,
                 const std::string& client = {}) const {
    audit::Fields f{{"service", std::string(service)}, {"ip", ip}, {"user", user}};
    if (!client.empty()) f.emplace_back("client", client);
    record("login", f);
    if (on_login) on_login(user, ip, service, client, true);
  }
  void identified(std::string_view service, const std::string& ip, const std::string& user,
                  const std::string& client) const {
    if (on_login && !client.empty()) on_login(user, ip, service, client, false);
  }
};

// The store roles a login reads and writes; any store that plays both (store::Store does)
// converts to it.
struct AccountStore {
  store::Directory& directory;
  store::Credentials& credentials;
  AccountStore(store::Directory& d, store::Credentials& c) : directory(d), credentials(c) {}
  template <store::Provides<store::Directory, store::Credentials> S>
  AccountStore(S& s) : directory(s), credentials(s) {}  // NOLINT: implicit by design
};

// The account, if the credentials are right and it may log in. A correct password found in
// the breached-password list marks the account (store::Account::password_breached) and,
// with block_breached, fails the login until the password is changed; *breached tells the
// caller so it can log and warn.
// `service` ("imap", "submission"): an app password of the account in that scope also logs
// in (and is the only way when the account requires app passwords).
std::optional<store::Account> check_login(AccountStore store, std::string_view user, std::string_view password,
                                          const LoginPolicy& policy = {}, bool* breached = nullptr,
                                          const IpAddr* client = nullptr, std::string_view service = {});

// SCRAM-SHA-256 (auth/scram.hpp), for every protocol that offers it: the account that `user`
// names, with its stored verifier in `scram`, and whether it may log in with SCRAM now. SCRAM
// proves the account password, so not an account that requires app passwords; it never shows
// the password, so a breached one is refused only when an earlier login flagged it (and
// block_breached); and not a disabled account nor one locked for the client's network (the
// throttle). A refused account still shows its own salt and fails at the proof like a wrong
// password: were it to get an unknown user's challenge, locking an account would tell that
// it exists. Nothing for an unknown account or one without a verifier yet.
struct ScramAccount {
  store::Account account;
  bool may_log_in = true;
};
std::optional<ScramAccount> scram_account(AccountStore store, std::string_view user, const LoginPolicy* policy = nullptr,
                                          const IpAddr* client = nullptr);

// The admin/web login: the account's own password (an app password never opens it; it
// works also when the account requires app passwords for IMAP and SMTP) and, when the account
// has TOTP enabled, a current code that was not used before (auth/totp.hpp). The same
// throttling, breached-password rules and timing as check_login; a wrong or replayed code
// fails like a wrong password (the caller counts it as a failure).
struct WebLogin {
  std::optional<store::Account> account;  // set: logged in
  bool code_needed = false;  // the password was right and a code is needed: ask for it (no code was given)
};
WebLogin check_web_login(AccountStore store, std::string_view user, std::string_view password, std::string_view code,
                         std::int64_t now, const LoginPolicy& policy = {}, const IpAddr* client = nullptr);

}  // namespace mk::auth
