#include "dns/answer_cache.hpp"

#include <algorithm>

#include "base/strings.hpp"

namespace mk::dns {

std::string AnswerCache::key(std::string_view name, int type) {
  std::string k = to_lower(name);
  while (!k.empty() && k.back() == '.') k.pop_back();  // "example.org." is "example.org"
  k += '/';
  k += std::to_string(type);
  return k;
}

std::optional<Answer> AnswerCache::get(std::string_view name, int type, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key(name, type));
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.answer;
}

void AnswerCache::put(std::string_view name, int type, const Answer& answer, std::int64_t ttl,
                      Clock::time_point now) {
  if (ttl <= 0 || answer.bogus || answer.temporary() || max_entries_ == 0) return;
  const auto expires = now + std::min<std::chrono::seconds>(std::chrono::seconds(ttl), kMaxTtl);
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    std::erase_if(entries_, [now](const auto& e) { return now >= e.second.expires; });
    // Still full of live answers: start over rather than keep an order of use per lookup.
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_[key(name, type)] = Entry{answer, expires};
}

std::size_t AnswerCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mk::dns
