// imap/server/notifier.hpp: wakes IDLE sessions when their mailbox changes.
//
// The store calls notify() (from its own threads) after every committed change; sessions
// waiting in IDLE on that mailbox get their wake function called and send the updates at
// once, so a delivery shows up in the client within milliseconds instead of at a poll.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace mk::imap {

class Notifier {
 public:
  using Wake = std::function<void()>;

  std::uint64_t subscribe(std::int64_t mailbox_id, Wake wake) {
    std::lock_guard lock(mu_);
    const auto token = ++next_;
    subs_[token] = {mailbox_id, std::move(wake)};
    return token;
  }
  void unsubscribe(std::uint64_t token) {
    std::lock_guard lock(mu_);
    subs_.erase(token);
  }
  void notify(std::int64_t mailbox_id) {
    std::lock_guard lock(mu_);
    for (auto& [token, sub] : subs_)
      if (sub.first == mailbox_id) sub.second();
  }

 private:
  std::mutex mu_;
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, std::pair<std::int64_t, Wake>> subs_;
};

}  // namespace mk::imap
