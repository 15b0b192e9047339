// http/message.hpp: one HTTP request and its response as the handlers see them, with no
// socket and no parser library in sight, so handlers are plain functions tested with plain
// values. The server (http/server.hpp) fills a Request from what it parsed and writes the
// Response, adding the headers every response carries (security_headers).
// STANDARDS: RFC 9110 (semantics), RFC 9112 (HTTP/1.1 message syntax), RFC 3986 §2.1
// (percent-encoding), WHATWG URL (application/x-www-form-urlencoded).
// SECURITY: everything in a Request is untrusted client input. The query string is kept
// out of logs (it may carry an address or a token); the path is logged.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace mk::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", as sent (methods are case-sensitive, RFC 9110 §9.1)
  std::string path;    // the target's path, percent-encoding kept, never empty ("/")
  std::string query;   // after '?', without it; "" if none
  std::string host;    // Host header, lower-case, without a port; "" if none
  Fields headers;      // as received, names lower-case
  std::string body;
  bool tls = false;    // came over HTTPS
  std::string remote_ip;

  // The first header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view name) const;
  // A query parameter, form-decoded ('+' is a space, %XX a byte); nullopt if absent.
  std::optional<std::string> param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type;  // "" with no body
  std::string body;
  Fields headers;  // extra headers (Location, Allow, Cache-Control, ...)
  // The server holds the answer back this long (a failed login's throttle delay), waiting on
  // a timer, not on the handler's thread.
  std::chrono::milliseconds delay{0};
  bool close = false;  // close the connection after it (a network banned just now)
  // Work the handler left to finish asynchronously (a fetch from another web server): the
  // server awaits it on the connection's executor, holding no pool thread meanwhile, and
  // sends the response it returns instead of this one.
  std::function<boost::asio::awaitable<Response>()> then;

  static Response text(int status, std::string body);
  static Response redirect(int status, std::string location);
};

// Percent-decoding of a query component (RFC 3986 §2.1, '+' as space for forms); nullopt
// for a malformed escape.
std::optional<std::string> form_decode(std::string_view s);

// A Host header's name: lower-case, port removed; "" when it is not a plausible host name
// or bracketed IPv6 literal (a Host header can be anything the client likes).
std::string host_of(std::string_view host_header);

// The headers every response carries: a strict Content-Security-Policy (no script, style,
// frame or plug-in from anywhere unless a page sets its own), no MIME sniffing, no framing,
// no Referer leaving the site, and HSTS over HTTPS.
Fields security_headers(bool tls);

// The reason phrase of a status code ("Not Found").
std::string_view reason(int status);

// Escapes text for XML/HTML element content and attribute values.
std::string xml_escape(std::string_view s);

}  // namespace mk::http
