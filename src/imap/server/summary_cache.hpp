// imap/server/summary_cache.hpp: a bounded, shared LRU cache of the FETCH items that need a
// MIME parse (ENVELOPE, BODY, BODYSTRUCTURE; imap/proto/summary.hpp), keyed by message file.
// Messages never change, so entries never go stale; copies share their file and so their
// entry. Clients fetch these items for whole mailboxes at every sync, so this avoids reading
// and parsing every message again each time.
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
  explicit SummaryCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  std::shared_ptr<const Summary> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return it->second.value;
  }

  void put(const std::string& key, std::shared_ptr<const Summary> v) {
    const std::size_t cost = key.size() + v->bytes() + 96;
    std::lock_guard lock(mu_);
    if (map_.count(key) || cost > max_bytes_) return;
    lru_.push_front(key);
    map_[key] = Slot{std::move(v), lru_.begin(), cost};
    bytes_ += cost;
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      auto last = map_.find(lru_.back());
      bytes_ -= last->second.cost;
      map_.erase(last);
      lru_.pop_back();
    }
  }

 private:
  struct Slot {
    std::shared_ptr<const Summary> value;
    std::list<std::string>::iterator pos;
    std::size_t cost;
  };
  std::mutex mu_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::list<std::string> lru_;
  std::unordered_map<std::string, Slot> map_;
};

}  // namespace mk::imap
