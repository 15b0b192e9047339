#include "guard/limits.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mk::guard {
namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

void expire(std::deque<SendingLimits::Entry>& q, std::int64_t before) {
  while (!q.empty() && q.front().time <= before) q.pop_front();
}

int sum(const std::deque<SendingLimits::Entry>& q) {
  int n = 0;
  for (const auto& e : q) n += e.count;
  return n;
}

}  // namespace

SendingLimits::Decision SendingLimits::submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts,
                                              std::int64_t now, const std::string& network, bool strict,
                                              const MessageTraits& traits) {
  Decision d;
  if (remote_rcpts.empty()) return d;
  auto fresh = store_.new_correspondents(account_id, remote_rcpts);
  const int new_count = fresh ? int(fresh->size()) : 0;
  std::lock_guard lock(mu_);
  Window& w = accounts_[account_id];
  expire(w.messages, now - kHour);
  expire(w.recipients, now - kDay);
  expire(w.new_recipients, now - kHour);
  expire(w.old_thread_replies, now - kHour);
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
  const bool old_reply = old_thread_reply(traits, now, anomalies_);
  if (d.reason.empty() && old_reply && sum(w.old_thread_replies) + 1 >= anomalies_.old_thread_replies) {
    d.reason = fmt::format("{} replies carrying links to threads older than {} days within an hour",
                           sum(w.old_thread_replies) + 1, anomalies_.old_thread_age / kDay);
  }
  if (d.reason.empty()) {
    if (w.baseline_hour != now / kHour) {
      const std::int64_t hour = now / kHour;
      if (auto b = store_.send_baseline(account_id, hour - anomalies_.baseline_hours, hour)) w.baseline = *b;
      w.baseline_hour = hour;
    }
    if (auto r = burst(w.baseline, sum(w.messages) + 1, sum(w.new_recipients) + new_count, anomalies_)) d.reason = *r;
  }
  if (!d.reason.empty()) {
    d.hold = true;
    return d;
  }
  if (old_reply) w.old_thread_replies.push_back({now, network, 1});
  w.messages.push_back({now, network, 1});
  w.recipients.push_back({now, network, int(remote_rcpts.size())});
  if (new_count > 0) w.new_recipients.push_back({now, network, new_count});
  // Not recorded: the in-memory windows still count this message; only the history that later
  // baselines and "known correspondent" checks read misses it.
  if (fresh && !fresh->empty())
    log_.ok_or_log(store_.add_correspondents(account_id, *fresh, now), "guard.correspondents_not_stored",
                   {{"account_id", account_id}});
  log_.ok_or_log(store_.add_send_history(account_id, now / kHour, 1, new_count), "guard.history_not_stored",
                 {{"account_id", account_id}});
  return d;
}

SendingLimits::Decision SendingLimits::outcomes(std::int64_t account_id, int delivered, int refused,
                                                std::int64_t now) {
  Decision d;
  std::lock_guard lock(mu_);
  Window& w = accounts_[account_id];
  expire(w.delivered, now - kHour);
  expire(w.refused, now - kHour);
  if (delivered > 0) w.delivered.push_back({now, {}, delivered});
  if (refused > 0) w.refused.push_back({now, {}, refused});
  if (auto r = refusals(sum(w.delivered), sum(w.refused), anomalies_)) {
    d.hold = true;
    d.reason = *r;
  }
  return d;
}

void SendingLimits::forget(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  accounts_.erase(account_id);
}

}  // namespace mk::guard
