// base/metrics.hpp: counters, gauges and histograms, read by the Prometheus endpoint.
//
// STANDARDS: the Prometheus text exposition format 0.0.4 (HELP, TYPE, samples; histograms as
// _bucket{le=...}, _sum and _count; label values escaped for \, " and newline).
// A Registry is made by the composition root and passed to the services that count (no global
// state). A metric kept by reference (made once with its label values) counts with one
// relaxed atomic add, never a lock or an allocation; one whose labels are known only at the
// event (an outcome, a reason) is looked up each time, under the registry's mutex.
// Values that are read rather than counted (the queue's size, a certificate's days left) come
// from collectors the registry calls on each scrape.
// SECURITY: label values come from code and configuration (service names, reasons, collector
// addresses), never from a peer: a peer cannot make the registry grow.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mk::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double d) {
    double cur = v_.load(std::memory_order_relaxed);
    while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
    }
  }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Seconds: from a millisecond to a minute (latencies of the store, DNS, deliveries).
std::vector<double> latency_buckets();
// Seconds of CPU: from 50 microseconds to a second (the work one message costs).
std::vector<double> cpu_buckets();

class Registry {
 public:
  // The same name and labels give the same metric; a name used with another type is a bug.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       const Labels& labels = {});
  // Called at the start of each render() (set gauges from the store, a certificate, ...).
  void on_scrape(std::function<void(Registry&)> collect);
  // The text exposition format, families in name order.
  std::string render();
  // Every counter of these families now: (name, rendered labels, value), for keeping totals
  // beyond the process's life (app/stats.hpp).
  struct CounterValue {
    std::string name, labels;
    std::uint64_t value = 0;
  };
  std::vector<CounterValue> counters(const std::vector<std::string>& names);

 private:
  enum class Type { counter, gauge, histogram };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by rendered label set
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(std::string_view name, std::string_view help, Type type);
  std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(Registry&)>> collectors_;
  std::mutex scrape_mu_;  // one scrape at a time runs the collectors
};

// {a="x",b="y"} ("" without labels), values escaped.
std::string render_labels(const Labels& labels);

}  // namespace mk::metrics
