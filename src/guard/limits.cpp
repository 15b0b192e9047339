#include "guard/limits.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::guard {
namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

template <class Q>
void expire(Q& q, std::int64_t before) {
  while (!q.empty() && q.front().time <= before) q.pop_front();
}

int sum(const std::deque<SendingLimits::Entry>& q) {
  int n = 0;
  for (const auto& e : q) n += e.count;
  return n;
}

// `from` without the addresses in `found` (both lower-case).
std::vector<std::string> without(std::vector<std::string> from, const std::vector<std::string>& found) {
  std::erase_if(from, [&](const std::string& a) { return std::find(found.begin(), found.end(), a) != found.end(); });
  return from;
}

}  // namespace

SendingLimits::Recipients SendingLimits::classify(std::int64_t account_id, const std::vector<std::string>& rcpts,
                                                  const std::vector<std::string>& thread_ids) {
  Recipients r;
  // A recipient the store cannot place is new: failing open would let a spam run through
  // whenever the database struggles.
  if (auto fresh = store_.new_correspondents(account_id, rcpts)) {
    r.never_written = std::move(*fresh);
  } else {
    log_.error("guard.correspondents_unreadable", {{"account_id", account_id}, {"error", fresh.error().message}});
    for (const auto& a : rcpts) r.never_written.push_back(to_lower(a));
  }
  std::vector<std::string> unknown = r.never_written;
  if (!unknown.empty()) {
    if (auto known = store_.authenticated_writers(account_id, unknown)) unknown = without(std::move(unknown), *known);
    else log_.error("guard.writers_unreadable", {{"account_id", account_id}, {"error", known.error().message}});
  }
  if (!unknown.empty() && !thread_ids.empty()) {
    if (auto answered = store_.answerable(account_id, unknown, thread_ids)) {
      r.answered = int(answered->size());
      unknown = without(std::move(unknown), *answered);
    } else {
      log_.error("guard.writers_unreadable", {{"account_id", account_id}, {"error", answered.error().message}});
    }
  }
  r.fresh = int(unknown.size());
  return r;
}

std::optional<std::string> SendingLimits::content_hold(Window& w, const Content& c, std::int64_t now, Audience to,
                                                       std::vector<Signal>& found) {
  int near = 0;
  if (to.fresh && c.fingerprint)
    for (const auto& p : w.prints) near += near_identical(p.fingerprint, *c.fingerprint) ? 1 : 0;
  int outsiders = 0;
  if (!c.thread.empty() && !c.thread_outsiders.empty()) {
    std::vector<std::string> all = c.thread_outsiders;
    for (const auto& t : w.threads)
      if (t.thread == c.thread)
        for (const auto& a : t.outsiders)
          if (std::find(all.begin(), all.end(), a) == all.end()) all.push_back(a);
    outsiders = int(all.size());
  }
  found = signals(c, now, to, near, outsiders, content_);
  if (found.empty()) return std::nullopt;  // nothing new: the hour's sum did not hold before
  std::vector<Signal> hour;
  for (const auto& s : w.signals) hour.push_back(s.signal);
  hour.insert(hour.end(), found.begin(), found.end());
  return suspicion(hour, content_);
}

