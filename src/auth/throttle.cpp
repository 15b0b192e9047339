#include "auth/throttle.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::auth {
namespace {

constexpr int kIpv6NetworkBits = 64;
constexpr std::int64_t kBanReload = 5;      // seconds: bans lifted or added by the CLI are seen this soon
constexpr std::int64_t kMinute = 60;
constexpr std::size_t kMaxTracked = 100000;  // networks and accounts with failures kept in memory
constexpr std::size_t kMaxKnownNetworks = 32;

void expire(std::deque<std::int64_t>& q, std::int64_t since) {
  while (!q.empty() && q.front() < since) q.pop_front();
}

}  // namespace

Throttle::Throttle(ThrottleConfig cfg, store::Security* store, log::Logger log)
    : cfg_(std::move(cfg)), store_(store), log_(std::move(log)) {}

std::string Throttle::network_key(const IpAddr& ip) {
  if (ip.v4) return ip.to_string();
  IpAddr net = ip;
  std::fill(net.bytes.begin() + kIpv6NetworkBits / 8, net.bytes.end(), 0);
  return net.to_string() + "/64";
}

bool Throttle::allowed(const IpAddr& ip) const {
  return std::any_of(cfg_.allow.begin(), cfg_.allow.end(), [&](const IpNetwork& n) { return n.contains(ip); });
}

void Throttle::reload_bans(std::int64_t now) {
  if (!store_ || (bans_loaded_ >= 0 && now - bans_loaded_ < kBanReload)) return;
  bans_loaded_ = now;
  auto all = store_->list_bans();
  if (!log_.ok_or_log(all, "auth.bans_unreadable")) return;  // keep what we have
  bans_.clear();
  for (auto& b : *all) bans_[b.key] = std::move(b);
}

bool Throttle::banned(const IpAddr& ip, std::int64_t now) {
  if (allowed(ip)) return false;
  std::lock_guard lock(mu_);
  reload_bans(now);
  auto it = bans_.find(network_key(ip));
  return it != bans_.end() && it->second.until > now;
}

bool Throttle::account_locked(std::string_view user, const IpAddr& ip, std::int64_t now) {
  if (allowed(ip)) return false;
  std::lock_guard lock(mu_);
  const std::string account = to_lower(user);
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return false;
  expire(it->second, now - whole_seconds(cfg_.window));
  if (int(it->second.size()) < cfg_.account_failures_before_lock) return false;
  // Under attack: only the networks the owner has logged in from still get to try.
  auto k = known_networks_.find(account);
  const std::string key = network_key(ip);
  return k == known_networks_.end() || std::find(k->second.begin(), k->second.end(), key) == k->second.end();
}

Throttle::Verdict Throttle::failed(const IpAddr& ip, std::string_view user, std::int64_t now) {
  Verdict v;
  if (allowed(ip)) return v;
  std::lock_guard lock(mu_);
  const std::string key = network_key(ip);
  if (by_network_.size() > kMaxTracked) by_network_.clear();  // an attack from everywhere: start over
  if (by_account_.size() > kMaxTracked) by_account_.clear();
  auto& net = by_network_[key];
  expire(net, now - whole_seconds(cfg_.window));
  net.push_back(now);
  if (!user.empty()) {
    auto& acc = by_account_[to_lower(user)];
    expire(acc, now - whole_seconds(cfg_.window));
    acc.push_back(now);
  }
  expire(global_, now - kMinute);
  global_.push_back(now);

  const int n = int(net.size());
  if (n > cfg_.failures_before_delay) {
    const int doublings = std::min(n - cfg_.failures_before_delay - 1, 16);
    v.delay = std::min(cfg_.max_delay, cfg_.first_delay * (1 << doublings));
  }
  if (int(global_.size()) > cfg_.global_failures_per_minute) v.delay = std::max(v.delay, cfg_.global_delay);
  if (n >= cfg_.failures_before_ban) {
    reload_bans(now);
    store::Ban b;
    b.key = key;
    auto old = bans_.find(key);
    b.count = old == bans_.end() ? 1 : old->second.count + 1;
    const std::int64_t length = std::min(whole_seconds(cfg_.max_ban), whole_seconds(cfg_.ban) << std::min<std::int64_t>(b.count - 1, 20));
    b.until = now + length;
    b.reason = fmt::format("{} failed logins in {} s", n, whole_seconds(cfg_.window));
    b.created = now;
    bans_[key] = b;
    // Kept in memory either way: the ban holds until a restart even if it could not be stored.
    if (store_) log_.ok_or_log(store_->put_ban(b), "auth.ban_not_stored", {{"network", key}});
    net.clear();
    v.banned = true;
  }
  return v;
}

void Throttle::succeeded(const IpAddr& ip, std::string_view user, std::int64_t now) {
  (void)now;
  std::lock_guard lock(mu_);
  const std::string key = network_key(ip);
  by_network_.erase(key);
  auto& known = known_networks_[to_lower(user)];
  if (std::find(known.begin(), known.end(), key) == known.end()) {
    if (known.size() >= kMaxKnownNetworks) known.erase(known.begin());
    known.push_back(key);
  }
}

}  // namespace mk::auth
