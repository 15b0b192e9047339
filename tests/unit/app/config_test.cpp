#include "app/config.hpp"

#include <gtest/gtest.h>

namespace mk::app {
namespace {

TEST(Config, MinimalGetsSecureDefaults) {
  auto c = parse_config("[server]\nhostname = \"mail.example.org\"\ndata_dir = \"/var/lib/mk\"\n",
                        "t.toml", "/etc");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->hostname, "mail.example.org");
  EXPECT_EQ(c->smtp.listen.size(), 2u);
  EXPECT_EQ(c->smtp.limits.max_recipients, 100u);
  EXPECT_EQ(c->tls_min, net::TlsMin::tls12);
  EXPECT_EQ(c->smtp.limits.command_timeout, std::chrono::minutes(5));
  EXPECT_FALSE(c->dev);
}

// The keys bind straight to the settings of the module they configure, whose defaults are
// the only ones: an omitted key leaves the module's default, a given one lands in its field.
TEST(Config, KeysBindToTheModulesSettings) {
  auto d = parse_config("[server]\nhostname = \"h.example\"\ndata_dir = \"d\"\n", "t.toml", "/etc");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->smtp.limits.max_message_size, smtp::Limits{}.max_message_size);
  EXPECT_EQ(d->imap.limits.idle_timeout, imap::Limits{}.idle_timeout);
  EXPECT_EQ(d->outbound.max_age, outbound::Settings{}.max_age);
  EXPECT_EQ(d->dns.message_budget, dns::Config{}.message_budget);
  EXPECT_EQ(d->security.throttle.failures_before_ban, auth::ThrottleConfig{}.failures_before_ban);
  EXPECT_EQ(d->security.sending.new_recipients_per_hour, guard::Limits{}.new_recipients_per_hour);
  EXPECT_EQ(d->spam.thresholds.junk, filter::Thresholds{}.junk);
  auto c = parse_config(
      "[server]\nhostname = \"h.example\"\ndata_dir = \"d\"\n"
      "[smtp]\nmax_message_size = \"10MiB\"\nsession_timeout = \"10m\"\n"
      "[imap]\nidle_timeout = \"31m\"\nmax_sessions_per_account = 7\n"
      "[outbound]\nretry_min = \"1m\"\ncommand_timeout = \"2m\"\n"
      "[dns]\nquery_timeout = \"2s\"\n"
      "[security]\nallow_networks = [\"10.0.0.0/8\"]\nlogin_failures_before_ban = 5\nban_time = \"1h\"\n"
      "max_new_recipients_per_hour = 9\n"
      "[spam]\njunk_score = 4\n",
      "t.toml", "/etc");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->smtp.limits.max_message_size, 10u << 20);
  EXPECT_EQ(c->smtp.limits.session_timeout, std::chrono::minutes(10));
  EXPECT_EQ(c->imap.limits.idle_timeout, std::chrono::minutes(31));
  EXPECT_EQ(c->imap.limits.max_sessions_per_account, 7u);
  EXPECT_EQ(c->outbound.min_backoff, std::chrono::minutes(1));
  // The derived rule: the wait for the end of DATA is twice the command timeout.
  EXPECT_EQ(c->outbound.data_timeout(), std::chrono::minutes(4));
  EXPECT_EQ(c->dns.query_timeout, std::chrono::seconds(2));
  ASSERT_EQ(c->security.throttle.allow.size(), 1u);
  EXPECT_TRUE(c->security.throttle.allow[0].contains(*IpAddr::parse("10.1.2.3")));
  EXPECT_EQ(c->security.throttle.failures_before_ban, 5);
  EXPECT_EQ(c->security.throttle.ban, std::chrono::hours(1));
  EXPECT_EQ(c->security.sending.new_recipients_per_hour, 9);
  EXPECT_EQ(c->spam.thresholds.junk, 4.0);
}

TEST(Config, RelativePathsResolveAgainstTheFile) {
  auto c = parse_config(
      "[server]\nhostname = \"h.example\"\ndata_dir = \"data\"\n[tls]\ncert = \"c.pem\"\nkey = \"/k.pem\"\n",
      "t.toml", "/etc/mailkeep");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "/etc/mailkeep/data");
  EXPECT_EQ(c->tls_cert, "/etc/mailkeep/c.pem");
  EXPECT_EQ(c->tls_key, "/k.pem");
}

