// The API's gatekeeping (web/api.hpp, web/session.hpp) on a real store and security log:
// routing, logins and their cookie, CSRF, who may reach what, expiry, tokens, bodies, and the
// OpenAPI document against the route table.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "admin/accounts.hpp"
#include "auth/app_password.hpp"
#include "auth/password.hpp"
#include "auth/throttle.hpp"
#include "base/strings.hpp"
#include "unit/store/store_fixture.hpp"
#include "web/routes.hpp"

namespace mk::web {
namespace {

namespace json = boost::json;

constexpr const char* kPassword = "correct horse battery staple";
constexpr std::int64_t kNow = 1'800'000'000;

class WebApi : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto log = audit::Log::open(dir_ + "/security.log");
    ASSERT_TRUE(log.ok());
    audit_ = std::move(*log);
    policy_.audit = audit_.get();
    policy_.throttle = &throttle_;
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    const auto hash = auth::hash_password(kPassword);
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(store_->add_account("admin@example.org", *hash).ok());
    ASSERT_TRUE(store_->add_account("user@example.org", *hash).ok());
    Settings s;
    s.admins = {"admin@example.org"};
    sessions_ = std::make_unique<Sessions>(s, *store_, policy_, log::Logger());
    svc_.reset(new Services{*store_, policy_, dir_ + "/breached.idx", dir_ + "/security.log",
                                               "mail.example.org", [](const std::string& d) -> Result<Services::DnsPlan> {
                                                 return Services::DnsPlan{{setup::Record{d, "MX", 3600, "10 mx." + d + ".", "mail", d}}, {}};
                                               }, {}, dir_ + "/last-check.json", {}});
    api_ = std::make_unique<Api>(*sessions_);
    add_session_routes(*api_, *svc_);
    add_self_routes(*api_, *svc_);
    add_admin_routes(*api_, *svc_);
  }

  http::Request request(std::string method, std::string path, std::string body = "", http::Fields headers = {}) {
    http::Request r;
    r.method = std::move(method);
    auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = path.substr(q + 1);
    r.host = "mail.example.org";
    r.tls = true;
    r.remote_ip = "192.0.2.10";
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    for (auto& h : headers) r.headers.push_back(std::move(h));
    return r;
  }

