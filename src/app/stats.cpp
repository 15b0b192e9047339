#include "app/stats.hpp"

#include <algorithm>

namespace mk::app {
namespace {

constexpr std::int64_t kDay = 86400;
// A gap longer than this between ticks (a suspended machine, a stopped server) is not uptime.
constexpr std::int64_t kMaxTickGap = 300;

std::string shipping_labels(const std::string& collector) {
  return metrics::render_labels({{"collector", collector}});
}

}  // namespace

const std::vector<std::string>& kept_counters() {
  static const std::vector<std::string> kKept = {"mailkeep_smtp_messages_total", "mailkeep_smtp_received_total",
                                                 "mailkeep_outbound_deliveries_total",
                                                 "mailkeep_filter_trained_total"};
  return kKept;
}

StatsKeeper::StatsKeeper(metrics::Registry& registry, store::Reports& store, const audit::Shipper* shipper,
                         log::Logger log)
    : registry_(registry), store_(store), shipper_(shipper), log_(std::move(log)) {}

void StatsKeeper::tick(std::int64_t now) {
  std::lock_guard lock(mu_);
  const std::int64_t day = now / kDay;
  std::vector<store::DailyCount> rows;
  std::map<std::string, std::uint64_t> seen;
  for (const auto& c : registry_.counters(kept_counters())) {
    const std::string key = c.name + c.labels;
    seen[key] = c.value;
    const std::uint64_t before = last_.count(key) ? last_[key] : 0;
    if (c.value > before) rows.push_back({day, c.name, c.labels, std::int64_t(c.value - before)});
  }
  // Log shipping: the seconds since the last tick, for every link, and for those up.
  if (shipper_ && last_tick_ > 0 && now > last_tick_ && now - last_tick_ <= kMaxTickGap) {
    const std::int64_t elapsed = now - last_tick_;
    for (const auto& l : shipper_->state()) {
      const std::string labels = shipping_labels(l.collector);
      pending_["mailkeep_log_shipping_seconds" + labels] += elapsed;
      if (l.connected) pending_["mailkeep_log_shipping_connected_seconds" + labels] += elapsed;
    }
  }
  last_tick_ = now;
  for (const auto& [key, v] : pending_) {
    const auto brace = key.find('{');
    rows.push_back({day, key.substr(0, brace), key.substr(brace), v});
  }
  if (rows.empty()) return;
  if (!log_.ok_or_log(store_.add_daily_counts(rows), "stats.not_stored", {{"rows", rows.size()}})) return;
  for (const auto& [key, v] : seen) last_[key] = v;
  pending_.clear();
}

}  // namespace mk::app
