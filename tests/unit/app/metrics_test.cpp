// app/metrics: the /metrics route and its bearer token, and what is read at each scrape
// (security events from the log, the queue, the accounts held).
#include "app/metrics.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "audit/log.hpp"
#include "store/store.hpp"
#include "unit/app/temp_dir.hpp"

namespace mk::app {
namespace {

using test::TempDir;

http::Request get(std::string path, std::string authorization = {}) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  if (!authorization.empty()) r.headers.emplace_back("authorization", std::move(authorization));
  return r;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsRoute, AnswersTheExpositionAtSlashMetricsOnly) {
  metrics::Registry r;
  r.counter("mailkeep_x_total", "X.").inc(2);
  auto router = make_metrics_router(r, "", "mail.example.org");
  auto res = router->route(get("/metrics"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(has(res.body, "mailkeep_x_total 2")) << res.body;
  // The plain listener never redirects to HTTPS: any other path is simply not there.
  EXPECT_EQ(router->route(get("/")).status, 404);
  EXPECT_EQ(router->route(get("/admin/")).status, 404);
  http::Request post = get("/metrics");
  post.method = "POST";
  EXPECT_EQ(router->route(post).status, 405);
}

TEST(MetricsRoute, OnlyAddressesLocalhostAndTheServersNameAsHost) {
  metrics::Registry r;
  auto router = make_metrics_router(r, "", "mail.example.org");
  for (const char* ok : {"", "127.0.0.1", "[::1]", "localhost", "mail.example.org", "192.0.2.7"}) {
    auto req = get("/metrics");
    req.host = ok;
    EXPECT_EQ(router->route(req).status, 200) << ok;
  }
  auto rebound = get("/metrics");
  rebound.host = "attacker.example";  // DNS rebinding: a page's own name pointed at 127.0.0.1
  EXPECT_EQ(router->route(rebound).status, 403);
  // Over TLS (a listener off loopback) the same route answers.
  auto tls = get("/metrics");
  tls.tls = true;
  EXPECT_EQ(router->route(tls).status, 200);
}

TEST(MetricsRoute, ATokenIsRequiredWhenConfigured) {
  metrics::Registry r;
  const std::string token = "0123456789abcdef0123";
  auto router = make_metrics_router(r, token, "mail.example.org");
  auto none = router->route(get("/metrics"));
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(none.body.find(token) == std::string::npos);
  EXPECT_EQ(router->route(get("/metrics", "Bearer 0123456789abcdef0124")).status, 401);
  EXPECT_EQ(router->route(get("/metrics", "Bearer " + token + "x")).status, 401);
  EXPECT_EQ(router->route(get("/metrics", "Basic " + token)).status, 401);
  EXPECT_EQ(router->route(get("/metrics", "Bearer " + token)).status, 200);
}

TEST(MetricsToken, FirstLineAtLeastSixteenCharacters) {
  TempDir d;
  const std::string f = d.path + "/token";
  std::ofstream(f) << "  0123456789abcdef\r\nsecond line\n";
  ::chmod(f.c_str(), 0644);
  auto open = read_metrics_token(f);
  ASSERT_FALSE(open.ok());  // every user of the machine could read it
  EXPECT_NE(open.error().message.find("chmod o-rwx"), std::string::npos);
  ::chmod(f.c_str(), 0640);
  auto t = read_metrics_token(f);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, "0123456789abcdef");
  std::ofstream(f, std::ios::trunc) << "short\n";
  auto s = read_metrics_token(f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("at least 16 characters"), std::string::npos);
  EXPECT_FALSE(read_metrics_token(d.path + "/missing").ok());
}

// Events are counted from the log as written (by this process or a command), from start-up
// on; an event name the log should not hold (an edited file) is "other", never a new label.
TEST(MetricsScrape, CountsSecurityEventsWrittenSinceStart) {
  TempDir d;
  const std::string path = d.path + "/security.log";
  auto log = audit::Log::open(path);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(
      (*log)
          ->append("login_failed", {{"service", "imap"}, {"ip", "192.0.2.1"}, {"user", "a"}})
          .ok());
  metrics::Registry r;
  collect_at_scrape(r, MetricsSources{.queue = nullptr,
                                      .directory = nullptr,
                                      .security = nullptr,
                                      .certs = nullptr,
                                      .cert_file = "",
                                      .shipper = nullptr,
                                      .security_log = path});
  std::string text = r.render();
  EXPECT_TRUE(has(text, "mailkeep_security_events_total{event=\"login_failed\"} 0")) << text;

  ASSERT_TRUE(
      (*log)
          ->append("login_failed", {{"service", "imap"}, {"ip", "192.0.2.1"}, {"user", "a"}})
          .ok());
  ASSERT_TRUE(
      (*log)
          ->append("login_failed", {{"service", "submission"}, {"ip", "192.0.2.1"}, {"user", "a"}})
          .ok());
  ASSERT_TRUE((*log)->append("ban", {{"network", "192.0.2.1"}, {"service", "imap"}}).ok());
  ASSERT_TRUE(
      (*log)->append("login", {{"service", "ssh\"}"}, {"ip", "192.0.2.2"}, {"user", "b"}}).ok());
  ASSERT_TRUE((*log)->append("made_up_by_an_intruder", {}).ok());
  // Written by another process (a `mailkeep` command): counted too.
  auto other = audit::Log::open(path);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->append("outbound_released", {{"user", "c@example.org"}}).ok());
  text = r.render();
  EXPECT_TRUE(has(text, "mailkeep_security_events_total{event=\"login_failed\"} 2")) << text;
  EXPECT_TRUE(has(text, "mailkeep_security_events_total{event=\"ban\"} 1")) << text;
  EXPECT_TRUE(has(text, "mailkeep_security_events_total{event=\"outbound_released\"} 1")) << text;
  EXPECT_TRUE(has(text, "mailkeep_security_events_total{event=\"other\"} 1")) << text;
  EXPECT_TRUE(has(text, "mailkeep_logins_total{service=\"imap\",result=\"failed\"} 1")) << text;
  EXPECT_TRUE(has(text, "mailkeep_logins_total{service=\"submission\",result=\"failed\"} 1"))
      << text;
  EXPECT_TRUE(has(text, "mailkeep_logins_total{service=\"other\",result=\"ok\"} 1")) << text;
  EXPECT_EQ(text.find("made_up"), std::string::npos);
  // A second scrape counts nothing twice.
  EXPECT_TRUE(has(r.render(), "mailkeep_security_events_total{event=\"login_failed\"} 2"));
}

TEST(MetricsScrape, ReadsTheQueueAndHeldAccountsFromTheStore) {
  TempDir d;
  store::StoreConfig sc;
  sc.backend = "sqlite";
  sc.data_dir = d.path;
  auto s = store::open(sc);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto& st = **s;
  ASSERT_TRUE(st.add_domain("example.org").ok());
  auto a = st.add_account("a@example.org", "x");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(st.add_account("b@example.org", "x").ok());
  ASSERT_TRUE(st.set_outbound_hold(*a, "sent 50 messages to new recipients in an hour").ok());
  metrics::Registry r;
  collect_at_scrape(r, MetricsSources{.queue = &st,
                                      .directory = &st,
                                      .security = &st,
                                      .certs = nullptr,
                                      .cert_file = "",
                                      .shipper = nullptr,
                                      .security_log = ""});
  const std::string text = r.render();
  EXPECT_TRUE(has(text, "mailkeep_queue_messages 0")) << text;
  EXPECT_TRUE(has(text, "mailkeep_queue_oldest_age_seconds 0")) << text;
  EXPECT_TRUE(has(text, "mailkeep_accounts 2")) << text;
  EXPECT_TRUE(has(text, "mailkeep_accounts_held 1")) << text;
  EXPECT_TRUE(has(text, "mailkeep_bans_active 0")) << text;
  EXPECT_TRUE(has(text, "mailkeep_build_info{version=\"0.1.0\"} 1")) << text;
}

}  // namespace
}  // namespace mk::app
