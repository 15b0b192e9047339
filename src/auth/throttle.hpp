// auth/throttle.hpp: brute-force protection for the login ports (submission, IMAP).
//
// Failed logins are counted per client network (an IPv4 address, an IPv6 /64: one host
// can use a whole /64), per account and in total, in sliding windows. A network that keeps
// failing is answered more and more slowly, then banned for a while, longer each time; bans
// are stored, so they survive restarts, and `mailkeep security bans list|lift` manages them.
// An account under attack from many networks is locked for password logins from networks
// that never logged in to it successfully; its owner's known networks keep working. Many
// failures everywhere slow every failure down. Networks on the allow-list are never delayed
// or banned.
// SECURITY: a locked account answers exactly like a wrong password (the caller still runs
// argon2id), so the lock reveals nothing about which accounts exist. A ban is per network,
// and says nothing about accounts either.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/throttle_config.hpp"
#include "base/ip.hpp"
#include "base/result.hpp"
#include "base/log.hpp"
#include "store/security.hpp"

namespace mk::auth {

class Throttle {
 public:
  // store: where bans are kept (may be null); log: where failures to keep them are told.
  Throttle(ThrottleConfig cfg, store::Security* store, log::Logger log = {});

  // The key a client address is counted under: "192.0.2.7" or "2001:db8:1:2::/64".
  static std::string network_key(const IpAddr& ip);

  bool banned(const IpAddr& ip, std::int64_t now);
  // Whether password logins to this account from this address are refused for now.
  bool account_locked(std::string_view user, const IpAddr& ip, std::int64_t now);

  struct Verdict {
    std::chrono::milliseconds delay{0};  // wait this long before answering the failure
    bool banned = false;                 // the network is banned from now on: close
  };
  Verdict failed(const IpAddr& ip, std::string_view user, std::int64_t now);
  void succeeded(const IpAddr& ip, std::string_view user, std::int64_t now);

 private:
  bool allowed(const IpAddr& ip) const;
  void reload_bans(std::int64_t now);

  ThrottleConfig cfg_;
  store::Security* store_;
  log::Logger log_;
  std::mutex mu_;
  std::map<std::string, std::deque<std::int64_t>> by_network_;  // failure times
  std::map<std::string, std::deque<std::int64_t>> by_account_;
  std::map<std::string, std::vector<std::string>> known_networks_;  // account -> networks that logged in
  std::deque<std::int64_t> global_;
  std::map<std::string, store::Ban> bans_;  // network key -> ban (mirrors the store)
  std::int64_t bans_loaded_ = -1;
};

}  // namespace mk::auth
