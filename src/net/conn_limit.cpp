#include "net/conn_limit.hpp"

namespace mk::net {

std::optional<ConnLimiter::Slot> ConnLimiter::acquire(const std::string& ip, Refusal& why) {
  std::lock_guard lock(mu_);
  why = Refusal::none;
  if (total_ >= max_total_) {
    why = Refusal::total;
    return std::nullopt;
  }
  auto& n = per_ip_[ip];
  if (n >= max_per_ip_) {
    why = Refusal::per_ip;
    if (n == 0) per_ip_.erase(ip);
    return std::nullopt;
  }
  ++n;
  ++total_;
  return Slot(this, ip);
}

void ConnLimiter::release(const std::string& ip) {
  std::lock_guard lock(mu_);
  --total_;
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

std::size_t ConnLimiter::active() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace mk::net