TEST(Config, StoreBackend) {
  auto c = parse_config("[server]\nhostname = \"h.example\"\ndata_dir = \"data\"\n", "t.toml", "/etc/mailkeep");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->store.backend, "sqlite");
  EXPECT_EQ(c->store.data_dir, "/etc/mailkeep/data");  // the store keeps its data in server.data_dir
  auto bad = parse_config("[server]\nhostname = \"h.example\"\ndata_dir = \"d\"\n[store]\nbackend = \"oracle\"\n",
                          "t.toml", "/etc");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.toml:5"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("must be \"sqlite\""), std::string::npos) << bad.error().message;
}

// /metrics tells how the server is attacked: on loopback by default, elsewhere only behind a token.
TEST(Config, MetricsStayOnLoopbackUnlessATokenGuardsThem) {
  const std::string head = "[server]\nhostname = \"mail.example.org\"\ndata_dir = \"/d\"\n";
  auto c = parse_config(head, "t.toml", "/etc");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->metrics.listen.size(), 1u);
  EXPECT_EQ(c->metrics.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c->metrics.listen[0].port, kMetricsPort);
  EXPECT_TRUE(c->metrics.token_file.empty());

  auto off = parse_config(head + "[metrics]\nlisten = []\n", "t.toml", "/etc");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_TRUE(off->metrics.listen.empty());

  auto open = parse_config(head + "[metrics]\nlisten = [\"0.0.0.0:9325\", \"[::1]:9325\"]\n", "t.toml", "/etc");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("t.toml:5: metrics.listen: 0.0.0.0 is not a loopback address"), std::string::npos)
      << open.error().message;
  EXPECT_NE(open.error().message.find("metrics.token_file"), std::string::npos);
  EXPECT_EQ(open.error().message.find("::1"), std::string::npos) << "::1 is loopback";

  auto guarded = parse_config(head + "[metrics]\nlisten = [\"192.0.2.1:9325\"]\ntoken_file = \"metrics.token\"\n",
                              "t.toml", "/etc");
  ASSERT_TRUE(guarded.ok()) << guarded.error().message;
  EXPECT_EQ(guarded->metrics.token_file, "/etc/metrics.token");
}

TEST(Config, OperationalLogShippingLevel) {
  const std::string head = "[server]\nhostname = \"mail.example.org\"\ndata_dir = \"/d\"\n";
  auto d = parse_config(head, "t.toml", "/etc");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->log_remote.operational, log::Level::warn);
  auto info = parse_config(head + "[log.remote]\noperational = \"info\"\n", "t.toml", "/etc");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->log_remote.operational, log::Level::info);
  auto off = parse_config(head + "[log.remote]\noperational = \"off\"\n", "t.toml", "/etc");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(off->log_remote.operational.has_value());
  auto bad = parse_config(head + "[log.remote]\noperational = \"all\"\n", "t.toml", "/etc");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.toml:5: log.remote.operational"), std::string::npos) << bad.error().message;
}

TEST(Config, EveryErrorHasFileAndLine) {
  const std::string text =
      "[server]\n"                           // 1
      "hostname = \"mail.example.org\"\n"    // 2
      "data_dir = \"/d\"\n"                  // 3
      "hostnme = \"typo\"\n"                 // 4
      "[smtp]\n"                             // 5
      "max_recipients = 5\n"                 // 6
      "command_timeout = 300\n"              // 7
      "listen = [\"1.2.3.4\"]\n"             // 8
      "max_message_size = \"lots\"\n"        // 9
      "[tls]\n"                              // 10
      "min_version = \"1.0\"\n"              // 11
      "[imap]\n"                             // 12
      "x = 1\n";                             // 13
  auto c = parse_config(text, "mk.toml", "/");
  ASSERT_FALSE(c.ok());
  const auto& m = c.error().message;
  EXPECT_NE(m.find("mk.toml:4: unknown key \"server.hostnme\""), std::string::npos) << m;
  EXPECT_NE(m.find("mk.toml:6: smtp.max_recipients must be between 100 and 100000"), std::string::npos) << m;
  EXPECT_NE(m.find("mk.toml:7: smtp.command_timeout must be a duration string"), std::string::npos) << m;
  EXPECT_NE(m.find("mk.toml:8: smtp.listen: \"1.2.3.4\" needs a port"), std::string::npos) << m;
  EXPECT_NE(m.find("mk.toml:9: smtp.max_message_size must be a size"), std::string::npos) << m;
  EXPECT_NE(m.find("mk.toml:11: tls.min_version: must be \"1.2\" or \"1.3\""), std::string::npos) << m;
  EXPECT_NE(m.find("mk.toml:13: unknown key \"imap.x\""), std::string::npos) << m;
}

