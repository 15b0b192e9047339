// web/routes_self.cpp: logging in and out, and what a user does to their own account: see it,
// change the password, app passwords, the web sessions (devices) logged in.
#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "auth/app_password.hpp"
#include "auth/login.hpp"
#include "auth/password.hpp"
#include "web/routes.hpp"

namespace mk::web {

namespace json = boost::json;

namespace {

// Bounds on what a user names things with.
constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxPassword = 1024;

json::object account_json(const store::Account& a, bool admin) {
  return json::object{{"address", a.address},
                      {"admin", admin},
                      {"quota_bytes", a.quota_bytes},
                      {"used_bytes", a.used_bytes},
                      {"totp", !a.totp_secret.empty()},
                      {"require_app_passwords", a.require_app_passwords},
                      {"password_breached", a.password_breached},
                      {"held", a.outbound_hold},
                      {"created", a.created}};
}

}  // namespace

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
            if (r.outcome == O::banned)
              return error(403, "banned", "too many failed logins from your network; try again later");
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
  constexpr const char* kAccount =
      R"({"type":"object","required":["address","admin","quota_bytes","used_bytes","totp","require_app_passwords",)"
      R"("password_breached","held","created"],"properties":{"address":{"type":"string"},"admin":{"type":"boolean"},)"
      R"("quota_bytes":{"type":"integer"},"used_bytes":{"type":"integer"},"totp":{"type":"boolean"},)"
      R"("require_app_passwords":{"type":"boolean"},"password_breached":{"type":"boolean"},)"
      R"("held":{"type":"string"},"created":{"type":"integer"}}})";
  api.add("GET", "/api/v1/me", Access::user, Doc{"Your account.", "me", {}, "", kAccount},
          [](Call& c) { return ok(account_json(c.who->account, c.who->admin)); });

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
            if (!auth::verify_password(c.who->account.password_hash, *current)) {
              Reply e = error(403, "wrong_password", "the current password is wrong");
              e.delay = api.sessions().failed(c.req, c.who->account.address, c.now, &e.close);
              return e;
            }
            auto pw = admin::hash_new_password(*next, svc.breached_index);
            if (!pw) return error(400, "weak_password", pw.error().message);
            const std::string& addr = c.who->account.address;
            if (auto r = svc.store.set_password(addr, pw->hash); !r) return error_from(r.error());
            if (auto r = svc.store.set_scram(addr, pw->scram); !r) return error_from(r.error());
            svc.policy.log.ok_or_log(svc.store.remove_web_sessions(c.who->account.id, c.who->session_id),
                                     "web.session_remove_failed");
            record_action(svc, c, "password_changed", {{"user", addr}});
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
  api.add("POST", "/api/v1/me/app-passwords", Access::user,
          Doc{"A new app password for one mail client. The password is in this answer only.",
              "me",
              {},
              R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"},)"
              R"("scopes":{"type":"string","description":"imap, submission or both, comma-separated"}}})",
              R"({"type":"object","required":["name","scopes","password"],"properties":{"name":{"type":"string"},)"
              R"("scopes":{"type":"string"},"password":{"type":"string"}}})",
              201},
          [&svc](Call& c) {
            auto name = string_field(c.body, "name");
            if (!name || name->empty() || name->size() > kMaxName) return bad_field("name", "1 to 64 characters");
            auto sc = auth::parse_scopes(string_field(c.body, "scopes").value_or("imap,submission"));
            if (!sc) return error(400, "invalid", sc.error().message);
            const std::string pw = auth::generate_password(auth::kAppPasswordLength);
            store::AppPassword p;
            p.account_id = c.who->account.id;
            p.name = *name;
            p.hash = auth::app_password_hash(pw);
            p.scopes = *sc;
            p.created = c.now;
            if (auto r = svc.store.add_app_password(p); !r) return error_from(r.error());
            record_action(svc, c, "app_password_added", {{"user", c.who->account.address}, {"name", *name}});
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
