// imap/server/summary_cache.hpp: a bounded, shared LRU cache of the FETCH items that need a
// MIME parse (ENVELOPE, BODY, BODYSTRUCTURE; imap/proto/summary.hpp), keyed by message file.
// Messages never change, so entries never go stale; copies share their file and so their
// entry. Clients fetch these items for whole mailboxes at every sync; the cache saves even
// the decoding of the summary the store keeps with each message.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "imap/proto/summary.hpp"

namespace mk::imap {

class SummaryCache {
 public:
  explicit SummaryCache(std::size_t max_bytes) : max_bytes_(max_bytes) {
    // Sized once for a full cache: growing it while a FETCH fills it rehashes every entry
    // again and again.
    map_.reserve(max_bytes / kTypicalEntryBytes);
  }

  std::shared_ptr<const Summary> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return it->second.value;
  }

  void put(const std::string& key, std::shared_ptr<const Summary> v) {
    const std::size_t cost = key.size() + v->bytes() + 96;
    if (cost > max_bytes_) return;
    // One lookup and one copy of the key: the first FETCH after a restart fills the cache
    // with a whole mailbox, so what a put costs is part of what that FETCH costs.
    std::lock_guard lock(mu_);
    auto [it, fresh] = map_.try_emplace(key);
    if (!fresh) return;
    lru_.push_front(&it->first);
    it->second = Slot{std::move(v), lru_.begin(), cost};
    bytes_ += cost;
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      auto last = map_.find(*lru_.back());
      bytes_ -= last->second.cost;
      lru_.pop_back();
      map_.erase(last);
    }
  }

 private:
  // What an entry costs on average (key, three items, overhead), for sizing the table.
  static constexpr std::size_t kTypicalEntryBytes = 1024;
  struct Slot {
    std::shared_ptr<const Summary> value;
    std::list<const std::string*>::iterator pos;
    std::size_t cost = 0;
  };
  std::mutex mu_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  // Most recently used first; the keys of map_'s entries, which do not move when it rehashes.
  std::list<const std::string*> lru_;
  std::unordered_map<std::string, Slot> map_;
};

}  // namespace mk::imap