TEST(Config, SpamScores) {
  const std::string head = "[server]\nhostname = \"mail.example.org\"\ndata_dir = \"/d\"\n[spam]\n";
  auto c = parse_config(head + "tag_score = 1\njunk_score = 4.5\n", "mk.toml", "/");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->spam.thresholds.tag, 1.0);
  EXPECT_EQ(c->spam.thresholds.junk, 4.5);
  EXPECT_EQ(c->spam.thresholds.reject, 15.0);
  c = parse_config(head + "junk_score = \"high\"\n", "mk.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("mk.toml:5: spam.junk_score must be a number"), std::string::npos);
  c = parse_config(head + "junk_score = 20\n", "mk.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("[spam] needs tag_score <= junk_score <= reject_score (now 2, 20, 15)"),
            std::string::npos) << c.error().message;
  // DNS lists: zone names, scores on the right side.
  c = parse_config(head + "dnsbl = [\"ZEN.Example.org\"]\nuribl = [\"uri.example\"]\ndnswl_score = -5\n", "mk.toml", "/");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->spam.lists.dnsbl, std::vector<std::string>{"zen.example.org"});
  EXPECT_EQ(c->spam.lists.uribl, std::vector<std::string>{"uri.example"});
  EXPECT_EQ(c->spam.lists.dnswl, std::vector<std::string>{"list.dnswl.org"});  // the default (issue 18)
  EXPECT_EQ(c->spam.lists.dnswl_score, -5.0);
  // An empty list turns a kind off.
  c = parse_config(head + "dnswl = []\n", "mk.toml", "/");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->spam.lists.dnswl.empty());
  EXPECT_EQ(c->spam.lists.dnsbl, (std::vector<std::string>{"zen.spamhaus.org"}));
  c = parse_config(head + "dnsbl = [\"not a zone\"]\n", "mk.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("mk.toml:5: "), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("DNS zone names"), std::string::npos) << c.error().message;
  c = parse_config(head + "dnswl_score = 2\n", "mk.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("dnswl_score for it (<= 0)"), std::string::npos) << c.error().message;
}

TEST(Config, SpamLearning) {
  const std::string head = "[server]\nhostname = \"mail.example.org\"\ndata_dir = \"/d\"\n[spam]\n";
  auto c = parse_config(head, "mk.toml", "/");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->spam.shared_learning);  // on as shipped
  EXPECT_TRUE(c->spam.auto_learn);
  c = parse_config(head + "shared_learning = false\nauto_learn = false\n", "mk.toml", "/");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->spam.shared_learning);
  EXPECT_FALSE(c->spam.auto_learn);
  c = parse_config(head + "auto_learn = \"yes\"\n", "mk.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("mk.toml:5: spam.auto_learn must be true or false"), std::string::npos)
      << c.error().message;
}

TEST(Config, SyntaxErrorHasLine) {
  auto c = parse_config("[server]\nhostname = \n", "bad.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().message.starts_with("bad.toml:2: ")) << c.error().message;
}

TEST(Config, MissingRequiredKeys) {
  auto c = parse_config("", "e.toml", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("missing server.hostname"), std::string::npos);
  EXPECT_NE(c.error().message.find("missing server.data_dir"), std::string::npos);
}

TEST(Config, ListenForms) {
  EXPECT_EQ(parse_listen("[::1]:25")->host, "::1");
  EXPECT_EQ(parse_listen("127.0.0.1:2525")->port, 2525);
  EXPECT_FALSE(parse_listen("localhost:25").ok());
  EXPECT_FALSE(parse_listen("127.0.0.1:0").ok());
  EXPECT_FALSE(parse_listen("127.0.0.1:70000").ok());
  EXPECT_FALSE(parse_listen("[::1]25").ok());
}

}  // namespace
}  // namespace mk::app
