// app/security_report: the month's KPIs from the security log and the counters' daily
// totals, the month arithmetic, and the monthly mail sent once per month.
#include "app/security_report.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "app/stats.hpp"
#include "audit/log.hpp"
#include "store/store.hpp"
#include "unit/app/temp_dir.hpp"

namespace mk::app {
namespace {

constexpr std::int64_t kDec5 = 1796486400;  // 2026-12-05T00:00:00Z

// "YYYY-MM" of now, UTC: the records the tests write are this month's.
std::string this_month() {
  char month[8];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(month, sizeof month, "%Y-%m", &tm);
  return month;
}

using test::TempDir;

TEST(SecurityReportMonth, DaysAndThePreviousMonth) {
  auto nov = month_days("2026-11");
  ASSERT_TRUE(nov.ok());
  EXPECT_EQ(nov->second - nov->first, 30);
  EXPECT_EQ(nov->second, kDec5 / 86400 - 4);
  auto dec = month_days("2026-12");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->second - dec->first, 31);  // into 2027-01
  EXPECT_EQ(month_days("2028-02")->second - month_days("2028-02")->first, 29);
  for (const char* bad : {"2026-13", "2026-1", "26-11", "2026/11", "", "2026-11-01", "2026-00"})
    EXPECT_FALSE(month_days(bad).ok()) << bad;
  EXPECT_EQ(previous_month(kDec5), "2026-11");
  EXPECT_EQ(previous_month(1799020800), "2026-12");  // 2027-01-03
}

class SecurityReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreConfig sc;
    sc.backend = "sqlite";
    sc.data_dir = dir_.path;
    auto s = store::open(sc);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    log_ = dir_.path + "/security.log";
  }
  // Records as the server writes them (now, so in this month).
  void write(const std::vector<std::pair<std::string, audit::Fields>>& records) {
    auto log = audit::Log::open(log_);
    ASSERT_TRUE(log.ok());
    for (const auto& [event, fields] : records) ASSERT_TRUE((*log)->append(event, fields).ok());
  }
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::string log_;
};

