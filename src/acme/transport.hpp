// acme/transport.hpp: one HTTP exchange with the ACME server, as an interface, so that tests
// can script a CA and the client never sees a socket. acme/https_transport.hpp is the real one.
//
// STANDARDS: RFC 8555 §6.1 (HTTPS), §6.2 (POST bodies are application/jose+json), §6.5
// (Replay-Nonce), §6.6 (Retry-After), §7.1 (Link headers, Location).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"

namespace mk::acme {

// What the client reads of a reply. An HTTP status of 4xx/5xx is a reply, not an error: the
// Result's error is for exchanges that did not complete (DNS, connect, TLS, timeout, a body
// over the limit, a malformed response).
struct HttpReply {
  int status = 0;
  std::string content_type;  // media type, lower-case, parameters dropped
  std::string location;
  std::string replay_nonce;
  std::optional<std::chrono::seconds> retry_after;
  std::vector<std::string> links;  // raw Link header values
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual boost::asio::awaitable<Result<HttpReply>> get(const std::string& url) = 0;
  virtual boost::asio::awaitable<Result<HttpReply>> head(const std::string& url) = 0;
  // Sends jose_json as application/jose+json.
  virtual boost::asio::awaitable<Result<HttpReply>> post(const std::string& url, const std::string& jose_json) = 0;
};

}  // namespace mk::acme
