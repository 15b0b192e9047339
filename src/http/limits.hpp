// http/limits.hpp: [http] in mailkeep.toml, the web server's connection limits and timers.
// The defaults here are the only ones (app/config.cpp binds each key to its field).
// SECURITY: every request is bounded in header size, body size and time, and every client
// in connections, so a slow or oversized client cannot hold the server's sockets or memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/duration.hpp"

namespace mk::http {

struct Limits {
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 20;
  // The request line and header fields together; more is refused with 431.
  std::uint64_t max_header_size = 16 * 1024;
  // A request body; more is refused with 413. The pages and the API take small JSON bodies.
  std::uint64_t max_body_size = 1024 * 1024;
  // The whole header must arrive within this from its first byte (or from the connection):
  // a client that trickles bytes ("slowloris") is cut off.
  Duration header_timeout{std::chrono::seconds(10)};
  // Reading the body and writing the response, each.
  Duration request_timeout{std::chrono::seconds(30)};
  // How long a kept-alive connection may wait for its next request.
  Duration idle_timeout{std::chrono::seconds(60)};
  // Requests served on one connection before it is closed (the client reconnects).
  std::size_t max_requests_per_connection = 1000;
};

}  // namespace mk::http