SendingLimits::Decision SendingLimits::submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts,
                                              std::int64_t now, const Submission& s) {
  Decision d;
  if (remote_rcpts.empty()) return d;
  const Recipients who = classify(account_id, remote_rcpts, s.traits.thread_ids);
  const int new_count = who.fresh;
  const Audience to{who.fresh > 0, who.answered > 0};
  History history = s.history;
  history.new_network = s.strict;
  const Budget b = budget(history, limits_);
  std::lock_guard lock(mu_);
  auto [slot, created] = accounts_.try_emplace(account_id);
  Window& w = slot->second;
  if (created) seed(w, account_id, now);
  expire(w.messages, now - kHour);
  expire(w.recipients, now - kDay);
  expire(w.new_recipients, now - kHour);
  expire(w.new_day, now - kDay);
  expire(w.old_thread_replies, now - kHour);
  expire(w.prints, now - kHour);
  expire(w.threads, now - kHour);
  expire(w.signals, now - kHour);
  // Strict: only what came from this network counts.
  auto total = [&](const std::deque<Entry>& q) {
    int n = 0;
    for (const auto& e : q)
      if (!s.strict || e.network == s.network || e.network == kSeededNetwork) n += e.count;
    return n;
  };
  // Why a budget below the configured limit applies.
  auto trust_note = [&](int budget, int ceiling) -> std::string {
    if (budget >= ceiling) return "";
    return fmt::format(" (the budget of an account with {}; it grows as recipients answer, up to {})",
                       describe(history), ceiling);
  };
  auto why = [&](int budget, int ceiling) -> std::string {
    return s.strict ? " right after a login from a new network" : trust_note(budget, ceiling);
  };
  // Right after a login from a new network everything counts against limits kStrictDivisor
  // times tighter, mail to known people too (one phishing message Bcc'd to every contact of
  // a stolen mailbox is the classic), whatever the account's history.
  // (A new account's first login is covered by its budget, trust.hpp.)
  const bool tight = s.strict && s.elsewhere_before;
  const int messages_hour = tight ? std::min(b.messages_per_hour, std::max(1, limits_.messages_per_hour / kStrictDivisor))
                                  : b.messages_per_hour;
  const int recipients_day = tight ? std::max(1, limits_.recipients_per_day / kStrictDivisor) : limits_.recipients_per_day;
  if (total(w.messages) + 1 > messages_hour) {
    d.reason = fmt::format("more than {} messages in an hour{}", messages_hour,
                           tight ? why(messages_hour, limits_.messages_per_hour)
                                 : trust_note(b.messages_per_hour, limits_.messages_per_hour));
  } else if (total(w.recipients) + int(remote_rcpts.size()) > recipients_day) {
    d.reason = fmt::format("more than {} recipients in a day{}", recipients_day,
                           tight ? " right after a login from a new network" : "");
  } else if (total(w.new_recipients) + new_count > b.new_per_hour) {
    d.reason = fmt::format("more than {} new recipients in an hour{}", b.new_per_hour,
                           why(b.new_per_hour, limits_.new_recipients_per_hour));
  } else if (total(w.new_day) + new_count > b.new_per_day) {
    d.reason = fmt::format("more than {} new recipients in a day{}", b.new_per_day,
                           why(b.new_per_day, limits_.recipients_per_day));
  }
  const bool old_reply = old_thread_reply(s.traits, now, anomalies_);
  if (d.reason.empty() && old_reply && sum(w.old_thread_replies) + 1 >= anomalies_.old_thread_replies) {
    d.reason = fmt::format("{} replies carrying links to threads older than {} days within an hour",
                           sum(w.old_thread_replies) + 1, anomalies_.old_thread_age / kDay);
  }
  std::vector<Signal> found;
  if (d.reason.empty()) {
    if (auto r = content_hold(w, s.content, now, to, found)) d.reason = *r;
  }
  if (d.reason.empty()) {
    if (w.baseline_hour != now / kHour) {
      const std::int64_t hour = now / kHour;
      if (auto base = store_.send_baseline(account_id, hour - anomalies_.baseline_hours, hour)) w.baseline = *base;
      w.baseline_hour = hour;
    }
    if (auto r = burst(w.baseline, sum(w.messages) + 1, sum(w.new_recipients) + new_count, anomalies_)) d.reason = *r;
  }
  if (!d.reason.empty()) {
    d.hold = true;
    d.since = w.messages.empty() ? now : w.messages.front().time;
    d.sent = sum(w.messages);
    return d;
  }
  if (old_reply) w.old_thread_replies.push_back({now, s.network, 1});
  w.messages.push_back({now, s.network, 1});
  w.recipients.push_back({now, s.network, int(remote_rcpts.size())});
  if (new_count > 0) {
    w.new_recipients.push_back({now, s.network, new_count});
    w.new_day.push_back({now, s.network, new_count});
  }
  if (to.fresh && s.content.fingerprint) w.prints.push_back({now, *s.content.fingerprint});
  if (!s.content.thread.empty() && !s.content.thread_outsiders.empty())
    w.threads.push_back({now, s.content.thread, s.content.thread_outsiders});
  for (auto& f : found) w.signals.push_back({now, std::move(f)});
  // Not recorded: the in-memory windows still count this message; only the history that later
  // baselines and "known correspondent" checks read misses it.
  if (!who.never_written.empty())
    log_.ok_or_log(store_.add_correspondents(account_id, who.never_written, now), "guard.correspondents_not_stored",
                   {{"account_id", account_id}});
  log_.ok_or_log(store_.add_send_history(account_id, now / kHour, 1, new_count), "guard.history_not_stored",
                 {{"account_id", account_id}});
  return d;
}

