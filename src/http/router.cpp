#include "http/router.hpp"

#include <algorithm>

namespace mk::http {

Router::Router(std::string default_host, std::function<bool(std::string_view)> is_ours, std::uint16_t https_port)
    : default_host_(std::move(default_host)), is_ours_(std::move(is_ours)), https_port_(https_port) {}

void Router::add(std::vector<std::string> methods, std::string path, Handler handler, Over over, bool prefix) {
  routes_.push_back(Route{std::move(methods), std::move(path), std::move(handler), over, prefix});
}

Response Router::route(const Request& req) const {
  // HEAD is GET without the content (the server drops the body, keeps its length).
  const std::string_view method = req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    if (!r.answers(req.tls) || !r.matches(req.path)) continue;
    if (std::find(r.methods.begin(), r.methods.end(), method) != r.methods.end()) return r.handler(req);
    for (const auto& m : r.methods) {
      if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) allowed.push_back(m);
      if (m == "GET" && std::find(allowed.begin(), allowed.end(), "HEAD") == allowed.end()) allowed.push_back("HEAD");
    }
  }
  if (!allowed.empty()) {
    Response r = Response::text(405, "This resource does not take " + req.method + " requests.\n");
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (!req.tls) {
    // Everything else on the plain port moves to HTTPS: the same path and query, on the
    // host asked for when it is ours.
    const std::string& host = !req.host.empty() && is_ours_(req.host) ? req.host : default_host_;
    const std::string port = https_port_ == 443 ? "" : ":" + std::to_string(https_port_);
    return Response::redirect(301, "https://" + host + port + req.path + (req.query.empty() ? "" : "?" + req.query));
  }
  return Response::text(404, "Not found.\n");
}

}  // namespace mk::http
