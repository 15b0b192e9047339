// http/router.hpp: which handler answers a request, by method, path and listener.
//
// Routes are exact paths ("/mail/config-v1.1.xml") or prefixes ("/.well-known/acme-challenge/").
// A route answers over HTTPS unless it says otherwise: on the plain port (80) only the
// routes marked for it answer (the ACME HTTP-01 challenge, RFC 8555 §8.3), and every other
// request is sent to the same URL over HTTPS (301), on a host this server serves.
// STANDARDS: RFC 9110 §9.3.2 (HEAD answers as GET without content), §15.5.6 (405 carries
// Allow), RFC 8555 §8.3.
// SECURITY: handlers run on the work pool with the request already bounded by the server's
// limits; a redirect never names a host the server does not serve (an attacker's Host
// header is not echoed into Location).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace mk::http {

using Handler = std::function<Response(const Request&)>;

// Where a route answers.
enum class Over { https, http, both };

class Router {
 public:
  // default_host: where redirects go when the request's Host is not ours; is_ours: whether
  // a host name (lower-case) is one this server answers for; https_port: the port redirects
  // name (443 is left out of the URL).
  Router(std::string default_host, std::function<bool(std::string_view)> is_ours, std::uint16_t https_port = 443);

  // methods: e.g. {"GET"} (HEAD is answered wherever GET is); prefix: path is a prefix.
  void add(std::vector<std::string> methods, std::string path, Handler handler, Over over = Over::https,
           bool prefix = false);

  Response route(const Request& req) const;

 private:
  struct Route {
    std::vector<std::string> methods;
    std::string path;
    Handler handler;
    Over over;
    bool prefix;
    bool matches(std::string_view p) const { return prefix ? p.starts_with(path) : p == path; }
    bool answers(bool tls) const { return over == Over::both || (over == Over::https) == tls; }
  };
  std::string default_host_;
  std::function<bool(std::string_view)> is_ours_;
  std::uint16_t https_port_;
  std::vector<Route> routes_;
};

}  // namespace mk::http
