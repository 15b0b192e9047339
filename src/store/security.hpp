// store/security.hpp: the Security role of the store: where accounts log in from, with
// which programs, and the networks banned from logging in (auth/throttle.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

// A network banned from logging in (auth/throttle.hpp). Rows stay after `until` so that the
// next ban of the same network lasts longer (`count`).
struct Ban {
  std::string key;  // "192.0.2.7" or "2001:db8:1:2::/64"
  std::int64_t until = 0;
  std::int64_t count = 1;
  std::string reason;
  std::int64_t created = 0;
};

class Security {
 public:
  virtual ~Security() = default;

  // Where an account logs in from: whether this network (and this account at all) is new.
  struct LoginSeen {
    bool new_network = false;
    bool first_login = false;
  };
  virtual Result<LoginSeen> note_login(std::string_view address, std::string_view network, std::string_view service,
                                       std::int64_t now) = 0;
  // The programs an account logs in with (IMAP ID name and version, SMTP EHLO name): whether
  // this one is new (and whether it is the account's first known one).
  struct ClientSeen {
    bool new_client = false;
    bool first_client = false;
  };
  virtual Result<ClientSeen> note_client(std::string_view address, std::string_view client, std::int64_t now) = 0;
  // When the account first logged in from this network (0: never), and whether it has
  // logged in from any other network before that (or in the same second: times are seconds).
  struct NetworkHistory {
    std::int64_t first_seen = 0;
    bool other_networks_before = false;
  };
  virtual Result<NetworkHistory> network_history(std::string_view address, std::string_view network) = 0;
  // Login bans: stored so they survive restarts; lift_ban forgets the network entirely.
  virtual Status put_ban(const Ban& b) = 0;
  virtual Result<std::vector<Ban>> list_bans() = 0;
  // Bans still in force at `now` (the metrics).
  virtual Result<std::int64_t> active_ban_count(std::int64_t now) = 0;
  virtual Result<bool> lift_ban(std::string_view key) = 0;
};

}  // namespace mk::store
