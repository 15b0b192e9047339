#include "guard/limits.hpp"

#include <fmt/format.h>

namespace mk::guard {
namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

}  // namespace

SendingLimits::Decision SendingLimits::submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts,
                                              std::int64_t now) {
  Decision d;
  if (remote_rcpts.empty()) return d;
  auto fresh = store_.new_correspondents(account_id, remote_rcpts);
  const int new_count = fresh ? int(fresh->size()) : 0;
  std::lock_guard lock(mu_);
  Window& w = accounts_[account_id];
  while (!w.messages.empty() && w.messages.front() <= now - kHour) w.messages.pop_front();
  while (!w.recipients.empty() && w.recipients.front().first <= now - kDay) w.recipients.pop_front();
  while (!w.new_recipients.empty() && w.new_recipients.front() <= now - kHour) w.new_recipients.pop_front();
  int day_rcpts = 0;
  for (const auto& [t, n] : w.recipients) day_rcpts += n;
  if (int(w.messages.size()) + 1 > limits_.messages_per_hour) {
    d.reason = fmt::format("more than {} messages in an hour", limits_.messages_per_hour);
  } else if (day_rcpts + int(remote_rcpts.size()) > limits_.recipients_per_day) {
    d.reason = fmt::format("more than {} recipients in a day", limits_.recipients_per_day);
  } else if (int(w.new_recipients.size()) + new_count > limits_.new_recipients_per_hour) {
    d.reason = fmt::format("more than {} new recipients in an hour", limits_.new_recipients_per_hour);
  }
  if (!d.reason.empty()) {
    d.hold = true;
    return d;
  }
  w.messages.push_back(now);
  w.recipients.emplace_back(now, int(remote_rcpts.size()));
  for (int i = 0; i < new_count; ++i) w.new_recipients.push_back(now);
  if (fresh && !fresh->empty()) (void)store_.add_correspondents(account_id, *fresh, now);
  return d;
}

void SendingLimits::forget(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  accounts_.erase(account_id);
}

}  // namespace mk::guard