SendingLimits::Decision SendingLimits::outcomes(std::int64_t account_id, int delivered, int refused,
                                                std::int64_t now) {
  Decision d;
  std::lock_guard lock(mu_);
  // After a start the queue runner's verdicts may come before the account's next submission:
  // the window they make starts from the store's record too.
  auto [slot, created] = accounts_.try_emplace(account_id);
  Window& w = slot->second;
  if (created) seed(w, account_id, now);
  expire(w.delivered, now - kHour);
  expire(w.refused, now - kHour);
  if (delivered > 0) w.delivered.push_back({now, {}, delivered});
  if (refused > 0) w.refused.push_back({now, {}, refused});
  if (auto r = refusals(sum(w.delivered), sum(w.refused), anomalies_)) {
    d.hold = true;
    d.reason = *r;
    d.since = std::min(w.delivered.empty() ? now : w.delivered.front().time,
                       w.refused.empty() ? now : w.refused.front().time);
    d.sent = sum(w.delivered) + sum(w.refused);
    d.from_verdicts = true;
  }
  return d;
}

void SendingLimits::forget(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  accounts_.erase(account_id);
}

void SendingLimits::close_history(std::int64_t account_id, std::int64_t now) {
  // Not stored: the next window seeded (after a restart, or after the release in this
  // process) counts the burst again, and the released account may be held again at once;
  // never less contained. A submission already under way may still record its message after
  // this: its hour then counts that one message, fewer than it sent.
  const auto [from, to] = seed_hours(now);
  log_.ok_or_log(store_.hold_send_history(account_id, from, to), "guard.history_not_closed",
                 {{"account_id", account_id}});
}

void SendingLimits::seed(Window& w, std::int64_t account_id, std::int64_t now) {
  // By the hour, as the store keeps it: this hour's messages and new recipients count against
  // the hourly limits (an hour's messages from before its start are not known: fewer, never
  // more, than the sliding hour held), each of the last 24 hours' new recipients against the
  // daily one. The network is not kept: strict mode counts all of it (it may have been this
  // network's: a restart must not give a thief's first hour a fresh budget).
  const std::int64_t hour = now / kHour;
  const auto [from, to] = seed_hours(now);
  auto history = store_.send_history(account_id, from, to);
  if (!history) {
    log_.error("guard.history_unreadable", {{"account_id", account_id}, {"error", history.error().message}});
    return;
  }
  const std::string network(kSeededNetwork);
  for (const auto& h : *history) {
    const std::int64_t start = h.hour * kHour;
    if (h.new_recipients > 0) w.new_day.push_back({start, network, h.new_recipients});
    if (h.hour != hour) continue;
    if (h.messages > 0) w.messages.push_back({start, network, h.messages});
    if (h.new_recipients > 0) w.new_recipients.push_back({start, network, h.new_recipients});
  }
}

}  // namespace mk::guard
