// http/request_reader.hpp: one HTTP/1.x request read from bytes, without I/O.
//
// The connection loop (http/server.cpp) feeds it what it reads and asks what happened:
// more bytes needed, the header complete (time for 100 Continue and the body's deadline),
// the request complete, or an error with the response it deserves (400, 413, 431). The
// parsing itself is Boost.Beast's parser; what this adds is mailkeep's rules on top (Host
// required for HTTP/1.1, origin-form targets only) and the Request the handlers see. The
// fuzz target fuzz/http_request.cpp drives it with arbitrary bytes.
// STANDARDS: RFC 9112 §2-§6 (message syntax, framing), §3.2 (Host), §3.2.1 (origin form).
// SECURITY: bytes are untrusted; the header and body sizes are bounded by Limits before
// anything is allocated for them; any framing RFC 9112 §6 leaves ambiguous (a
// Transfer-Encoding not ending in chunked, Transfer-Encoding with Content-Length, two
// Content-Lengths, two Hosts) is a 400 and the connection closes (request smuggling).
#pragma once

#include <memory>
#include <string>

#include "http/limits.hpp"
#include "http/message.hpp"

namespace mk::http {

class RequestReader {
 public:
  enum class State { need_more, done, error };

  explicit RequestReader(const Limits& limits);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Parses what it can of `in`, erasing what it used (what follows a complete request stays
  // for the next one).
  State feed(std::string& in);
  // The input ended: an error unless the request was complete.
  State end();

  bool header_done() const;
  // The client waits for "100 Continue" before it sends the body (RFC 9110 §10.1.1).
  bool expects_continue() const;
  // After done: whether the client lets the connection stay open, and which HTTP/1.x it spoke.
  bool keep_alive() const;
  int http_minor() const;

  // After error: the response the client gets (the connection then closes).
  const Response& error() const { return error_; }
  // After done: the request, or nullopt with error() set when it breaks mailkeep's rules.
  std::optional<Request> take(bool tls, const std::string& remote_ip);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Response error_;
};

}  // namespace mk::http