  struct Who {
    std::string cookie;  // "name=value"
    std::string csrf;
  };
  Who login(const std::string& address) {
    auto res = api_->handle(request("POST", "/api/v1/session",
                                    json::serialize(json::object{{"address", address}, {"password", kPassword}})),
                            kNow);
    EXPECT_EQ(res.status, 200) << res.body;
    Who w;
    for (const auto& [k, v] : res.headers)
      if (k == "Set-Cookie") w.cookie = v.substr(0, v.find(';'));
    if (res.status == 200) w.csrf = std::string(json::parse(res.body).at("csrf").as_string());
    return w;
  }
  http::Response call(const Who& w, std::string method, std::string path, std::string body = "", bool csrf = true,
                      std::int64_t now = kNow) {
    http::Fields h{{"cookie", "theme=dark; " + w.cookie}};
    if (csrf) h.emplace_back("x-csrf-token", w.csrf);
    return api_->handle(request(std::move(method), std::move(path), std::move(body), std::move(h)), now);
  }
  std::string audit_text() {
    std::ifstream in(dir_ + "/security.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static std::string code(const http::Response& r) {
    return std::string(json::parse(r.body).at("error").at("code").as_string());
  }

  std::unique_ptr<audit::Log> audit_;
  auth::Throttle throttle_{auth::ThrottleConfig{}, nullptr};
  auth::LoginPolicy policy_;
  std::unique_ptr<Sessions> sessions_;
  std::unique_ptr<Services> svc_;
  std::unique_ptr<Api> api_;
};

TEST_F(WebApi, UnknownRoutesAndMethods) {
  auto r = api_->handle(request("GET", "/api/v1/nothing"), kNow);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  r = api_->handle(request("PATCH", "/api/v1/domains"), kNow);
  EXPECT_EQ(r.status, 405);
  bool allow = false;
  for (const auto& [k, v] : r.headers) allow |= k == "Allow" && v == "GET, POST, HEAD";
  EXPECT_TRUE(allow);
}

TEST_F(WebApi, LoginSetsAStrictCookieAndAFailureIsCountedAndRecorded) {
  auto res = api_->handle(
      request("POST", "/api/v1/session", R"({"address":"admin@example.org","password":"wrong"})"), kNow);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(code(res), "login_failed");
  EXPECT_NE(audit_text().find("login_failed"), std::string::npos);
  res = api_->handle(request("POST", "/api/v1/session",
                             json::serialize(json::object{{"address", "ADMIN@example.org"}, {"password", kPassword}})),
                     kNow);
  ASSERT_EQ(res.status, 200);
  std::string set_cookie;
  for (const auto& [k, v] : res.headers)
    if (k == "Set-Cookie") set_cookie = v;
  EXPECT_TRUE(set_cookie.starts_with("__Host-mk_session=")) << set_cookie;
  for (const char* attr : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"})
    EXPECT_NE(set_cookie.find(attr), std::string::npos) << attr;
  auto body = json::parse(res.body);
  EXPECT_EQ(body.at("address").as_string(), "admin@example.org");
  EXPECT_TRUE(body.at("admin").as_bool());
  // The secret is not stored, only its hash.
  const std::string secret = set_cookie.substr(18, set_cookie.find(';') - 18);
  EXPECT_FALSE(store_->web_session(secret)->has_value());
  EXPECT_EQ(audit_text().find(secret), std::string::npos);
}

TEST_F(WebApi, ChangesNeedTheSessionsCsrfToken) {
  const Who admin = login("admin@example.org");
  auto r = call(admin, "POST", "/api/v1/domains", R"({"name":"new.example"})", false);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "csrf");
  Who forged = admin;
  forged.csrf = (admin.csrf[0] == 'x' ? "y" : "x") + admin.csrf.substr(1);
  EXPECT_EQ(call(forged, "POST", "/api/v1/domains", R"({"name":"new.example"})").status, 403);
  EXPECT_FALSE(*store_->has_domain("new.example"));
  r = call(admin, "POST", "/api/v1/domains", R"({"name":"New.Example"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(*store_->has_domain("new.example"));
  EXPECT_EQ(store_->dkim_keys("new.example")->size(), 2u);
  const std::string log = audit_text();
  EXPECT_NE(log.find("web_action"), std::string::npos);
  EXPECT_NE(log.find("domain_added"), std::string::npos);
  EXPECT_NE(log.find("admin@example.org"), std::string::npos);
  // Reading needs no token.
  EXPECT_EQ(call(admin, "GET", "/api/v1/domains", "", false).status, 200);
}

TEST_F(WebApi, AUserReachesOnlyTheirOwnAccount) {
  const Who admin = login("admin@example.org");
  const Who user = login("user@example.org");
  EXPECT_EQ(call(user, "GET", "/api/v1/accounts").status, 403);
  EXPECT_EQ(call(user, "GET", "/api/v1/accounts/admin@example.org").status, 403);
  EXPECT_EQ(call(user, "POST", "/api/v1/domains", R"({"name":"x.example"})").status, 403);
  auto me = call(user, "GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(json::parse(me.body).at("address").as_string(), "user@example.org");
  // The admin's session, named by its id from the user's session: not the user's to end.
  const auto admin_id = (*store_->web_sessions((*store_->find_account("admin@example.org"))->id))[0].id;
  EXPECT_EQ(call(user, "DELETE", "/api/v1/me/sessions/" + std::to_string(admin_id)).status, 404);
  EXPECT_EQ(call(admin, "GET", "/api/v1/me").status, 200);
  // A user's CSRF token does not open the admin's session, nor the other way round.
  Who mixed{admin.cookie, user.csrf};
  EXPECT_EQ(call(mixed, "DELETE", "/api/v1/session").status, 403);
  // Nobody logged in.
  EXPECT_EQ(api_->handle(request("GET", "/api/v1/me"), kNow).status, 401);
}

TEST_F(WebApi, SessionsEndWhenIdleWhenOldAndAtLogout) {
  const Who admin = login("admin@example.org");
  const auto& s = sessions_->settings();
  const std::int64_t idle = whole_seconds(s.idle), absolute = whole_seconds(s.absolute);
  EXPECT_EQ(call(admin, "GET", "/api/v1/me", "", true, kNow + idle - 1).status, 200);
  // Used just now: idle counts from there; never beyond the absolute age.
  std::int64_t t = kNow + idle - 1;
  while (t + idle - 1 < kNow + absolute) {
    t += idle - 1;
    ASSERT_EQ(call(admin, "GET", "/api/v1/me", "", true, t).status, 200);
  }
  EXPECT_EQ(call(admin, "GET", "/api/v1/me", "", true, kNow + absolute + 1).status, 401);
  const Who again = login("admin@example.org");
  EXPECT_EQ(call(again, "GET", "/api/v1/me", "", true, kNow + idle + 1).status, 401);
  const Who third = login("admin@example.org");
  EXPECT_EQ(call(third, "DELETE", "/api/v1/session").status, 204);
  EXPECT_EQ(call(third, "GET", "/api/v1/me").status, 401);
}

TEST_F(WebApi, TokensActAsTheirAdminWithinTheirScope) {
  const Who admin = login("admin@example.org");
  auto r = call(admin, "POST", "/api/v1/tokens", R"({"name":"backup","password":"correct horse battery staple"})");
  ASSERT_EQ(r.status, 201);
  const std::string read = std::string(json::parse(r.body).at("token").as_string());
  // The password is asked again: a stolen session alone makes no lasting credential.
  EXPECT_EQ(call(admin, "POST", "/api/v1/tokens", R"({"name":"deploy","write":true})").status, 400);
  EXPECT_EQ(call(admin, "POST", "/api/v1/tokens", R"({"name":"deploy","write":true,"password":"wrong"})").status, 403);
  r = call(admin, "POST", "/api/v1/tokens", R"({"name":"deploy","write":true,"password":"correct horse battery staple"})");
  ASSERT_EQ(r.status, 201);
  const std::string write = std::string(json::parse(r.body).at("token").as_string());
  auto bearer = [&](const std::string& t, std::string method, std::string path, std::string body = "") {
    return api_->handle(request(std::move(method), std::move(path), std::move(body), {{"authorization", "Bearer " + t}}),
                        kNow);
  };
  EXPECT_EQ(bearer(read, "GET", "/api/v1/accounts").status, 200);
  // A token is for the admin routes only: not the admin's own account, nor more tokens.
  EXPECT_EQ(bearer(write, "POST", "/api/v1/me/app-passwords", R"({"name":"stolen"})").status, 403);
  EXPECT_EQ(bearer(write, "POST", "/api/v1/tokens", R"({"name":"more","write":true})").status, 403);
  EXPECT_EQ(bearer(write, "GET", "/api/v1/me").status, 403);
  EXPECT_EQ(bearer(write, "DELETE", "/api/v1/session").status, 403);
  EXPECT_NE(audit_text().find("web_denied"), std::string::npos);
  EXPECT_EQ(bearer(read, "POST", "/api/v1/domains", R"({"name":"r.example"})").status, 403);
  EXPECT_EQ(bearer(write, "POST", "/api/v1/domains", R"({"name":"w.example"})").status, 201);
  r = bearer("mkt_not-a-token", "GET", "/api/v1/accounts");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(audit_text().find("\"service\":\"web\""), std::string::npos);
  EXPECT_EQ(call(admin, "DELETE", "/api/v1/tokens/backup").status, 204);
  EXPECT_EQ(bearer(read, "GET", "/api/v1/accounts").status, 401);
  // A token acts only while its maker is an admin: after that it opens nothing.
  Settings none;
  Sessions demoted(none, *store_, policy_, log::Logger());
  Api other(demoted);
  add_admin_routes(other, *svc_);
  EXPECT_EQ(other.handle(request("GET", "/api/v1/accounts", "", {{"authorization", "Bearer " + write}}), kNow).status, 401);
}

TEST_F(WebApi, BodiesAreCheckedBeforeAnythingIsDone) {
  const Who admin = login("admin@example.org");
  http::Fields h{{"cookie", admin.cookie}, {"x-csrf-token", admin.csrf}};
  auto req = request("POST", "/api/v1/domains", "", h);
  req.body = "name=x.example";
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  EXPECT_EQ(api_->handle(req, kNow).status, 415);
  // Login CSRF: a cross-site form can send only text/plain or form bodies without a CORS
  // preflight; the login takes neither, and a preflight is never allowed.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
    auto login_req = request("POST", "/api/v1/session");
    login_req.body = R"({"address":"admin@example.org","password":"correct horse battery staple"})";
    login_req.headers.emplace_back("content-type", type);
    auto res = api_->handle(login_req, kNow);
    EXPECT_EQ(res.status, 415) << type;
    for (const auto& [k, v] : res.headers) EXPECT_NE(k, "Set-Cookie") << type;
  }
  auto preflight = api_->handle(request("OPTIONS", "/api/v1/session", "",
                                        {{"origin", "https://evil.example"}, {"access-control-request-method", "POST"}}),
                                kNow);
  EXPECT_EQ(preflight.status, 405);
  for (const auto& [k, v] : preflight.headers) EXPECT_FALSE(iequals(k.substr(0, 12), "access-contr")) << k;
  EXPECT_EQ(call(admin, "POST", "/api/v1/domains", "{\"name\":").status, 400);
  EXPECT_EQ(call(admin, "POST", "/api/v1/domains", "[1]").status, 400);
  EXPECT_EQ(call(admin, "POST", "/api/v1/domains", R"({"name":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}})").status,
            400);
  auto r = call(admin, "POST", "/api/v1/domains", R"({"name":7})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\\\"name\\\""), std::string::npos) << r.body;
  r = call(admin, "POST", "/api/v1/domains", R"({"name":"not a domain"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(call(admin, "POST", "/api/v1/accounts", R"({"address":"x@example.org","password":"short"})").status, 400);
  EXPECT_FALSE(store_->find_account("x@example.org")->has_value());
  EXPECT_EQ(call(admin, "DELETE", "/api/v1/me/sessions/1x").status, 404);
  // The body must be what the schema says: no unknown fields, each of its type.
  r = call(admin, "POST", "/api/v1/tokens", R"({"name":"t","write":"true"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("must be a boolean"), std::string::npos) << r.body;
  r = call(admin, "POST", "/api/v1/domains", R"({"name":"a.example","owner":"x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown field"), std::string::npos) << r.body;
  r = call(admin, "POST", "/api/v1/accounts", R"({"address":"x@example.org"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\\\"password\\\" is missing"), std::string::npos) << r.body;
  EXPECT_FALSE(*store_->has_domain("a.example"));
}

// A route has one spelling: another one ("//", a trailing slash) is no route at all, so
// nothing decided from the path (the login pool) can be dodged.
TEST_F(WebApi, OnlyTheCanonicalPathIsARoute) {
  for (const char* p : {"/api/v1//session", "/api/v1/session/", "/api//v1/session"}) {
    auto r = api_->handle(request("POST", p, R"({"address":"admin@example.org","password":"x"})"), kNow);
    EXPECT_EQ(r.status, 404) << p;
  }
  EXPECT_EQ(audit_text().find("login_failed"), std::string::npos);  // no password was checked
}

// A path parameter is percent-decoded (RFC 3986 §2.1, hex digits of either case); a malformed
// or cut escape, and an escaped slash or NUL, make the path no route.
TEST_F(WebApi, PathParametersArePercentDecoded) {
  const Who admin = login("admin@example.org");
  for (const char* p :
       {"/api/v1/accounts/user%40example.org", "/api/v1/accounts/user%40example%2eorg",
        "/api/v1/accounts/%75ser@example.org", "/api/v1/accounts/%75ser@example%2Eorg"})
    EXPECT_EQ(call(admin, "GET", p).status, 200) << p;
  for (const char* p :
       {"/api/v1/accounts/user%4", "/api/v1/accounts/user%", "/api/v1/accounts/user%g0example.org",
        "/api/v1/accounts/user%4gexample.org", "/api/v1/accounts/us%2Fer@example.org",
        "/api/v1/accounts/us%00er@example.org"}) {
    const auto r = call(admin, "GET", p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_NE(r.body.find("no such API route"), std::string::npos) << p << ": " << r.body;
  }
  // A well-formed escape of an account there is not: the route is found, the account is not.
  const auto r = call(admin, "GET", "/api/v1/accounts/nobody%40example.org");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body.find("no such API route"), std::string::npos) << r.body;
}

TEST_F(WebApi, ABannedNetworkGetsNothingAndIsDisconnected) {
  auth::ThrottleConfig tc;
  tc.failures_before_ban = 3;
  auth::Throttle strict(tc, nullptr);
  policy_.throttle = &strict;
  const Who admin = login("admin@example.org");
  for (int i = 0; i < 3; ++i)
    api_->handle(request("POST", "/api/v1/session", R"({"address":"admin@example.org","password":"wrong"})"), kNow);
  auto r = call(admin, "GET", "/api/v1/me");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.close);
  // The password check of the account page passes the same gate.
  auto other = request("PUT", "/api/v1/me/password", R"({"current":"x","new":"y"})",
                       {{"cookie", admin.cookie}, {"x-csrf-token", admin.csrf}});
  other.remote_ip = "192.0.2.10";
  EXPECT_EQ(api_->handle(other, kNow).status, 403);
  policy_.throttle = &throttle_;
}

TEST_F(WebApi, IPv6BansAreLiftedByTheirAddress) {
  const Who admin = login("admin@example.org");
  ASSERT_TRUE(store_->put_ban(store::Ban{"2001:db8:1:2::/64", kNow + 600, 1, "test", kNow}).ok());
  EXPECT_EQ(call(admin, "DELETE", "/api/v1/bans/2001:db8:1:2::").status, 204);
  EXPECT_TRUE(store_->list_bans()->empty());
}

TEST_F(WebApi, APasswordChangeEndsTheOtherSessionsAndCapsHold) {
  const Who one = login("user@example.org");
  const Who two = login("user@example.org");
  auto r = call(two, "PUT", "/api/v1/me/password",
                R"({"current":"correct horse battery staple","new":"an entirely new passphrase here"})");
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(call(one, "GET", "/api/v1/me").status, 401);
  EXPECT_EQ(call(two, "GET", "/api/v1/me").status, 200);
  const auto two_id = (*store_->find_account("user@example.org"))->id;
  for (std::size_t i = 1; i < admin::kMaxAppPasswords; ++i) {
    store::AppPassword p{0, two_id, "c" + std::to_string(i), std::string(64, 'a'), "imap", kNow, 0, ""};
    ASSERT_TRUE(store_->add_app_password(p).ok());
  }
  ASSERT_EQ(call(two, "POST", "/api/v1/me/app-passwords", R"({"name":"c0","password":"an entirely new passphrase here"})")
                .status,
            201);
  EXPECT_EQ(call(two, "POST", "/api/v1/me/app-passwords",
                 R"({"name":"one-too-many","password":"an entirely new passphrase here"})").status,
            409);
}

TEST_F(WebApi, TheOpenApiDocumentNamesEveryRouteOnce) {
  auto doc = json::parse(api_->openapi("https://mail.example.org"));
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  std::size_t ops = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    EXPECT_TRUE(path.starts_with("/api/v1/")) << path;
    for (const auto& [method, op] : item.as_object()) {
      ++ops;
      EXPECT_TRUE(op.as_object().contains("responses")) << method << " " << path;
      // Calling it answers something other than "no such route".
      std::string concrete(path);
      for (auto p = concrete.find('{'); p != std::string::npos; p = concrete.find('{'))
        concrete.replace(p, concrete.find('}', p) - p + 1, "x");
      auto r = api_->handle(request(std::string(to_upper(std::string(method))), concrete), kNow);
      EXPECT_FALSE(r.status == 404 && r.body.find("no such API route") != std::string::npos) << method << " " << path;
      EXPECT_NE(r.status, 405) << method << " " << path;
    }
  }
  EXPECT_GE(ops, 30u);
}

// Recovery after a hold: asking mails the admin; releasing oneself needs [web] self_release,
// the current password and a new one, revokes the app passwords, and ends the hold.
TEST_F(WebApi, AHeldUserAsksOrReleasesWithANewPassword) {
  std::vector<std::string> mailed;
  svc_->tell_admin = [&mailed](const std::string& subject, const std::string&) { mailed.push_back(subject); };
  const auto user = *store_->find_account("user@example.org");
  ASSERT_TRUE(store_->set_outbound_hold(user->id, "more than 5 new recipients in an hour").ok());
  store::AppPassword p{0, user->id, "phone", std::string(64, 'a'), "imap", kNow, 0, ""};
  ASSERT_TRUE(store_->add_app_password(p).ok());
  const Who w = login("user@example.org");
  auto me = json::parse(call(w, "GET", "/api/v1/me").body);
  EXPECT_EQ(me.at("held").as_string(), "more than 5 new recipients in an hour");
  EXPECT_FALSE(me.at("self_release").as_bool());
  EXPECT_EQ(call(w, "POST", "/api/v1/me/hold/request", R"({"note":"it was not me"})").status, 204);
  EXPECT_EQ(mailed, (std::vector<std::string>{"Release requested: user@example.org"}));
  EXPECT_EQ(call(w, "POST", "/api/v1/me/hold/request", R"({"note":"again"})").status, 429);  // once an hour
  EXPECT_EQ(mailed.size(), 1u);
  const std::string body =
      R"({"current":"correct horse battery staple","new":"a brand new long passphrase"})";
  EXPECT_EQ(call(w, "POST", "/api/v1/me/hold/release", body).status, 403);  // not allowed here
  // Where the admin allows it.
  Settings allow;
  allow.admins = {"admin@example.org"};
  allow.self_release = true;
  Sessions permissive(allow, *store_, policy_, log::Logger());
  Api other(permissive);
  add_session_routes(other, *svc_);
  add_self_routes(other, *svc_);
  auto post = [&](const std::string& b) {
    return other.handle(request("POST", "/api/v1/me/hold/release", b, {{"cookie", w.cookie}, {"x-csrf-token", w.csrf}}),
                        kNow);
  };
  EXPECT_EQ(post(R"({"current":"wrong","new":"a brand new long passphrase"})").status, 403);
  EXPECT_EQ(post(R"({"current":"correct horse battery staple","new":"correct horse battery staple"})").status, 400);
  // A forward set before the hold may be the intruder's: the release ends it.
  ASSERT_TRUE(store_->set_forward(user->id, "thief@elsewhere.example", false).ok());
  auto r = post(body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("app_passwords_revoked").as_int64(), 1);
  EXPECT_EQ(json::parse(r.body).at("forward_removed").as_string(), "thief@elsewhere.example");
  EXPECT_TRUE((*store_->find_account("user@example.org"))->forward_to.empty());
  EXPECT_TRUE((*store_->find_account("user@example.org"))->outbound_hold.empty());
  EXPECT_TRUE(store_->app_passwords(user->id)->empty());
  EXPECT_NE(audit_text().find("outbound_self_released"), std::string::npos);
  EXPECT_EQ(mailed.size(), 2u);
  EXPECT_EQ(post(body).status, 409);  // not held any more
}

// A user's activity lists their own records only: not another account's logins or failures.
// Forwarding: a user sets it with their password (never while held), the target is checked
// (not itself, not an alias or an unknown address here), the account is mailed, the change is
// in the security log; turning it off needs no password; an admin sets anyone's.
TEST_F(WebApi, AUserForwardsTheirMailWithTheirPassword) {
  std::vector<std::pair<std::string, std::string>> mailed;
  svc_->tell_user = [&mailed](const std::string& to, const std::string& subject, const std::string&) {
    mailed.emplace_back(to, subject);
  };
  ASSERT_TRUE(store_->add_alias("team@example.org", "user@example.org").ok());
  const Who w = login("user@example.org");
  auto f = json::parse(call(w, "GET", "/api/v1/me/forward").body);
  EXPECT_EQ(f.at("to").as_string(), "");
  EXPECT_TRUE(f.at("allowed").as_bool());
  auto put = [&](const std::string& body, bool csrf = true) { return call(w, "PUT", "/api/v1/me/forward", body, csrf); };
  const std::string good = R"({"to":"Me@Elsewhere.Example","keep":false,"password":"correct horse battery staple"})";
  EXPECT_EQ(put(good, false).status, 403);  // no CSRF token
  EXPECT_EQ(put(R"({"to":"me@elsewhere.example","password":"wrong"})").status, 403);
  EXPECT_EQ(put(R"({"to":"me@elsewhere.example"})").status, 400);  // no password
  const std::string pw = R"(,"password":"correct horse battery staple"})";
  for (const char* bad : {"user@example.org", "USER@example.org", "team@example.org", "nobody@example.org", "not an address",
                          "x@[127.0.0.1]", ""}) {
    auto r = put(std::string(R"({"to":)") + json::serialize(json::value(bad)) + pw);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }
  EXPECT_EQ(put(R"({"to":"me@elsewhere.example","keep":"yes")" + pw).status, 400);
  EXPECT_TRUE((*store_->find_account("user@example.org"))->forward_to.empty());
  EXPECT_TRUE(mailed.empty());
  auto r = put(good);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("to").as_string(), "Me@elsewhere.example");
  auto a = *store_->find_account("user@example.org");
  EXPECT_EQ(a->forward_to, "Me@elsewhere.example");
  EXPECT_FALSE(a->forward_keep);
  ASSERT_EQ(mailed.size(), 1u);
  EXPECT_EQ(mailed[0].first, "user@example.org");
  EXPECT_NE(audit_text().find(R"("action":"forward_set")"), std::string::npos);
  auto events = json::parse(call(w, "GET", "/api/v1/me/events").body).as_array();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].at("to").as_string(), "Me@elsewhere.example");
  // Another account here is a valid target.
  EXPECT_EQ(put(R"({"to":"admin@example.org")" + pw).status, 200);
  EXPECT_EQ(mailed.back(), (std::pair<std::string, std::string>{"admin@example.org",
                                                                 "user@example.org now forwards its mail to you"}));
  // Held: it pauses and cannot be set, but it can be turned off.
  ASSERT_TRUE(store_->set_outbound_hold(a->id, "more than 5 new recipients in an hour").ok());
  f = json::parse(call(w, "GET", "/api/v1/me/forward").body);
  EXPECT_TRUE(f.at("paused").as_bool());
  EXPECT_EQ(put(good).status, 409);
  EXPECT_EQ(call(w, "DELETE", "/api/v1/me/forward").status, 204);
  EXPECT_TRUE((*store_->find_account("user@example.org"))->forward_to.empty());
  EXPECT_NE(audit_text().find(R"("action":"forward_removed")"), std::string::npos);
  ASSERT_TRUE(store_->set_outbound_hold(a->id, "").ok());
  // The admin sets it for the user (and the user is told); a user cannot reach that route.
  EXPECT_EQ(call(w, "PUT", "/api/v1/accounts/user@example.org/forward", R"({"to":"x@elsewhere.example"})").status, 403);
  const Who adm = login("admin@example.org");
  r = call(adm, "PUT", "/api/v1/accounts/user@example.org/forward", R"({"to":"x@elsewhere.example"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("forward_to").as_string(), "x@elsewhere.example");
  EXPECT_TRUE(json::parse(r.body).at("forward_keep").as_bool());
  EXPECT_EQ(mailed.back().first, "user@example.org");
  EXPECT_EQ(call(adm, "DELETE", "/api/v1/accounts/user@example.org/forward").status, 204);
  EXPECT_TRUE((*store_->find_account("user@example.org"))->forward_to.empty());
  // Not with an API token, even one that may write: a leaked token must not divert mail.
  auto token = call(adm, "POST", "/api/v1/tokens", R"({"name":"deploy","write":true,"password":"correct horse battery staple"})");
  ASSERT_EQ(token.status, 201) << token.body;
  const std::string bearer = "Bearer " + std::string(json::parse(token.body).at("token").as_string());
  auto with_token = api_->handle(request("PUT", "/api/v1/accounts/user@example.org/forward", R"({"to":"x@elsewhere.example"})",
                                         {{"authorization", bearer}}), kNow);
  EXPECT_EQ(with_token.status, 403) << with_token.body;
  EXPECT_TRUE((*store_->find_account("user@example.org"))->forward_to.empty());
  // Where the admin keeps forwarding to themselves, users are refused.
  Settings off;
  off.self_forwarding = false;
  Sessions strict(off, *store_, policy_, log::Logger());
  Api other(strict);
  add_session_routes(other, *svc_);
  add_self_routes(other, *svc_);
  auto refused = other.handle(request("PUT", "/api/v1/me/forward", good, {{"cookie", w.cookie}, {"x-csrf-token", w.csrf}}), kNow);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(code(refused), "not_allowed");
  // ...and cannot remove a forward the admin set.
  ASSERT_TRUE(store_->set_forward((*store_->find_account("user@example.org"))->id, "boss@elsewhere.example", true).ok());
  refused = other.handle(request("DELETE", "/api/v1/me/forward", "", {{"cookie", w.cookie}, {"x-csrf-token", w.csrf}}), kNow);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ((*store_->find_account("user@example.org"))->forward_to, "boss@elsewhere.example");
}

