// auth/throttle_config.hpp: the brute-force protection's settings (auth/throttle.hpp), part
// of [security] in mailkeep.toml. The defaults here are the only ones.
#pragma once

#include <vector>

#include "base/duration.hpp"
#include "base/ip.hpp"

namespace mk::auth {

struct ThrottleConfig {
  int failures_before_delay = 3;       // per network and window, answered at once
  int failures_before_ban = 10;        // per network and window
  Duration window{std::chrono::minutes(15)};
  Duration ban{std::chrono::minutes(15)};  // key ban_time: the first ban; each further ban of a network doubles it
  Duration max_ban{std::chrono::hours(24 * 7)};
  int account_failures_before_lock = 30;  // per account and window, from networks it never used
  int global_failures_per_minute = 600;   // beyond it every failure is delayed
  Duration first_delay{500}, max_delay{8000}, global_delay{2000};
  std::vector<IpNetwork> allow;  // key allow_networks: never delayed or banned (your own networks)
};

}  // namespace mk::auth
