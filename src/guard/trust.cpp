#include "guard/trust.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mk::guard {
namespace {

// From `start` (no trust) to `ceiling` (kFullTrust points), in proportion; never above the
// ceiling even when the ceiling is configured below the start.
int widen(int start, int ceiling, int points) {
  start = std::min(start, ceiling);
  return start + (ceiling - start) * std::clamp(points, 0, kFullTrust) / kFullTrust;
}

int history_points(const History& h) {
  const int age =
      int(std::min<std::int64_t>(kMaxAgePoints, std::max<std::int64_t>(0, h.age_seconds) / kSecondsPerAgePoint));
  return std::min(kFullTrust, std::max(0, h.answered) + std::clamp(h.sending_days, 0, kMaxSendingDayPoints) + age);
}

}  // namespace

bool mailbox_provider(std::string_view registrable) {
  return std::find(std::begin(kMailboxProviders), std::end(kMailboxProviders), registrable) !=
         std::end(kMailboxProviders);
}

int answered_points(const std::vector<std::string>& addresses, const dmarc::OrgDomains& orgs) {
  std::map<std::string, int> per_domain;
  int points = 0;
  for (const auto& a : addresses) {
    const auto at = a.rfind('@');
    if (at == std::string::npos) continue;
    // The address's own domain must be the provider's: gmail.attacker.example is the
    // attacker's, whose organisational domain counts.
    const std::string domain = a.substr(at + 1), org = orgs.organizational(domain);
    if ((domain == org && mailbox_provider(org)) || ++per_domain[org] <= kMaxAnsweredPerDomain) ++points;
  }
  return points;
}

Budget budget(const History& h, const Limits& ceiling) {
  Budget b;
  const int points = history_points(h);
  b.points = h.new_network ? 0 : points;
  const int start_new = std::max(kNoHistoryNewMin, ceiling.new_recipients_per_hour / kNoHistoryNewDivisor);
  b.new_per_hour = std::max(1, widen(start_new, ceiling.new_recipients_per_hour, b.points));
  const int start_day =
      std::min(ceiling.recipients_per_day, std::min(start_new, ceiling.new_recipients_per_hour) * kNoHistoryDayHours);
  b.new_per_day = std::max(1, widen(start_day, ceiling.recipients_per_day, b.points));
  const int start_messages = std::max(kNoHistoryMessagesMin, ceiling.messages_per_hour / kNoHistoryMessagesDivisor);
  const int message_points = points + std::clamp(h.writers, 0, kMaxWriterPoints);
  b.messages_per_hour = std::max(1, widen(start_messages, ceiling.messages_per_hour, message_points));
  return b;
}

std::string describe(const History& h) {
  std::vector<std::string> parts;
  if (h.answered > 0) parts.push_back(fmt::format("{} answered recipient(s)", h.answered));
  if (h.sending_days > 0) parts.push_back(fmt::format("{} day(s) of sending", h.sending_days));
  if (h.age_seconds >= 86400) parts.push_back(fmt::format("{} day(s) old", h.age_seconds / 86400));
  return parts.empty() ? "no history" : fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace mk::guard