// Credentials that outlive a session are made with the password, are mailed about, and carry
// names a URL path can name again (to revoke them); an alias cannot take an account's
// addresses, and a token cannot make aliases (they forward elsewhere).
TEST_F(WebApi, LastingCredentialsAndAliasesNeedMoreThanASessionOrAToken) {
  std::vector<std::string> mailed;
  svc_->tell_user = [&mailed](const std::string& to, const std::string& subject, const std::string&) {
    mailed.push_back(to + ": " + subject);
  };
  const Who user = login("user@example.org");
  const std::string pw = R"(,"password":"correct horse battery staple"})";
  for (const char* bad : {"work/phone", ".", "..", "tab\there", ""})
    EXPECT_EQ(call(user, "POST", "/api/v1/me/app-passwords", std::string(R"({"name":)") +
                                                                   json::serialize(json::value(bad)) + pw).status,
              400)
        << bad;
  EXPECT_EQ(call(user, "POST", "/api/v1/me/app-passwords", R"({"name":"phone"})").status, 400);  // no password
  EXPECT_TRUE(mailed.empty());
  ASSERT_EQ(call(user, "POST", "/api/v1/me/app-passwords", R"({"name":"Téléphone de Zoé")" + pw).status, 201);
  EXPECT_EQ(mailed, std::vector<std::string>{"user@example.org: A new app password: Téléphone de Zoé"});
  EXPECT_EQ(call(user, "DELETE", "/api/v1/me/app-passwords/T%C3%A9l%C3%A9phone%20de%20Zo%C3%A9").status, 204);

  const Who adm = login("admin@example.org");
  EXPECT_EQ(call(adm, "POST", "/api/v1/tokens", R"({"name":"ci/deploy")" + pw).status, 400);
  auto t = call(adm, "POST", "/api/v1/tokens", R"({"name":"ci","write":true)" + pw);
  ASSERT_EQ(t.status, 201) << t.body;
  EXPECT_EQ(mailed.back(), "admin@example.org: A new API token: ci");
  const std::string bearer = "Bearer " + std::string(json::parse(t.body).at("token").as_string());
  auto by_token = api_->handle(request("POST", "/api/v1/aliases", R"({"address":"x@example.org","target":"t@evil.example"})",
                                       {{"authorization", bearer}}),
                               kNow);
  EXPECT_EQ(by_token.status, 403);
  EXPECT_EQ(call(adm, "POST", "/api/v1/aliases", R"({"address":"user@example.org","target":"t@evil.example"})").status, 400);
  EXPECT_EQ(call(adm, "POST", "/api/v1/aliases", R"({"address":"user+bank@example.org","target":"t@evil.example"})").status,
            400);
  EXPECT_EQ(call(adm, "POST", "/api/v1/aliases", R"({"address":"help@example.org","target":"user@example.org"})").status,
            201);
}

