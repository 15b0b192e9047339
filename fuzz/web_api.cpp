// Fuzzes the JSON API and the pages as the web server answers them: HTTP bytes are read by
// http::RequestReader, routed to web::Api over a real store (a temporary directory), with
// an admin's session. "@COOKIE@" and "@CSRF@" in the input are replaced by that session's
// cookie and CSRF token, so the fuzzer reaches the admin routes' bodies and paths, not only
// the login. Never a crash, a hang or an unbounded answer.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/password.hpp"
#include "auth/throttle.hpp"
#include "base/ip.hpp"
#include "http/request_reader.hpp"
#include "http/router.hpp"
#include "web/pages.hpp"
#include "web/routes.hpp"

namespace {

using namespace mk;

struct World {
  std::unique_ptr<store::Store> store;
  // The fuzzer's address never gets banned: a ban would leave every later input only the
  // banned answer to reach.
  auth::Throttle throttle{[] {
                            auth::ThrottleConfig c;
                            c.allow.push_back(*IpNetwork::parse("192.0.2.0/24"));
                            return c;
                          }(),
                          nullptr};
  auth::LoginPolicy policy;
  std::unique_ptr<web::Sessions> sessions;
  std::unique_ptr<web::Services> services;
  std::unique_ptr<web::Api> api;
  std::unique_ptr<http::Router> router;
  std::string cookie, csrf;

  World() {
    char tmpl[] = "/tmp/mk-fuzz-web-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    store::StoreConfig c;
    c.backend = "sqlite";
    c.data_dir = dir;
    store = std::move(store::open(c).value());
    (void)store->add_domain("example.org");
    (void)store->add_account("admin@example.org", hash);
    (void)store->add_account("user@example.org", auth::hash_password("fuzzing password 2").value());
    policy.throttle = &throttle;
    web::Settings s;
    s.admins = {"admin@example.org"};
    sessions = std::make_unique<web::Sessions>(s, *store, policy, log::Logger());
    services.reset(new web::Services{*store, policy, dir + "/breached.idx", dir + "/security.log", "mail.example.org",
                                     [](const std::string&) -> Result<web::Services::DnsPlan> {
                                       return web::Services::DnsPlan{};
                                     },
                                     {}, dir + "/last-check.json", {}});
    api = std::make_unique<web::Api>(*sessions);
    web::add_session_routes(*api, *services);
    web::add_self_routes(*api, *services);
    web::add_admin_routes(*api, *services);
    web::add_share_routes(*api, *services);  // no sharer: 503, but its validation runs
    web::add_report_routes(*api, *services);
    router = std::make_unique<http::Router>("mail.example.org", [](std::string_view) { return true; });
    web::add_pages(*router);
    router->add({"GET", "POST", "PUT", "DELETE", "PATCH"}, "/api/v1/",
                [this](const http::Request& r) { return api->handle(r, 1'800'000'000); }, http::Over::https, true);
    log_in();
  }

  static http::Request request(std::string method, std::string path) {
    http::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.tls = true;
    r.remote_ip = "192.0.2.1";
    return r;
  }

  // A fresh admin session (an input may have logged the last one out).
  void log_in() {
    const http::Request login = request("POST", "/api/v1/session");
    auto l = sessions->login("admin@example.org", "fuzzing password 1", "", login, 1'800'000'000);
    if (!l.who) std::abort();  // the password or the account was changed: re-made below
    cookie = l.cookie.substr(0, l.cookie.find(';'));
    csrf = l.who->csrf;
  }

  // Puts the admin back as it was after an input changed it: its password, its sessions.
  void restore() {
    http::Request probe = request("GET", "/api/v1/me");
    probe.headers.emplace_back("cookie", cookie);
    if (sessions->who(probe, 1'800'000'000)) return;
    auto acct = store->find_account("admin@example.org");
    if (!acct || !*acct) {
      (void)store->add_account("admin@example.org", hash);
    } else {
      (void)store->set_password("admin@example.org", hash);
      (void)store->set_totp("admin@example.org", "");
    }
    log_in();
  }

  std::string hash = auth::hash_password("fuzzing password 1").value();
};

World& world() {
  static World w;
  return w;
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  std::string in(reinterpret_cast<const char*>(data), size);
  replace_all(in, "@COOKIE@", w.cookie);
  replace_all(in, "@CSRF@", w.csrf);
  http::Limits limits;
  limits.max_header_size = 8192;
  limits.max_body_size = 16384;
  http::RequestReader reader(limits);
  auto state = reader.feed(in);
  if (state == http::RequestReader::State::need_more) state = reader.end();
  if (state != http::RequestReader::State::done) return 0;
  auto req = reader.take(true, "192.0.2.1");
  if (!req) return 0;
  const http::Response r = w.router->route(*req);
  if (r.status < 100 || r.status > 599) std::abort();
  w.restore();
  return 0;
}
