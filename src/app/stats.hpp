// app/stats.hpp: counters' daily totals kept in the store, for the monthly security report.
//
// The metrics registry counts from the process's start; the report needs a month. Once a
// minute the keeper adds each kept counter's increase since its last look to the current
// day's total (store::Reports::add_daily_counts), and the seconds each log-shipping link was
// up. A write that fails is retried with the next one; what a crash loses is at most the last
// minute. The monthly report mails the admin on the first of each month (MonthlyReport).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "audit/shipper.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "store/reports.hpp"

namespace mk::app {

// The counters whose daily totals the security report reads.
const std::vector<std::string>& kept_counters();

class StatsKeeper {
 public:
  StatsKeeper(metrics::Registry& registry, store::Reports& store, const audit::Shipper* shipper, log::Logger log);
  // Adds what changed since the last call to the day of `now` (unix seconds); thread-safe.
  void tick(std::int64_t now);

 private:
  metrics::Registry& registry_;
  store::Reports& store_;
  const audit::Shipper* shipper_;
  log::Logger log_;
  std::mutex mu_;
  std::map<std::string, std::uint64_t> last_;  // name + labels -> value written so far
  std::map<std::string, std::int64_t> pending_;  // rows a failed write still owes (shipping seconds)
  std::int64_t last_tick_ = 0;
};

}  // namespace mk::app
