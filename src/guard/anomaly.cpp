#include "guard/anomaly.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mk::guard {

std::optional<std::string> burst(const store::Reputation::SendBaseline& baseline, int messages_hour, int new_hour,
                                 const AnomalyThresholds& t) {
  if (baseline.active_days < t.baseline_days) return std::nullopt;  // too little history to judge
  const int max_messages = std::max(t.burst_floor_messages, t.burst_factor * baseline.peak_messages);
  if (messages_hour > max_messages)
    return fmt::format("{} messages in an hour, far above its busiest hour of the past weeks ({})", messages_hour,
                       baseline.peak_messages);
  const int max_new = std::max(t.burst_floor_new, t.burst_factor * baseline.peak_new_recipients);
  if (new_hour > max_new)
    return fmt::format("{} new recipients in an hour, far above its busiest hour of the past weeks ({})", new_hour,
                       baseline.peak_new_recipients);
  return std::nullopt;
}

bool old_thread_reply(const MessageTraits& m, std::int64_t now, const AnomalyThresholds& t) {
  return m.links && m.thread_newest && now - *m.thread_newest > t.old_thread_age;
}

std::optional<std::string> refusals(int delivered, int refused, const AnomalyThresholds& t) {
  const int total = delivered + refused;
  if (refused < t.refused_min || total == 0 || refused * 100 < t.refused_percent * total) return std::nullopt;
  return fmt::format("remote servers refused {} of its last {} recipients within an hour", refused, total);
}

}  // namespace mk::guard
