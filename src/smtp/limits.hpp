// smtp/limits.hpp: [smtp] in mailkeep.toml, the limits of the MX (port 25); submission uses
// the same ones except its connection limits ([submission]). The defaults here are the only
// ones (app/config.cpp binds each key to its field).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/duration.hpp"

namespace mk::smtp {

struct Limits {
  std::uint64_t max_message_size = 50ull << 20;  // announced in EHLO SIZE (RFC 1870)
  std::size_t max_recipients = 100;  // RFC 5321 §4.5.3.1.8: at least 100
  std::size_t max_errors = 20;       // syntax/sequence errors before we hang up
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 20;
  // RFC 5321 §4.5.3.2.7: a server should wait at least 5 minutes for the next command.
  Duration command_timeout{std::chrono::minutes(5)};
  // Bound on receiving one message's content (DATA or all BDAT chunks).
  Duration data_timeout{std::chrono::minutes(10)};
  Duration session_timeout{std::chrono::minutes(30)};
};

}  // namespace mk::smtp
