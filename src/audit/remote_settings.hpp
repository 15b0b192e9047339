// audit/remote_settings.hpp: [log.remote], where the security log is shipped (audit/shipper.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.hpp"
#include "base/log.hpp"

namespace mk::audit {

inline constexpr std::uint64_t kDefaultOperationalQueue = 16u << 20;

struct RemoteSettings {
  std::vector<std::string> collectors;  // "host:port" ([v6]:port); empty: shipping is off
  std::string ca_file;      // the CA that signed the collectors' certificates; empty: system CAs
  std::string server_name;  // the name their certificates must carry; empty: each one's host
  std::string client_cert, client_key;  // optional: this server's certificate for the collector
  std::uint64_t spool_records = 1000000;
  Duration heartbeat{std::chrono::seconds(15)};
  Duration timeout{std::chrono::seconds(30)};  // connect, handshake, a write, an acknowledgement
  // Operational log lines at this level and above are shipped too (audit/line_queue.hpp);
  // nullopt: only the security log is.
  std::optional<log::Level> operational = log::Level::warn;
  std::uint64_t operational_queue = kDefaultOperationalQueue;  // bytes in memory, for all collectors
};

}  // namespace mk::audit
