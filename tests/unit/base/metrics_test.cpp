// base/metrics: the Prometheus text exposition a scrape returns, exactly.
#include "base/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mk::metrics {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  Registry r;
  r.counter("mk_connections_total", "Connections accepted.", {{"listener", "smtp"}}).inc(3);
  r.counter("mk_connections_total", "Connections accepted.", {{"listener", "imap"}}).inc();
  r.gauge("mk_open", "Open now.").set(2.5);
  auto& h = r.histogram("mk_latency_seconds", "Latency.", {0.1, 1});
  h.observe(0.0625);
  h.observe(0.5);
  h.observe(3);
  EXPECT_EQ(r.render(),
            "# HELP mk_connections_total Connections accepted.\n"
            "# TYPE mk_connections_total counter\n"
            "mk_connections_total{listener=\"imap\"} 1\n"
            "mk_connections_total{listener=\"smtp\"} 3\n"
            "# HELP mk_latency_seconds Latency.\n"
            "# TYPE mk_latency_seconds histogram\n"
            "mk_latency_seconds_bucket{le=\"0.1\"} 1\n"
            "mk_latency_seconds_bucket{le=\"1\"} 2\n"
            "mk_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "mk_latency_seconds_sum 3.5625\n"
            "mk_latency_seconds_count 3\n"
            "# HELP mk_open Open now.\n"
            "# TYPE mk_open gauge\n"
            "mk_open 2.5\n");
}

TEST(Metrics, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  auto& a = r.counter("c_total", "C.", {{"k", "v"}});
  auto& b = r.counter("c_total", "C.", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(r.gauge("c_total", "C."), std::logic_error);
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.counter("e_total", "a \\ b\nc", {{"v", "q\"b\\s\nn"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP e_total a \\\\ b\\nc\n"
            "# TYPE e_total counter\n"
            "e_total{v=\"q\\\"b\\\\s\\nn\"} 1\n");
}

TEST(Metrics, CollectorsRunAtEachScrape) {
  Registry r;
  int scrapes = 0;
  r.on_scrape([&](Registry& reg) { reg.gauge("queue_size", "Queued.").set(++scrapes * 10); });
  EXPECT_NE(r.render().find("queue_size 10\n"), std::string::npos);
  EXPECT_NE(r.render().find("queue_size 20\n"), std::string::npos);
}

TEST(Metrics, CountingFromThreadsLosesNothing) {
  Registry r;
  auto& c = r.counter("n_total", "N.");
  auto& h = r.histogram("h_seconds", "H.", latency_buckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.002);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.snapshot().cumulative.back(), 40000u);
}

}  // namespace
}  // namespace mk::metrics
