// web/routes_self.cpp: logging in and out, and what a user does to their own account: see it,
// change the password, app passwords, the web sessions (devices) logged in.
#include <sys/stat.h>

#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "auth/app_password.hpp"
#include "auth/login.hpp"
#include "audit/log.hpp"
#include "auth/password.hpp"
#include "auth/totp.hpp"
#include "base/strings.hpp"
#include "web/qr.hpp"
#include "web/routes.hpp"

namespace mk::web {

namespace json = boost::json;

namespace {

// The user's events page reads this many of the newest security-log records and shows at
// most kEventsShown of them.
constexpr std::size_t kEventsScanned = 5000;
constexpr std::size_t kEventsShown = 50;
// A user's note to the admin.
constexpr std::size_t kMaxNote = 2000;
// A held user's requests reach the admin at most this often (seconds).
constexpr std::int64_t kAskEvery = 3600;

// The pages' password and code checks pass the gate a login passes: nothing is tried while the
// network is banned or the account is locked for it...
std::optional<Reply> refused_while_banned(Api& api, const Call& c, const std::string& address) {
  if (api.sessions().may_try_password(c.req, address, c.now)) return std::nullopt;
  Reply e = error(403, "banned", "too many failed attempts; try again later");
  e.close = true;
  return e;
}

// ...and a wrong answer counts as a failed login, its reply held back by the throttle's delay
// (the connection closed when it banned the network just now).
Reply wrong_secret(Api& api, const Call& c, const std::string& address, int status, std::string_view code,
                   std::string_view message) {
  Reply e = error(status, code, message);
  e.delay = api.sessions().failed(c.req, address, c.now, &e.close);
  return e;
}

}  // namespace

std::optional<Reply> recheck_password(Api& api, const Call& c, const std::optional<std::string>& password) {
  if (!password || password->size() > kMaxPassword) return bad_field("password", "your password");
  const std::string& address = c.who->account.address;
  if (auto refused = refused_while_banned(api, c, address)) return refused;
  if (!auth::verify_password(c.who->account.password_hash, *password))
    return wrong_secret(api, c, address, 403, "wrong_password", "the password is wrong");
  return std::nullopt;
}

bool valid_credential_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(),
                      [](char ch) { return ch == '/' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
}

namespace {

json::object account_json(const store::Account& a, bool admin) {
  return json::object{{"address", a.address},
                      {"admin", admin},
                      {"quota_bytes", a.quota_bytes},
                      {"used_bytes", a.used_bytes},
                      {"totp", !a.totp_secret.empty()},
                      {"require_app_passwords", a.require_app_passwords},
                      {"password_breached", a.password_breached},
                      {"held", a.outbound_hold},
                      {"created", a.created},
                      {"forward_to", a.forward_to}};
}

}  // namespace

audit::VerifyReport LogCheck::verify(const std::string& path, std::int64_t now) {
  struct stat st {};
  const std::int64_t size = ::stat(path.c_str(), &st) == 0 ? std::int64_t(st.st_size) : -1;
  std::lock_guard lock(mu_);
  // A log that shrank was cut or replaced: checked at once.
  const bool due = now - checked_ >= kEvery && (size != size_ || now - checked_ >= kAlways);
  if (size_ < 0 || size < size_ || due) {
    last_ = audit::verify(path);
    size_ = size;
    checked_ = now;
  }
  return last_;
}

Reply internal(const Services& svc, const Error& e) {
  svc.policy.log.error("web.failed", {{"error", e.message}});
  return error(500, "internal", "the server could not do it; its log says why");
}

void tell_forward(const Services& svc, const std::string& account, const std::string& target, bool keep,
                  const std::string& how) {
  if (!svc.tell_user) return;
  svc.tell_user(account, "Your mail is now forwarded to " + target,
                fmt::format("Mail to {} now also goes to {}{}. This was set {}.\n\n"
                            "Spam is not forwarded: it stays in your Junk folder here.\n\n"
                            "If you did not ask for this, someone else may have your password: turn forwarding off on "
                            "the account page and change your password there.\n",
                            account, target, keep ? " (a copy stays here)" : " (no copy stays here)", how));
  // Another account here receives it: it is told who sends their mail on to it.
  auto other = svc.store.find_account(target);
  if (other && *other)
    svc.tell_user((*other)->address, account + " now forwards its mail to you",
                  fmt::format("Mail to {} now also comes to your mailbox (set {}). If you do not want it, ask them or "
                              "the administrator to stop it.\n",
                              account, how));
}

void record_action(const Services& svc, const Call& call, std::string_view action, audit::Fields fields) {
  fields.insert(fields.begin(), {"action", std::string(action)});
  if (call.who) {
    fields.emplace_back("by", call.who->account.address);
    fields.emplace_back("via", call.who->via_token ? "token" : "session");
  }
  fields.emplace_back("ip", call.req.remote_ip);
  svc.policy.record("web_action", fields);
}

void add_session_routes(Api& api, Services& svc) {
  api.mark_slow("POST", "/api/v1/session");
  constexpr const char* kSession =
      R"({"type":"object","required":["address","admin","csrf"],"properties":{"address":{"type":"string"},)"
      R"("admin":{"type":"boolean"},"csrf":{"type":"string"}}})";
  api.add("POST", "/api/v1/session", Access::anyone,
          Doc{"Log in with the account's password (and its TOTP code when enabled). Sets the session cookie. "
              "A 401 with code \"code_needed\" asks for the code.",
              "session",
              {},
              R"({"type":"object","required":["address","password"],"properties":{"address":{"type":"string"},)"
              R"("password":{"type":"string"},"code":{"type":"string"}}})",
              kSession},
          [&api](Call& c) {
            auto address = string_field(c.body, "address");
            auto password = string_field(c.body, "password");
            if (!address || address->size() > 320) return bad_field("address", "the account's address");
            if (!password || password->size() > kMaxPassword) return bad_field("password", "a string");
            const std::string code = string_field(c.body, "code").value_or("");
            auto r = api.sessions().login(*address, *password, code, c.req, c.now);
            using O = Sessions::Login::Outcome;
            if (r.outcome == O::banned) {
              Reply e = error(403, "banned", "too many failed logins from your network; try again later");
              e.close = true;
              return e;
            }
            if (r.outcome == O::code_needed)
              return error(401, "code_needed", "enter the code from your authenticator app");
            if (r.outcome != O::ok) {
              Reply e = error(401, "login_failed", "wrong address, password or code");
              e.delay = r.delay;
              e.close = r.close;
              return e;
            }
            Reply ok;
            ok.body = json::object{{"address", r.who->account.address}, {"admin", r.who->admin}, {"csrf", r.who->csrf}};
            ok.headers.emplace_back("Set-Cookie", r.cookie);
            return ok;
          });
  api.add("GET", "/api/v1/session", Access::user,
          Doc{"Who is logged in, and the CSRF token to send as X-CSRF-Token.", "session", {}, "", kSession},
          [](Call& c) {
            Reply ok;
            ok.body = json::object{{"address", c.who->account.address}, {"admin", c.who->admin}, {"csrf", c.who->csrf}};
            return ok;
          });
  api.add("DELETE", "/api/v1/session", Access::user,
          Doc{"Log out: ends this session.", "session", {}, "", schema::kEmpty, 204}, [&api](Call& c) {
            Reply r;
            r.status = 204;
            r.headers.emplace_back("Set-Cookie", api.sessions().logout(*c.who));
            return r;
          });
}

void add_self_routes(Api& api, Services& svc) {
  for (const char* p : {"/api/v1/me/password", "/api/v1/me/totp"}) api.mark_slow("PUT", p);
  api.mark_slow("POST", "/api/v1/me/hold/release");
  constexpr const char* kAccount =
      R"({"type":"object","required":["address","admin","quota_bytes","used_bytes","totp","require_app_passwords",)"
      R"("password_breached","held","created","forward_to"],"properties":{"address":{"type":"string"},)"
      R"("admin":{"type":"boolean"},"forward_to":{"type":"string"},)"
      R"("quota_bytes":{"type":"integer"},"used_bytes":{"type":"integer"},"totp":{"type":"boolean"},)"
      R"("require_app_passwords":{"type":"boolean"},"password_breached":{"type":"boolean"},)"
      R"("held":{"type":"string"},"created":{"type":"integer"},"self_release":{"type":"boolean"}}})";
  api.add("GET", "/api/v1/me", Access::user,
          Doc{"Your account (self_release: whether you may release a hold of your outgoing mail yourself).", "me", {},
              "", kAccount},
          [&api](Call& c) {
            json::object o = account_json(c.who->account, c.who->admin);
            o["self_release"] = api.sessions().settings().self_release;
            return ok(std::move(o));
          });

  api.add("PUT", "/api/v1/me/password", Access::user,
          Doc{"Change your password. The current one is asked again; the new one must pass the password "
              "policy and the breached-password list. Your other web sessions end.",
              "me",
              {},
              R"({"type":"object","required":["current","new"],"properties":{"current":{"type":"string"},)"
              R"("new":{"type":"string"}}})",
              schema::kEmpty,
              204},
          [&svc, &api](Call& c) {
            auto current = string_field(c.body, "current");
            auto next = string_field(c.body, "new");
            if (!current || current->size() > kMaxPassword) return bad_field("current", "your current password");
            if (!next || next->size() > kMaxPassword) return bad_field("new", "the new password");
            if (auto refused = refused_while_banned(api, c, c.who->account.address)) return *refused;
            if (!auth::verify_password(c.who->account.password_hash, *current)) {
              return wrong_secret(api, c, c.who->account.address, 403, "wrong_password",
                                  "the current password is wrong");
            }
            auto pw = admin::hash_new_password(*next, svc.breached_index);
            if (!pw) return pw.error().code == 0 ? error(400, "weak_password", pw.error().message) : error_from(pw.error());
            const std::string& addr = c.who->account.address;
            auto changed = admin::set_password(svc.store, c.who->account, *pw, c.who->session_id);
            // Recorded even when a later step failed: the password may have changed already.
            record_action(svc, c, "password_changed", {{"user", addr}, {"complete", changed ? "yes" : "no"}});
            if (!changed) return error_from(changed.error());
            return no_content();
          });

  constexpr const char* kAppPasswords =
      R"({"type":"array","items":{"type":"object","required":["name","scopes","created","last_used","last_ip"],)"
      R"("properties":{"name":{"type":"string"},"scopes":{"type":"string"},"created":{"type":"integer"},)"
      R"("last_used":{"type":"integer"},"last_ip":{"type":"string"}}}})";
  api.add("GET", "/api/v1/me/app-passwords", Access::user,
          Doc{"Your app passwords (never the passwords themselves).", "me", {}, "", kAppPasswords}, [&svc](Call& c) {
            auto list = svc.store.app_passwords(c.who->account.id);
            if (!list) return error_from(list.error());
            json::array out;
            for (const auto& p : *list)
              out.push_back(json::object{{"name", p.name}, {"scopes", p.scopes}, {"created", p.created},
                                         {"last_used", p.last_used}, {"last_ip", p.last_ip}});
            return ok(std::move(out));
          });
  api.mark_slow("POST", "/api/v1/me/app-passwords");
  api.add("POST", "/api/v1/me/app-passwords", Access::user,
          Doc{"A new app password for one mail client (your account password is asked again; you are mailed about "
              "it). The password is in this answer only.",
              "me",
              {},
              R"({"type":"object","required":["name","password"],"properties":{"name":{"type":"string"},)"
              R"("scopes":{"type":"string","description":"imap, submission or both, comma-separated"},)"
              R"("password":{"type":"string","description":"your account password, asked again"}}})",
              R"({"type":"object","required":["name","scopes","password"],"properties":{"name":{"type":"string"},)"
              R"("scopes":{"type":"string"},"password":{"type":"string"}}})",
              201},
          [&svc, &api](Call& c) {
            auto name = string_field(c.body, "name");
            if (!name || !valid_credential_name(*name)) return bad_field("name", "1 to 64 characters, no \"/\"");
            auto sc = auth::parse_scopes(string_field(c.body, "scopes").value_or("imap,submission"));
            if (!sc) return error(400, "invalid", sc.error().message);
            auto existing = svc.store.app_passwords(c.who->account.id);
            if (!existing) return error_from(existing.error());
            if (existing->size() >= admin::kMaxAppPasswords)
              return error(409, "too_many", fmt::format("an account has at most {} app passwords: revoke one first",
                                                        admin::kMaxAppPasswords));
            // A password that outlives the session: a stolen session alone cannot make one.
            if (auto refused = recheck_password(api, c, string_field(c.body, "password"))) return *refused;
            const std::string pw = auth::generate_password(auth::kAppPasswordLength);
            store::AppPassword p;
            p.account_id = c.who->account.id;
            p.name = *name;
            p.hash = auth::app_password_hash(pw);
            p.scopes = *sc;
            p.created = c.now;
            if (auto r = svc.store.add_app_password(p); !r) return error_from(r.error());
            record_action(svc, c, "app_password_added", {{"user", c.who->account.address}, {"name", *name}});
            if (svc.tell_user)
              svc.tell_user(c.who->account.address, "A new app password: " + *name,
                            fmt::format("An app password named \"{}\" ({}) was made for {} on the account page from {}. "
                                        "It logs in mail clients until it is revoked, whatever the account password.\n\n"
                                        "If you did not make it, revoke it on the account page and change your password "
                                        "there.\n",
                                        *name, *sc, c.who->account.address, c.req.remote_ip));
            return ok(json::object{{"name", *name}, {"scopes", *sc}, {"password", pw}}, 201);
          });
  api.add("DELETE", "/api/v1/me/app-passwords/{name}", Access::user,
          Doc{"Revoke one of your app passwords.", "me", {{"name", "path", "string", "the app password's name"}}, "",
              schema::kEmpty, 204},
          [&svc](Call& c) {
            auto r = svc.store.revoke_app_password(c.who->account.id, c.params["name"]);
            if (!r) return error_from(r.error());
            if (!*r) return error(404, "not_found", "you have no app password of that name");
            record_action(svc, c, "app_password_revoked", {{"user", c.who->account.address}, {"name", c.params["name"]}});
            return no_content();
          });

  // Two-factor login (TOTP, RFC 6238): a new secret is shown with its QR code, and saved only
  // once the user proves with a code that their app has it.
  api.add("POST", "/api/v1/me/totp", Access::user,
          Doc{"Start TOTP enrolment: a new secret, its otpauth URI and a QR code (SVG) for an authenticator app. "
              "Nothing changes until PUT /api/v1/me/totp confirms it with a code.",
              "me", {}, "",
              R"({"type":"object","required":["secret","uri","qr_svg"],"properties":{"secret":{"type":"string"},)"
              R"("uri":{"type":"string"},"qr_svg":{"type":"string"}}})"},
          [&svc](Call& c) {
            const std::string secret = auth::new_totp_secret();
            const std::string uri = auth::totp_uri("mailkeep " + svc.hostname, c.who->account.address, secret);
            auto qr = make_qr(uri);
            if (!qr) return error(500, "internal", "the enrolment link is too long for a QR code");
            return ok(json::object{{"secret", secret}, {"uri", uri}, {"qr_svg", qr_svg(*qr)}});
          });
  api.add("PUT", "/api/v1/me/totp", Access::user,
          Doc{"Turn TOTP on: the secret from POST /api/v1/me/totp, a current code from the app, and your password "
              "(a stolen session alone cannot lock you out).",
              "me", {},
              R"({"type":"object","required":["secret","code","password"],"properties":{"secret":{"type":"string"},)"
              R"("code":{"type":"string"},"password":{"type":"string"}}})",
              schema::kEmpty, 204},
          [&svc, &api](Call& c) {
            // An enabled second factor is replaced only after it is turned off with a code of its
            // own: a session and a password alone must not move it to another phone.
            if (!c.who->account.totp_secret.empty())
              return error(409, "conflict", "two-factor login is on: turn it off with a current code first");
            auto secret = string_field(c.body, "secret");
            auto code = string_field(c.body, "code");
            if (!secret || secret->size() != 32) return bad_field("secret", "the secret enrolment gave");
            if (!code || code->size() > 16) return bad_field("code", "the app's current code");
            auto password = string_field(c.body, "password");
            if (!password || password->size() > kMaxPassword) return bad_field("password", "your password");
            if (auto refused = refused_while_banned(api, c, c.who->account.address)) return *refused;
            if (!auth::verify_password(c.who->account.password_hash, *password)) {
              return wrong_secret(api, c, c.who->account.address, 403, "wrong_password", "the password is wrong");
            }
            auto step = auth::totp_verify(*secret, *code, c.now, 0);
            if (!step) {
              return wrong_secret(api, c, c.who->account.address, 400, "wrong_code",
                                  "that code does not match: check the app's clock and try the next code");
            }
            const std::string& addr = c.who->account.address;
            if (auto r = svc.store.set_totp(addr, *secret); !r) return error_from(r.error());
            if (auto r = svc.store.totp_used(addr, *step); !r) return error_from(r.error());
            record_action(svc, c, "totp_enabled", {{"user", addr}});
            return no_content();
          });
  api.add("DELETE", "/api/v1/me/totp", Access::user,
          Doc{"Turn TOTP off; asks for a current code (a stolen session alone cannot).", "me",
              {{"code", "query", "string", "a current code from the app"}}, "", schema::kEmpty, 204},
          [&svc, &api](Call& c) {
            const store::Account& a = c.who->account;
            if (a.totp_secret.empty()) return error(409, "conflict", "two-factor login is off already");
            if (auto refused = refused_while_banned(api, c, a.address)) return *refused;
            auto code = c.req.param("code");
            auto step = code ? auth::totp_verify(a.totp_secret, *code, c.now, a.totp_last_step) : std::nullopt;
            auto claimed = step ? svc.store.totp_used(a.address, *step) : Result<bool>(false);
            if (!claimed) return error_from(claimed.error());
            if (!*claimed) {
              return wrong_secret(api, c, a.address, 403, "wrong_code", "that code does not match (or was used already)");
            }
            if (auto r = svc.store.set_totp(a.address, ""); !r) return error_from(r.error());
            record_action(svc, c, "totp_disabled", {{"user", a.address}});
            return no_content();
          });

  // The user's own security events: logins, failures and changes that name the account.
  api.add("GET", "/api/v1/me/events", Access::user,
          Doc{"Your recent security events (logins, failed logins, changes), newest first.", "me", {}, "",
              R"({"type":"array","items":{"type":"object","required":["ts","event"],"properties":{)"
              R"("ts":{"type":"string"},"event":{"type":"string"},"service":{"type":"string"},"ip":{"type":"string"},)"
              R"("action":{"type":"string"},"client":{"type":"string"},"to":{"type":"string"}}}})"},
          [&svc](Call& c) {
            auto tail = audit::read_tail(svc.security_log, kEventsScanned);  // bounded in bytes too
            if (!tail) return internal(svc, tail.error());
            json::array out;
            for (auto it = tail->rbegin(); it != tail->rend() && out.size() < kEventsShown; ++it) {
              boost::system::error_code ec;
              json::value v = json::parse(*it, ec);
              if (ec || !v.is_object()) continue;
              const auto& o = v.as_object();
              auto user = o.if_contains("user");
              if (!user || !user->is_string() || user->as_string() != c.who->account.address) continue;
              json::object e;
              for (const char* k : {"ts", "event", "service", "ip", "action", "client", "to"})
                if (auto f = o.if_contains(k); f && f->is_string()) e[k] = *f;
              if (e.contains("ts") && e.contains("event")) out.push_back(std::move(e));
            }
            return ok(std::move(out));
          });

  // Recovery after a containment hold: the user sees why (GET /api/v1/me), and either asks the
  // admin to release it or, where [web] self_release allows, releases it by choosing a new
  // password (the hold's likely cause is a stolen one) and, by default, revoking every app
  // password.
  api.add("POST", "/api/v1/me/hold/request", Access::user,
          Doc{"Ask the admin to release your held outbound mail (they are mailed, with your note).", "me", {},
              R"({"type":"object","properties":{"note":{"type":"string"}}})", schema::kEmpty, 204},
          [&svc](Call& c) {
            const store::Account& a = c.who->account;
            if (a.outbound_hold.empty()) return error(409, "not_held", "your outgoing mail is not held");
            {
              std::lock_guard lock(svc.release_asks.mu);
              auto& last = svc.release_asks.last[a.id];
              if (c.now - last < kAskEvery)
                return error(429, "asked_already", "the administrator was asked less than an hour ago");
              last = c.now;
            }
            const std::string note = cut_utf8(string_field(c.body, "note").value_or(""), kMaxNote);
            record_action(svc, c, "release_requested", {{"user", a.address}, {"note", note}});
            if (svc.tell_admin)
              svc.tell_admin("Release requested: " + a.address,
                             fmt::format("{} asks for the release of its outgoing mail, held because: {}\n\n"
                                         "Their note: {}\n\nRelease or delete the held mail at /admin/#holds, or with: "
                                         "mailkeep account release {}\n",
                                         a.address, a.outbound_hold, note.empty() ? "(none)" : note, a.address));
            return no_content();
          });
  api.add("POST", "/api/v1/me/hold/release", Access::user,
          Doc{"Release your own held outbound mail, where the server allows it ([web] self_release): with a new "
              "password (your other sessions end) and, unless keep_app_passwords, every app password revoked. "
              "Forwarding, if any, is turned off (it may be the intruder's).",
              "me", {},
              R"({"type":"object","required":["current","new"],"properties":{"current":{"type":"string"},)"
              R"("new":{"type":"string"},"keep_app_passwords":{"type":"boolean"}}})",
              R"({"type":"object","required":["messages","app_passwords_revoked","forward_removed"],"properties":{)"
              R"("messages":{"type":"integer"},"app_passwords_revoked":{"type":"integer"},)"
              R"("forward_removed":{"type":"string","description":"the forwarding that ended with the release"}}})"},
          [&svc, &api](Call& c) {
            const store::Account& a = c.who->account;
            if (a.outbound_hold.empty()) return error(409, "not_held", "your outgoing mail is not held");
            if (!api.sessions().settings().self_release)
              return error(403, "not_allowed", "this server's admin releases held mail: ask them (POST /api/v1/me/hold/request)");
            const std::string current = string_field(c.body, "current").value_or("");
            const std::string next = string_field(c.body, "new").value_or("");
            if (current.size() > kMaxPassword || next.size() > kMaxPassword) return bad_field("new", "a password");
            if (auto refused = refused_while_banned(api, c, a.address)) return *refused;
            if (!auth::verify_password(a.password_hash, current)) {
              return wrong_secret(api, c, a.address, 403, "wrong_password", "the current password is wrong");
            }
            if (next == current) return error(400, "weak_password", "choose a new password: the held mail may be the work of someone who knows this one");
            auto pw = admin::hash_new_password(next, svc.breached_index);
            if (!pw) return pw.error().code == 0 ? error(400, "weak_password", pw.error().message) : error_from(pw.error());
            if (auto r = admin::set_password(svc.store, a, *pw, c.who->session_id); !r) {
              record_action(svc, c, "password_changed", {{"user", a.address}, {"complete", "no"}});
              return error_from(r.error());
            }
            std::int64_t revoked = 0;
            if (!bool_field(c.body, "keep_app_passwords").value_or(false)) {
              auto list = svc.store.app_passwords(a.id);
              if (!list) return error_from(list.error());
              for (const auto& p : *list) {
                auto r = svc.store.revoke_app_password(a.id, p.name);
                if (!r) {
                  record_action(svc, c, "password_changed",
                                {{"user", a.address}, {"app_passwords_revoked", std::to_string(revoked)}});
                  return error_from(r.error());
                }
                revoked += *r;
              }
            }
            // Forwarding set with the old password may be the intruder's: it ends with the hold's
            // release (the user sets it again, with the new password, if it was theirs).
            if (!a.forward_to.empty()) {
              if (auto r = admin::set_forward(svc.store, a, "", true); !r) return error_from(r.error());
              record_action(svc, c, "forward_removed", {{"user", a.address}, {"was", a.forward_to}});
            }
            auto n = admin::end_hold(svc.store, svc.store, a, false);
            if (!n) return error_from(n.error());
            record_action(svc, c, "outbound_self_released",
                          {{"user", a.address}, {"messages", std::to_string(*n)}, {"was", a.outbound_hold},
                           {"app_passwords_revoked", std::to_string(revoked)}});
            if (svc.tell_admin)
              svc.tell_admin("Hold released by its user: " + a.address,
                             fmt::format("{} changed its password and released its held mail ({} message(s)); "
                                         "it was held because: {}\n{}",
                                         a.address, *n, a.outbound_hold,
                                         a.forward_to.empty() ? ""
                                                              : "Its forwarding to " + a.forward_to + " was turned off.\n"));
            return ok(json::object{{"messages", *n}, {"app_passwords_revoked", revoked}, {"forward_removed", a.forward_to}});
          });

  // Forwarding: the user's mail also goes to another address. Setting it asks for the password
  // (a stolen session alone must not divert the mail) and is refused while containment holds
  // the account (forwarding pauses then); the account is mailed each time it is set.
  constexpr const char* kForward =
      R"({"type":"object","required":["to","keep","paused","allowed"],"properties":{"to":{"type":"string"},)"
      R"("keep":{"type":"boolean"},"paused":{"type":"boolean"},"allowed":{"type":"boolean"}}})";
  auto forward_json = [&api](const store::Account& a) {
    return json::object{{"to", a.forward_to},
                        {"keep", a.forward_keep},
                        {"paused", !a.forward_to.empty() && !a.outbound_hold.empty()},
                        {"allowed", api.sessions().settings().self_forwarding}};
  };
  api.add("GET", "/api/v1/me/forward", Access::user,
          Doc{"Your forwarding: where your mail also goes (\"\": nowhere), whether a copy stays here, whether it "
              "is paused (while your outgoing mail is held) and whether you may change it.",
              "me", {}, "", kForward},
          [forward_json](Call& c) { return ok(forward_json(c.who->account)); });
  api.mark_slow("PUT", "/api/v1/me/forward");
  api.add("PUT", "/api/v1/me/forward", Access::user,
          Doc{"Forward your mail to an address elsewhere or to another account here; keep (default true) leaves a "
              "copy here. Asks for your password. Spam is never forwarded (it stays in your Junk here); "
              "forwarding pauses while your outgoing mail is held. You are mailed about the change.",
              "me", {},
              R"({"type":"object","required":["to","password"],"properties":{"to":{"type":"string"},)"
              R"("keep":{"type":"boolean"},"password":{"type":"string"}}})",
              kForward},
          [&svc, &api, forward_json](Call& c) {
            const store::Account& a = c.who->account;
            if (!api.sessions().settings().self_forwarding)
              return error(403, "not_allowed", "this server's admin sets forwarding: ask them");
            if (!a.outbound_hold.empty())
              return error(409, "held", "your outgoing mail is held: forwarding can be set once it is released");
            auto to = string_field(c.body, "to");
            if (!to || to->empty() || to->size() > 320) return bad_field("to", "the address to forward to");
            auto keep = c.body.contains("keep") ? bool_field(c.body, "keep") : std::optional<bool>(true);
            if (!keep) return bad_field("keep", "true or false");
            if (auto refused = recheck_password(api, c, string_field(c.body, "password"))) return *refused;
            auto target = admin::set_forward(svc.store, a, *to, *keep);
            if (!target) return error_from(target.error());
            record_action(svc, c, "forward_set", {{"user", a.address}, {"to", *target}, {"keep", *keep ? "yes" : "no"}});
            tell_forward(svc, a.address, *target, *keep, "on the account page from " + c.req.remote_ip);
            store::Account now = a;
            now.forward_to = *target;
            now.forward_keep = *keep;
            return ok(forward_json(now));
          });
  api.add("DELETE", "/api/v1/me/forward", Access::user,
          Doc{"Stop forwarding your mail (held or not; where users may set forwarding).", "me", {}, "", schema::kEmpty,
              204},
          [&svc, &api](Call& c) {
            const store::Account& a = c.who->account;
            if (a.forward_to.empty()) return no_content();
            if (!api.sessions().settings().self_forwarding)
              return error(403, "not_allowed", "this server's admin sets forwarding: ask them");
            if (auto r = admin::set_forward(svc.store, a, "", true); !r) return error_from(r.error());
            record_action(svc, c, "forward_removed", {{"user", a.address}, {"was", a.forward_to}});
            return no_content();
          });

  constexpr const char* kSessions =
      R"({"type":"array","items":{"type":"object","required":["id","created","last_seen","ip","agent","current"],)"
      R"("properties":{"id":{"type":"integer"},"created":{"type":"integer"},"last_seen":{"type":"integer"},)"
      R"("ip":{"type":"string"},"agent":{"type":"string"},"current":{"type":"boolean"}}}})";
  api.add("GET", "/api/v1/me/sessions", Access::user,
          Doc{"Where you are logged in to these pages.", "me", {}, "", kSessions}, [&svc](Call& c) {
            auto list = svc.store.web_sessions(c.who->account.id);
            if (!list) return error_from(list.error());
            json::array out;
            for (const auto& s : *list)
              out.push_back(json::object{{"id", s.id}, {"created", s.created}, {"last_seen", s.last_seen},
                                         {"ip", s.ip}, {"agent", s.agent}, {"current", s.id == c.who->session_id}});
            return ok(std::move(out));
          });
  api.add("DELETE", "/api/v1/me/sessions/{id}", Access::user,
          Doc{"Log out one of your sessions (another device).", "me", {{"id", "path", "integer", "the session's id"}}, "",
              schema::kEmpty, 204},
          [&svc](Call& c) {
            auto id = id_param(c.params["id"]);
            if (!id) return error(404, "not_found", "no such session");
            auto r = svc.store.remove_web_session(c.who->account.id, *id);
            if (!r) return error_from(r.error());
            if (!*r) return error(404, "not_found", "no such session");
            record_action(svc, c, "session_ended", {{"user", c.who->account.address}, {"session", std::to_string(*id)}});
            return no_content();
          });
}

}  // namespace mk::web
