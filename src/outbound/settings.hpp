// outbound/settings.hpp: [outbound] in mailkeep.toml, the settings of delivery from the queue.
// The defaults here are the only ones (app/config.cpp binds each key to its field).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/duration.hpp"

namespace mk::outbound {

struct Settings {
  std::uint16_t port = 25;  // remote MX port; other values only for test setups
  Duration max_age{std::chrono::hours(24 * 5)};  // then the message bounces (RFC 5321 §4.5.4.1: 4-5 days)
  Duration delay_warning{std::chrono::hours(4)};  // a delay DSN once, after this long; 0: never
  Duration min_backoff{std::chrono::minutes(5)};  // key retry_min: doubles per attempt up to max_backoff
  Duration max_backoff{std::chrono::hours(4)};
  Duration lease{std::chrono::minutes(15)};  // a claimed message is retried after this if the runner died
  Duration tls_report_interval{std::chrono::hours(24)};  // the TLS-RPT period (RFC 8460)
  std::size_t connections_per_domain = 5;
  std::size_t max_connections = 100;  // outbound connections at once, all domains together
  std::size_t batch = 2000;           // messages claimed per round
  Duration connect_timeout{std::chrono::seconds(30)};
  std::uint16_t sts_port = 443;  // MTA-STS policy hosts (HTTPS)
  // RFC 5321 §4.5.3.2: 5 minutes for each command reply.
  Duration command_timeout{std::chrono::minutes(5)};
  bool paused = false;  // keep everything queued, send nothing (maintenance)
  std::string ca_file;  // extra CAs (PEM) for MTA-STS and mailkeep check, besides the system store

  // The wait for the reply to the end of the message content: RFC 5321 §4.5.3.2.6 asks for
  // 10 minutes where commands get 5, so it is twice the command timeout, whatever that is set to.
  Duration data_timeout() const { return command_timeout * 2; }
};

}  // namespace mk::outbound
