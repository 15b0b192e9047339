// acme/https_transport.hpp: the real acme::Transport: one HTTPS connection per request with
// Boost.Beast, to the ACME server.
//
// STANDARDS: RFC 8555 §6.1 (ACME is HTTPS only; the client sends a User-Agent), RFC 9110/9112
// (HTTP/1.1), RFC 6125 §6 and RFC 9525 (server identity: the host name, or the IP literal,
// against the certificate's SANs), RFC 6066 §3 (SNI, never for an IP literal).
// SECURITY: the CA's certificate is verified against the system store plus an optional CA
// file (acme.ca_file, for a private or test CA such as pebble's) and its name checked; a
// failure ends the exchange. Plain http:// is refused except to loopback hosts (tests).
// Every exchange has one deadline (resolve, connect, handshake, request and response); a
// response body over max_body is refused, not truncated. Redirects are not followed.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "acme/proto.hpp"
#include "acme/transport.hpp"
#include "base/duration.hpp"
#include "net/tls.hpp"

namespace mk::acme {

struct HttpsSettings {
  std::string ca_file;  // PEM certificates trusted besides the system store ("" for none)
  Duration timeout = std::chrono::seconds(30);  // one whole exchange
  std::size_t max_body = kMaxDocument;
  std::size_t max_header = 16 * 1024;
  std::string user_agent = "mailkeep";
};

class HttpsTransport final : public Transport {
 public:
  // Loads the trust store; fails when ca_file cannot be read.
  static Result<std::unique_ptr<HttpsTransport>> create(HttpsSettings settings);

  boost::asio::awaitable<Result<HttpReply>> get(const std::string& url) override;
  boost::asio::awaitable<Result<HttpReply>> head(const std::string& url) override;
  boost::asio::awaitable<Result<HttpReply>> post(const std::string& url, const std::string& jose_json) override;

 private:
  HttpsTransport(HttpsSettings settings, std::shared_ptr<net::TlsContext> tls)
      : s_(std::move(settings)), tls_(std::move(tls)) {}
  enum class Method { get, head, post };
  // By value: the coroutine outlives the callers' arguments.
  boost::asio::awaitable<Result<HttpReply>> exchange(Method method, std::string url, std::string body);

  HttpsSettings s_;
  std::shared_ptr<net::TlsContext> tls_;
};

}  // namespace mk::acme
