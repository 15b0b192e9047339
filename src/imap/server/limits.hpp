// imap/server/limits.hpp: [imap] in mailkeep.toml, the IMAP server's connection limits and
// timers. The defaults here are the only ones (app/config.cpp binds each key to its field).
#pragma once

#include <cstddef>

#include "base/duration.hpp"

namespace mk::imap {

struct Limits {
  std::size_t max_connections = 2000;
  std::size_t max_connections_per_ip = 50;
  std::size_t max_sessions_per_account = 50;
  // RFC 9051 §5.4: an autologout timer must be at least 30 minutes.
  Duration idle_timeout{std::chrono::minutes(30)};
  Duration login_timeout{std::chrono::minutes(1)};  // to authenticate after connecting
  Duration session_timeout{std::chrono::hours(24)};
};

}  // namespace mk::imap