TEST_F(WebApi, AUsersEventsAreTheirOwn) {
  api_->handle(request("POST", "/api/v1/session", R"({"address":"admin@example.org","password":"wrong"})"), kNow);
  const Who admin = login("admin@example.org");
  const Who user = login("user@example.org");
  ASSERT_EQ(call(user, "POST", "/api/v1/me/app-passwords", R"({"name":"tablet","password":"correct horse battery staple"})").status, 201);
  auto r = call(user, "GET", "/api/v1/me/events");
  ASSERT_EQ(r.status, 200);
  const auto events = json::parse(r.body).as_array();
  ASSERT_EQ(events.size(), 2u) << r.body;  // newest first: the app password, then the login
  EXPECT_EQ(events[0].at("action").as_string(), "app_password_added");
  EXPECT_EQ(events[1].at("event").as_string(), "login");
  EXPECT_EQ(r.body.find("admin@example.org"), std::string::npos);
  EXPECT_EQ(json::parse(call(admin, "GET", "/api/v1/me/events").body).as_array().size(), 2u);  // failure, login
}

// A second factor that is on is not replaced by a session and a password alone.
TEST_F(WebApi, AnEnabledSecondFactorIsNotReplacedWithoutACode) {
  ASSERT_TRUE(store_->set_totp("user@example.org", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").ok());
  // Logging in needs the code now: take the session straight from the store's side.
  const auto user = *store_->find_account("user@example.org");
  store::WebSession ws{0, user->id, auth::app_password_hash("secret-of-test-session"), "csrf-token", kNow, kNow,
                       "192.0.2.10", "test"};
  ASSERT_TRUE(store_->add_web_session(ws).ok());
  Who w{"__Host-mk_session=secret-of-test-session", "csrf-token"};
  auto r = call(w, "PUT", "/api/v1/me/totp",
                R"({"secret":"KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF","code":"123456","password":"correct horse battery staple"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ((*store_->find_account("user@example.org"))->totp_secret, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  EXPECT_EQ(call(w, "DELETE", "/api/v1/me/totp?code=000000").status, 403);
}

// The admin reads a held message as text: its header fields decoded, its plain text.
TEST_F(WebApi, AQueuedMessageIsShownAsText) {
  const Who admin = login("admin@example.org");
  const auto user = *store_->find_account("user@example.org");
  store::NewMessage m;
  m.data = std::make_shared<const std::string>(
      "From: User <user@example.org>\r\nTo: x@remote.example\r\nSubject: =?UTF-8?B?w6ljaGFudGlsbG9u?=\r\n"
      "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n"
      "<script>alert(1)</script>\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 <b>\r\n--b--\r\n");
  m.mail_from = "user@example.org";
  m.sender_account = user->id;
  m.outbound.push_back(store::OutboundRcpt{"x@remote.example", ""});
  ASSERT_TRUE(store_->deliver_sync(m).ok());
  auto q = store_->list_queue();
  ASSERT_EQ(q->size(), 1u);
  auto r = call(admin, "GET", "/api/v1/queue/" + std::to_string((*q)[0].id));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = json::parse(r.body);
  EXPECT_EQ(v.at("text").as_string(), "Café <b>");  // the part ends before the CRLF of its boundary
  bool subject = false;
  for (const auto& f : v.at("header").as_array())
    subject |= f.at("name").as_string() == "Subject" && f.at("value").as_string() == "échantillon";
  EXPECT_TRUE(subject) << r.body;
  EXPECT_EQ(call(admin, "GET", "/api/v1/queue/999999").status, 404);
}

}  // namespace
}  // namespace mk::web
