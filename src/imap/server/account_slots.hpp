// imap/server/account_slots.hpp: a cap on concurrent logged-in IMAP sessions per account, so
// one account (or a stolen password) cannot take every connection slot of the server.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace mk::imap {

class AccountSlots {
 public:
  explicit AccountSlots(std::size_t max) : max_(max) {}

  // Held by a session; gives its slot back when destroyed.
  class Slot {
   public:
    Slot(AccountSlots& owner, std::int64_t account) : owner_(owner), account_(account) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { owner_.release(account_); }

   private:
    AccountSlots& owner_;
    std::int64_t account_;
  };

  // A slot for the account, or nullptr when it already has max sessions.
  std::unique_ptr<Slot> acquire(std::int64_t account) {
    std::lock_guard lock(mu_);
    auto& n = count_[account];
    if (n >= max_) return nullptr;
    ++n;
    return std::make_unique<Slot>(*this, account);
  }

 private:
  void release(std::int64_t account) {
    std::lock_guard lock(mu_);
    if (--count_[account] == 0) count_.erase(account);
  }

  std::mutex mu_;
  std::size_t max_;
  std::unordered_map<std::int64_t, std::size_t> count_;
};

}  // namespace mk::imap
