// net/conn_limit.hpp: caps on concurrent connections, in total and per client IP, so one
// client cannot exhaust the server's sockets, memory or sessions.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace mk::net {

class ConnLimiter {
 public:
  ConnLimiter(std::size_t max_total, std::size_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  // Releases the slot when destroyed.
  class Slot {
   public:
    Slot(ConnLimiter* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
    Slot(Slot&& o) noexcept : owner_(o.owner_), ip_(std::move(o.ip_)) { o.owner_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->release(ip_);
    }

   private:
    ConnLimiter* owner_;
    std::string ip_;
  };

  enum class Refusal { none, total, per_ip };
  // nullopt when a limit is reached; why says which.
  std::optional<Slot> acquire(const std::string& ip, Refusal& why);
  std::size_t active() const;

 private:
  void release(const std::string& ip);

  std::size_t max_total_;
  std::size_t max_per_ip_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

}  // namespace mk::net
