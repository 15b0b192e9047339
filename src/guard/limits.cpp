#include "guard/limits.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mk::guard {
namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

}  // namespace

SendingLimits::Decision SendingLimits::submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts,
                                              std::int64_t now, const std::string& network, bool strict) {
  Decision d;
  if (remote_rcpts.empty()) return d;
  auto fresh = store_.new_correspondents(account_id, remote_rcpts);
  const int new_count = fresh ? int(fresh->size()) : 0;
  std::lock_guard lock(mu_);
  Window& w = accounts_[account_id];
  auto expire = [](std::deque<Entry>& q, std::int64_t before) {
    while (!q.empty() && q.front().time <= before) q.pop_front();
  };
  expire(w.messages, now - kHour);
  expire(w.recipients, now - kDay);
  expire(w.new_recipients, now - kHour);
  // Strict: only what came from this network counts, against tighter limits.
  auto total = [&](const std::deque<Entry>& q) {
    int n = 0;
    for (const auto& e : q)
      if (!strict || e.network == network) n += e.count;
    return n;
  };
  const int div = strict ? kStrictDivisor : 1;
  const Limits l{std::max(1, limits_.messages_per_hour / div), std::max(1, limits_.recipients_per_day / div),
                 std::max(1, limits_.new_recipients_per_hour / div)};
  const char* after = strict ? " right after a login from a new network" : "";
  if (total(w.messages) + 1 > l.messages_per_hour) {
    d.reason = fmt::format("more than {} messages in an hour{}", l.messages_per_hour, after);
  } else if (total(w.recipients) + int(remote_rcpts.size()) > l.recipients_per_day) {
    d.reason = fmt::format("more than {} recipients in a day{}", l.recipients_per_day, after);
  } else if (total(w.new_recipients) + new_count > l.new_recipients_per_hour) {
    d.reason = fmt::format("more than {} new recipients in an hour{}", l.new_recipients_per_hour, after);
  }
  if (!d.reason.empty()) {
    d.hold = true;
    return d;
  }
  w.messages.push_back({now, network, 1});
  w.recipients.push_back({now, network, int(remote_rcpts.size())});
  if (new_count > 0) w.new_recipients.push_back({now, network, new_count});
  if (fresh && !fresh->empty()) (void)store_.add_correspondents(account_id, *fresh, now);
  return d;
}

void SendingLimits::forget(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  accounts_.erase(account_id);
}

}  // namespace mk::guard
