// web/session.hpp: who is asking, for the web pages and the JSON API.
//
// A person logs in with their account's password (and a TOTP code where enabled:
// auth::check_web_login) and gets a session: a random secret in a cookie the browser sends
// only to this site over HTTPS and never shows to scripts ("__Host-" prefix, Secure,
// HttpOnly, SameSite=Strict), and a CSRF token the pages send back in X-CSRF-Token on every
// change. A session ends after `idle` without use, `absolute` after the login, at logout, or
// when the account's password changes. Automation uses an API token instead
// (Authorization: Bearer), made by an admin, acting as that admin, read-only or read-write;
// a user's devices that share links use a share token, which can do nothing else.
// Admins are the accounts [web] admins names; everyone else reaches only their own account.
// STANDARDS: RFC 6265 (cookies; __Host- prefix and SameSite per RFC 6265bis), RFC 6750 §2.1
// (Bearer).
// SECURITY: only hashes of secrets are stored (store/web.hpp). Failed logins go through the
// same brute-force throttle, bans and security-log records as IMAP and SMTP; the answer to a
// failure is held back by the throttle's delay. A wrong token counts as a failed login. The
// session secret and the token never reach a log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/login.hpp"
#include "base/duration.hpp"
#include "base/log.hpp"
#include "http/message.hpp"
#include "store/store.hpp"
#include "web/settings.hpp"

namespace mk::web {

// The cookie's name. The __Host- prefix makes browsers refuse it unless it is Secure, has
// Path=/ and no Domain, so no other host (a subdomain included) can set or overwrite it.
inline constexpr std::string_view kSessionCookie = "__Host-mk_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";
// Secrets: 32 letters of generate_password's 58-letter alphabet, about 187 bits.
inline constexpr std::size_t kSecretLength = 32;
inline constexpr std::string_view kTokenPrefix = "mkt_";
// Share tokens: one per device that shares links (a bookmarklet, an iOS shortcut), good for
// POST /api/v1/share only. Stored with the API tokens, scope kShareScope.
inline constexpr std::string_view kShareTokenPrefix = "mks_";
inline constexpr std::string_view kShareScope = "share";
// The User-Agent kept with a session (for the user's list of devices).
inline constexpr std::size_t kMaxAgent = 200;
// A session's last use is written at most this often (a page load is several requests).
inline constexpr std::int64_t kTouchEverySeconds = 60;

struct Principal {
  store::Account account;
  bool admin = false;
  bool via_token = false;
  bool may_write = true;     // false: a read-only token
  bool share_only = false;   // a share token: it may only share links into its account
  std::int64_t session_id = 0;
  std::string csrf;          // the session's CSRF token; empty for a token
};

class Sessions {
 public:
  // policy: the login rules with the throttle and the security log (auth/login.hpp).
  Sessions(Settings settings, store::Store& store, const auth::LoginPolicy& policy, log::Logger log);

  const Settings& settings() const { return settings_; }
  bool is_admin(std::string_view address) const;

  // The principal of a request: its session cookie (live, its account enabled) or its bearer
  // token. nullopt: none, or one that is not valid (expired, revoked, unknown).
  // A request whose bearer token is unknown counts as a failed login: *token_failed says so.
  std::optional<Principal> who(const http::Request& req, std::int64_t now, bool* token_failed = nullptr);

  // Whether a state-changing request carries the session's CSRF token (a bearer token needs
  // none: a browser never sends it on its own).
  static bool csrf_ok(const http::Request& req, const Principal& p);

  struct Login {
    enum class Outcome { ok, code_needed, failed, banned } outcome = Outcome::failed;
    std::optional<Principal> who;
    std::string cookie;  // the Set-Cookie value on success
    std::chrono::milliseconds delay{0};  // hold the failure's answer back this long
    bool close = false;  // the network was banned by this failure
  };
  Login login(std::string_view address, std::string_view password, std::string_view code, const http::Request& req,
              std::int64_t now);
  // Ends the request's session; returns the Set-Cookie value that clears the cookie.
  std::string logout(const Principal& p);
  static std::string clear_cookie();

  // A new API token for an admin: the secret is returned once.
  Result<std::string> new_token(const Principal& admin, std::string_view name, bool write, std::int64_t now);
  // A new share token for a user's device: the secret is returned once.
  Result<std::string> new_share_token(const Principal& user, std::string_view name, std::int64_t now);

  // Ends the sessions that expired (the server calls this now and then).
  void expire(std::int64_t now);

  // Whether the request's network is banned from logging in (auth/throttle.hpp).
  bool banned(const http::Request& req, std::int64_t now) const;
  // Whether a password may be tried for this account from this request's network now (not
  // banned, the account not locked for it): the pages' password checks pass the same gate
  // as a login.
  bool may_try_password(const http::Request& req, std::string_view user, std::int64_t now) const;
  // Records a refused request of a logged-in principal (not an admin, a missing CSRF token, a
  // token out of its scope) in the security log.
  void denied(const http::Request& req, const Principal& p, std::string_view reason) const;

  // Counts a failed authentication (an unknown token) against the client's network, and
  // records it; returns the delay to hold the answer back.
  std::chrono::milliseconds failed(const http::Request& req, std::string_view user, std::int64_t now, bool* banned);

 private:
  std::optional<Principal> principal(store::Account acct);

  Settings settings_;
  store::Store& store_;
  const auth::LoginPolicy& policy_;
  log::Logger log_;
};

// A cookie's value from the request's Cookie header fields; nullopt if absent.
std::optional<std::string> cookie(const http::Request& req, std::string_view name);

}  // namespace mk::web
