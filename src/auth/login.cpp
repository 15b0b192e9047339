#include "auth/login.hpp"

#include <ctime>

#include "auth/app_password.hpp"
#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "auth/totp.hpp"
#include "base/strings.hpp"

namespace mk::auth {

namespace {

// web: the admin/web login (account password only, whatever require_app_passwords says).
std::optional<store::Account> check(AccountStore store, std::string_view user, std::string_view password,
                                    const LoginPolicy& policy, bool* breached, const IpAddr* client,
                                    std::string_view service, bool web) {
  if (breached) *breached = false;
  auto acct = store.directory.find_account(to_lower(user));
  policy.log.ok_or_log(acct, "auth.account_unreadable");  // the login fails like a wrong password
  static const std::string kDummy = *hash_password("mailkeep-timing-equaliser");
  const bool known = acct && *acct;
  // A locked account costs the same argon2id run and gives the same answer as a wrong password.
  const bool locked = policy.throttle && client &&
                      policy.throttle->account_locked(user, *client, std::int64_t(std::time(nullptr)));
  const bool ok = verify_password(known ? (*acct)->password_hash : kDummy, password);
  // App passwords: checked after the argon2id run either way, so timing says nothing.
  std::optional<store::AppPassword> app;
  if (known && !service.empty()) {
    auto list = store.credentials.app_passwords((*acct)->id);
    if (list) app = match_app_password(*list, password, service);
  }
  if (!known || locked || (*acct)->disabled) return std::nullopt;
  if (app) {
    policy.log.ok_or_log(
        store.credentials.app_password_used(app->id, std::int64_t(std::time(nullptr)), client ? client->to_string() : ""),
        "auth.app_password_not_recorded", {{"user", (*acct)->address}});
    return **acct;
  }
  if (!ok || ((*acct)->require_app_passwords && !web)) return std::nullopt;
  // A password that was not in the list when it was set may be in a newer breach.
  if (policy.breached) {
    auto index = policy.breached->current();
    if ((*acct)->password_breached || (index && index->contains_password(password))) {
      const bool newly = !(*acct)->password_breached;
      if (newly) {
        policy.log.ok_or_log(store.credentials.set_password_breached((*acct)->address), "auth.breached_mark_failed",
                             {{"user", (*acct)->address}});
        (*acct)->password_breached = true;
      }
      if (breached) *breached = true;
      if (policy.on_breached) policy.on_breached((*acct)->address, policy.block_breached, newly);
      if (policy.block_breached) return std::nullopt;
    }
  }
  if ((*acct)->scram.empty()) {
    // Accounts from before SCRAM, or whose password changed: derive the verifier now that
    // the password is at hand, so SCRAM-SHA-256 works from the next login on.
    (*acct)->scram = make_scram_secret(password);
    // Not stored: SCRAM waits for the next login that can store it; this login goes on.
    policy.log.ok_or_log(store.credentials.set_scram((*acct)->address, (*acct)->scram), "auth.scram_not_stored",
                         {{"user", (*acct)->address}});
  }
  return **acct;
}

}  // namespace

std::optional<store::Account> check_login(AccountStore store, std::string_view user, std::string_view password,
                                          const LoginPolicy& policy, bool* breached, const IpAddr* client,
                                          std::string_view service) {
  return check(store, user, password, policy, breached, client, service, false);
}

std::optional<ScramAccount> scram_account(AccountStore store, std::string_view user, const LoginPolicy* policy,
                                          const IpAddr* client) {
  auto a = store.directory.find_account(to_lower(user));
  if (policy) policy->log.ok_or_log(a, "auth.account_unreadable");  // fails like an unknown user
  if (!a || !*a || (*a)->scram.empty()) return std::nullopt;
  ScramAccount out{std::move(**a)};
  const store::Account& acct = out.account;
  const bool locked = policy && policy->throttle && client &&
                      policy->throttle->account_locked(user, *client, std::int64_t(std::time(nullptr)));
  out.may_log_in = !acct.disabled && !acct.require_app_passwords &&
                   !(acct.password_breached && policy && policy->block_breached) && !locked;
  return out;
}

WebLogin check_web_login(AccountStore store, std::string_view user, std::string_view password, std::string_view code,
                         std::int64_t now, const LoginPolicy& policy, const IpAddr* client) {
  WebLogin out;
  auto acct = check(store, user, password, policy, nullptr, client, {}, true);
  if (!acct) return out;
  if (acct->totp_secret.empty()) {
    out.account = std::move(acct);
    return out;
  }
  if (code.empty()) {
    out.code_needed = true;
    return out;
  }
  const auto step = totp_verify(acct->totp_secret, code, now, acct->totp_last_step);
  if (!step) return out;  // wrong or stale
  if (auto claimed = store.credentials.totp_used(acct->address, *step); !claimed || !*claimed) return out;  // replayed meanwhile
  out.account = std::move(acct);
  return out;
}

}  // namespace mk::auth
