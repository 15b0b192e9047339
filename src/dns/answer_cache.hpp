// dns/answer_cache.hpp: answers the resolver already has, kept in the process for their TTL.
//
// libunbound caches answers too, but asking it costs a round trip through its own thread
// (a pipe write, a wake-up of that thread, a pipe write back, a wake-up of the io thread):
// about a dozen context switches for the handful of lookups the MX makes per message, most of
// them for the same few names (a sender's SPF and DMARC records, its server's reverse DNS).
// This cache answers those at once, on the caller's thread.
//
// SECURITY: only what the resolver returned is kept, as it returned it (validated answers
// stay marked secure); bogus answers, temporary failures and answers without a TTL are never
// kept; no entry outlives its TTL or kMaxTtl; the number of entries is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/lookup.hpp"

namespace mk::dns {

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kMaxTtl{3600};
  static constexpr std::size_t kMaxEntries = 10000;

  explicit AnswerCache(std::size_t max_entries = kMaxEntries) : max_entries_(max_entries) {}

  // The answer for (name, type) if one is kept and its TTL has not run out at `now`.
  std::optional<Answer> get(std::string_view name, int type, Clock::time_point now = Clock::now());
  // Keeps an answer the resolver returned with this TTL (seconds), when it may be kept.
  void put(std::string_view name, int type, const Answer& answer, std::int64_t ttl,
           Clock::time_point now = Clock::now());
  std::size_t size() const;

 private:
  struct Entry {
    Answer answer;
    Clock::time_point expires;
  };
  static std::string key(std::string_view name, int type);
  mutable std::mutex mu_;
  std::size_t max_entries_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace mk::dns
