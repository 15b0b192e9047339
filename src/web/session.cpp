#include "web/session.hpp"

#include <sodium.h>

#include <algorithm>

#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "auth/app_password.hpp"
#include "auth/password.hpp"
#include "base/ip.hpp"
#include "base/strings.hpp"

namespace mk::web {
namespace {

std::string secret_hash(std::string_view secret) { return auth::app_password_hash(secret); }

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The bearer token of an Authorization field, RFC 6750 §2.1 ("Bearer" is case-insensitive).
std::optional<std::string> bearer(const http::Request& req) {
  auto v = req.header("authorization");
  if (!v || v->size() < 7 || !iequals(v->substr(0, 7), "bearer ")) return std::nullopt;
  return std::string(trim(v->substr(7)));
}

}  // namespace

std::optional<std::string> cookie(const http::Request& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (k != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

Sessions::Sessions(Settings settings, store::Store& store, const auth::LoginPolicy& policy, log::Logger log)
    : settings_(std::move(settings)), store_(store), policy_(policy), log_(std::move(log)) {}

bool Sessions::is_admin(std::string_view address) const {
  return std::find(settings_.admins.begin(), settings_.admins.end(), address) != settings_.admins.end();
}

std::optional<Principal> Sessions::principal(store::Account acct) {
  if (acct.disabled) return std::nullopt;
  Principal p;
  p.admin = is_admin(acct.address);
  p.account = std::move(acct);
  return p;
}

std::optional<Principal> Sessions::who(const http::Request& req, std::int64_t now, bool* token_failed) {
  if (auto token = bearer(req)) {
    auto t = store_.api_token(secret_hash(*token));
    if (!log_.ok_or_log(t, "web.token_lookup_failed")) return std::nullopt;
    if (!*t) {
      if (token_failed) *token_failed = true;
      return std::nullopt;
    }
    auto acct = store_.account_by_id((*t)->account_id);
    if (!log_.ok_or_log(acct, "web.token_lookup_failed") || !*acct) return std::nullopt;
    auto p = principal(std::move(**acct));
    if (!p) return std::nullopt;
    p->via_token = true;
    if ((*t)->scopes == kShareScope) {
      // A share token files links into its own account's mailbox, whoever the account is.
      p->admin = false;
      p->share_only = true;
    } else {
      // An API token acts as the admin who made it, and only while that account is an admin.
      if (!p->admin) return std::nullopt;
      p->may_write = auth::in_scope((*t)->scopes, "write");
    }
    if (now - (*t)->last_used >= kTouchEverySeconds)
      log_.ok_or_log(store_.api_token_used((*t)->id, now, req.remote_ip), "web.token_touch_failed");
    return p;
  }
  auto secret = cookie(req, kSessionCookie);
  if (!secret || secret->empty()) return std::nullopt;
  auto s = store_.web_session(secret_hash(*secret));
  if (!log_.ok_or_log(s, "web.session_lookup_failed") || !*s) return std::nullopt;
  const store::WebSession& w = **s;
  if (now - w.last_seen > whole_seconds(settings_.idle) || now - w.created > whole_seconds(settings_.absolute)) {
    log_.ok_or_log(store_.remove_web_session(w.account_id, w.id), "web.session_remove_failed");
    return std::nullopt;
  }
  auto acct = store_.account_by_id(w.account_id);
  if (!log_.ok_or_log(acct, "web.session_lookup_failed") || !*acct) return std::nullopt;
  auto p = principal(std::move(**acct));
  if (!p) return std::nullopt;
  p->session_id = w.id;
  p->csrf = w.csrf;
  if (now - w.last_seen >= kTouchEverySeconds || w.ip != req.remote_ip)
    log_.ok_or_log(store_.touch_web_session(w.id, now, req.remote_ip), "web.session_touch_failed");
  return p;
}

bool Sessions::csrf_ok(const http::Request& req, const Principal& p) {
  if (p.via_token) return true;
  auto sent = req.header(kCsrfHeader);
  return sent && !p.csrf.empty() && same(*sent, p.csrf);
}

bool Sessions::banned(const http::Request& req, std::int64_t now) const {
  auto ip = IpAddr::parse(req.remote_ip);
  return policy_.throttle && ip && policy_.throttle->banned(*ip, now);
}

bool Sessions::may_try_password(const http::Request& req, std::string_view user, std::int64_t now) const {
  auto ip = IpAddr::parse(req.remote_ip);
  if (!policy_.throttle || !ip) return true;
  return !policy_.throttle->banned(*ip, now) && !policy_.throttle->account_locked(user, *ip, now);
}

void Sessions::denied(const http::Request& req, const Principal& p, std::string_view reason) const {
  policy_.record("web_denied", {{"user", p.account.address},
                                {"via", p.via_token ? "token" : "session"},
                                {"reason", std::string(reason)},
                                {"method", log_safe(req.method, 16)},
                                {"path", log_safe(req.path, 200)},
                                {"ip", req.remote_ip}});
}

std::chrono::milliseconds Sessions::failed(const http::Request& req, std::string_view user, std::int64_t now,
                                           bool* banned) {
  policy_.record("login_failed", {{"service", "web"}, {"ip", req.remote_ip}, {"user", std::string(user)}});
  auto ip = IpAddr::parse(req.remote_ip);
  if (!policy_.throttle || !ip) return {};
  const auto v = policy_.throttle->failed(*ip, user, now);
  if (v.banned) {
    policy_.record("ban", {{"network", auth::Throttle::network_key(*ip)}, {"service", "web"}});
    if (banned) *banned = true;
  }
  log_.info("web.auth_failed", {{"ip", req.remote_ip},
                                {"user", log_safe(user, 80)},
                                {"delay_ms", v.delay.count()},
                                {"banned", v.banned}});
  return v.delay;
}

Sessions::Login Sessions::login(std::string_view address, std::string_view password, std::string_view code,
                                const http::Request& req, std::int64_t now) {
  Login out;
  auto ip = IpAddr::parse(req.remote_ip);
  if (banned(req, now)) {
    policy_.record("connection_refused_banned", {{"service", "web"}, {"ip", req.remote_ip}});
    out.outcome = Login::Outcome::banned;
    return out;
  }
  auto r = auth::check_web_login(store_, address, password, code, now, policy_, ip ? &*ip : nullptr);
  if (r.code_needed) {
    out.outcome = Login::Outcome::code_needed;
    return out;
  }
  std::optional<Principal> p;
  if (r.account) p = principal(std::move(*r.account));
  if (!p) {
    out.delay = failed(req, address, now, &out.close);
    return out;
  }
  if (policy_.throttle && ip) policy_.throttle->succeeded(*ip, p->account.address, now);
  const std::string agent(log_safe(req.header("user-agent").value_or(""), kMaxAgent));
  policy_.logged_in("web", req.remote_ip, p->account.address, agent);
  expire(now);  // the sessions nobody came back to, now and then
  // At most kMaxWebSessions each: the least recently used ones end first.
  if (auto mine = store_.web_sessions(p->account.id); log_.ok_or_log(mine, "web.session_lookup_failed"))
    for (std::size_t i = admin::kMaxWebSessions - 1; i < mine->size(); ++i)
      log_.ok_or_log(store_.remove_web_session(p->account.id, (*mine)[i].id), "web.session_remove_failed");
  const std::string secret = auth::generate_password(kSecretLength);
  store::WebSession w{0, p->account.id, secret_hash(secret), auth::generate_password(kSecretLength), now, now,
                      req.remote_ip, agent};
  auto id = store_.add_web_session(w);
  if (!log_.ok_or_log(id, "web.session_store_failed")) return out;  // failed, no delay: our fault
  p->session_id = *id;
  p->csrf = w.csrf;
  out.outcome = Login::Outcome::ok;
  out.who = std::move(p);
  // No Max-Age: the cookie ends with the browser, and the server ends it sooner.
  out.cookie = fmt::format("{}={}; Path=/; Secure; HttpOnly; SameSite=Strict", kSessionCookie, secret);
  return out;
}

std::string Sessions::clear_cookie() {
  return fmt::format("{}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", kSessionCookie);
}

std::string Sessions::logout(const Principal& p) {
  if (p.session_id != 0)
    log_.ok_or_log(store_.remove_web_session(p.account.id, p.session_id), "web.session_remove_failed");
  policy_.record("logout", {{"service", "web"}, {"user", p.account.address}});
  return clear_cookie();
}

Result<std::string> Sessions::new_token(const Principal& admin, std::string_view name, bool write, std::int64_t now) {
  const std::string secret = std::string(kTokenPrefix) + auth::generate_password(kSecretLength);
  store::ApiToken t{0, admin.account.id, std::string(name), secret_hash(secret), write ? "read,write" : "read", now, 0, ""};
  if (auto r = store_.add_api_token(t); !r) return r.error();
  return secret;
}

Result<std::string> Sessions::new_share_token(const Principal& user, std::string_view name, std::int64_t now) {
  const std::string secret = std::string(kShareTokenPrefix) + auth::generate_password(kSecretLength);
  store::ApiToken t{0, user.account.id, std::string(name), secret_hash(secret), std::string(kShareScope), now, 0, ""};
  if (auto r = store_.add_api_token(t); !r) return r.error();
  return secret;
}

void Sessions::expire(std::int64_t now) {
  auto n = store_.expire_web_sessions(now - whole_seconds(settings_.idle), now - whole_seconds(settings_.absolute));
  log_.ok_or_log(n, "web.session_expire_failed");
}

}  // namespace mk::web