TEST_F(SecurityReportTest, CountsTheMonthsRecordsAndTotals) {
  write({{"login_failed", {{"service", "imap"}, {"ip", "192.0.2.1"}, {"user", "a@example.org"}}},
         {"login_failed", {{"service", "imap"}, {"ip", "192.0.2.2"}, {"user", "a@example.org"}}},
         {"login_failed", {{"service", "submission"}, {"ip", "192.0.2.1"}, {"user", "b@example.org"}}},
         {"ban", {{"network", "192.0.2.1"}, {"service", "imap"}}},
         {"connection_refused_banned", {{"service", "imap"}, {"ip", "192.0.2.1"}}},
         {"login", {{"service", "imap"}, {"ip", "198.51.100.7"}, {"user", "a@example.org"}}},
         {"password_breached", {{"user", "b@example.org"}, {"action", "login refused"}}},
         {"outbound_hold",
          {{"user", "b@example.org"}, {"reason", "more than 10 new recipients in an hour"}, {"ip", "192.0.2.9"},
           {"held_messages", "4"}, {"stored", "yes"}, {"since", "1"}, {"sent", "10"}, {"left", "6"}}},
         {"outbound_released", {{"user", "b@example.org"}}}});
  const std::int64_t today = std::time(nullptr) / 86400;
  ASSERT_TRUE(store_
                  ->add_daily_counts({
                      {today, "mailkeep_smtp_received_total", "{tls=\"yes\",dmarc=\"pass\"}", 6},
                      {today, "mailkeep_smtp_received_total", "{tls=\"no\",dmarc=\"fail\"}", 2},
                      {today, "mailkeep_smtp_received_total", "{tls=\"no\",dmarc=\"unchecked\"}", 2},
                      {today, "mailkeep_smtp_messages_total", "{service=\"smtp\",outcome=\"accepted\",reason=\"none\"}", 5},
                      {today, "mailkeep_smtp_messages_total", "{service=\"smtp\",outcome=\"junked\",reason=\"spam\"}", 2},
                      {today, "mailkeep_smtp_messages_total", "{service=\"smtp\",outcome=\"rejected\",reason=\"dmarc_reject\"}", 1},
                      {today, "mailkeep_smtp_messages_total", "{service=\"submission\",outcome=\"contained\",reason=\"containment\"}", 3},
                      {today, "mailkeep_outbound_deliveries_total", "{result=\"delivered\",tls=\"dane\"}", 3},
                      {today, "mailkeep_outbound_deliveries_total", "{result=\"delivered\",tls=\"tls\"}", 1},
                      {today, "mailkeep_outbound_deliveries_total", "{result=\"bounced\",tls=\"tls\"}", 1},
                      {today, "mailkeep_filter_trained_total", "{as=\"ham\"}", 1},
                      {today, "mailkeep_log_shipping_seconds", "{collector=\"logs.example:6514\"}", 1000},
                      {today, "mailkeep_log_shipping_connected_seconds", "{collector=\"logs.example:6514\"}", 900},
                      // Another month: not this report's.
                      {today - 40, "mailkeep_smtp_received_total", "{tls=\"no\",dmarc=\"pass\"}", 100},
                  })
                  .ok());
  const std::string now_month = this_month();
  auto r = build_security_report(now_month, "mail.example.org", log_, *store_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->failed_logins, 3);
  EXPECT_EQ(r->failed_by_service.at("imap"), 2);
  EXPECT_EQ(r->attacking_addresses, 2);
  EXPECT_EQ(r->bans, 1);
  EXPECT_EQ(r->banned_networks, 1);
  EXPECT_EQ(r->refused_while_banned, 1);
  EXPECT_EQ(r->logins, 1);
  EXPECT_EQ(r->breached_refused, 1);
  EXPECT_EQ(r->breached_accounts, 1);
  ASSERT_EQ(r->holds.size(), 1u);
  EXPECT_EQ(r->holds[0].user, "b@example.org");
  EXPECT_EQ(r->holds[0].left_before, 6);  // 10 accepted, 4 still queued when held
  EXPECT_GT(r->holds[0].seconds_to_hold, 0);
  EXPECT_EQ(r->released, 1);
  EXPECT_EQ(r->received, 10);
  EXPECT_EQ(r->received_tls, 6);
  EXPECT_EQ(r->dmarc_checked, 8);
  EXPECT_EQ(r->dmarc_pass, 6);
  EXPECT_EQ(r->accepted, 5);
  EXPECT_EQ(r->junked, 2);
  EXPECT_EQ(r->caught_by_reason.at("spam"), 2);
  EXPECT_EQ(r->caught_by_reason.at("dmarc_reject"), 1);
  EXPECT_EQ(r->submissions_contained, 3);
  EXPECT_EQ(r->delivered, 4);
  EXPECT_EQ(r->delivered_by_tls.at("dane"), 3);
  EXPECT_EQ(r->bounced, 1);
  EXPECT_EQ(r->moved_out_of_junk, 1);
  EXPECT_EQ(r->shipping.at("logs.example:6514").connected_seconds, 900);
  EXPECT_EQ(r->log_records, 9);
  EXPECT_TRUE(r->log_verified);

  const std::string text = render_text(*r);
  EXPECT_NE(text.find("failed logins            3 (imap 2, submission 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("over TLS                 60.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("DANE 75.0%, MTA-STS 0.0%, other TLS 25.0%, plaintext 0.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("up 90.0% of the time"), std::string::npos) << text;
  EXPECT_NE(text.find("6 left before the hold, 4 queued stopped"), std::string::npos) << text;
  auto j = boost::json::parse(render_json(*r)).as_object();
  EXPECT_EQ(j["logins"].as_object()["failed"].as_int64(), 3);
  EXPECT_EQ(j["compromised"].as_object()["holds"].as_array().size(), 1u);
  EXPECT_EQ(j["sent"].as_object()["delivered_by_tls"].as_object()["dane"].as_int64(), 3);
  EXPECT_TRUE(j["security_log"].as_object()["verified"].as_bool());

  // Another month: none of it.
  auto other = build_security_report("2020-01", "mail.example.org", log_, *store_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->failed_logins, 0);
  EXPECT_EQ(other->received, 0);
  EXPECT_EQ(other->log_records, 0);
}

TEST_F(SecurityReportTest, AnEditedLogIsReportedAsNotVerifying) {
  write({{"login_failed", {{"service", "imap"}, {"ip", "192.0.2.1"}, {"user", "a"}}},
         {"login", {{"service", "imap"}, {"ip", "192.0.2.1"}, {"user", "a"}}}});
  std::ifstream in(log_);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  all.replace(all.find("192.0.2.1"), 9, "192.0.2.8");
  std::ofstream(log_, std::ios::trunc) << all;
  const std::string now_month = this_month();
  auto r = build_security_report(now_month, "h.example", log_, *store_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->log_verified);
  EXPECT_NE(render_text(*r).find("verifies                 NO: "), std::string::npos);
}

TEST(MonthlyReport, SentOncePerMonthAndNeverForAMonthBeforeTheInstance) {
  TempDir d;
  std::vector<std::string> sent;
  MonthlyReport m(d.path + "/security-report.month", [&](const std::string& month) {
    sent.push_back(month);
    return Status();
  }, {});
  m.check(kDec5);  // a new instance: nothing owed for November
  EXPECT_TRUE(sent.empty());
  m.check(kDec5 + 86400 * 20);
  EXPECT_TRUE(sent.empty());
  const std::int64_t jan2 = 1798848000 + 86400;  // 2027-01-02
  m.check(jan2);
  m.check(jan2 + 60);
  ASSERT_EQ(sent, std::vector<std::string>{"2026-12"});
  // A restart remembers it.
  MonthlyReport again(d.path + "/security-report.month", [&](const std::string& month) {
    sent.push_back(month);
    return Status();
  }, {});
  again.check(jan2 + 120);
  EXPECT_EQ(sent.size(), 1u);
  // A failure to send is not retried every minute.
  MonthlyReport failing(d.path + "/security-report.month", [&](const std::string& month) {
    sent.push_back(month);
    return Status(err("queue full"));
  }, {});
  const std::int64_t feb1 = 1801526400;  // 2027-02-01
  failing.check(feb1);
  failing.check(feb1 + 60);
  EXPECT_EQ(sent.size(), 2u);
}

TEST(StatsKeeper, AddsEachCountersIncreaseToTheDay) {
  TempDir d;
  store::StoreConfig sc;
  sc.backend = "sqlite";
  sc.data_dir = d.path;
  auto s = store::open(sc);
  ASSERT_TRUE(s.ok());
  metrics::Registry r;
  auto& dane = r.counter("mailkeep_outbound_deliveries_total", "x", {{"result", "delivered"}, {"tls", "dane"}});
  r.counter("mailkeep_not_kept_total", "y").inc(5);
  StatsKeeper keeper(r, **s, nullptr, {});
  dane.inc(3);
  keeper.tick(kDec5 + 10);
  dane.inc(2);
  keeper.tick(kDec5 + 70);
  keeper.tick(kDec5 + 130);  // nothing new: nothing written
  dane.inc(1);
  keeper.tick(kDec5 + 86400 + 10);  // the next day
  auto rows = (*s)->daily_counts(kDec5 / 86400, kDec5 / 86400 + 2);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name, "mailkeep_outbound_deliveries_total");
  EXPECT_EQ((*rows)[0].labels, "{result=\"delivered\",tls=\"dane\"}");
  EXPECT_EQ((*rows)[0].value, 5);
  EXPECT_EQ((*rows)[1].value, 1);
}

}  // namespace
}  // namespace mk::app
