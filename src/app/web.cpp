// app/web.cpp: the web server's routes, wired from the configuration and the store.
#include "app/web.hpp"

#include <ctime>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "http/wellknown.hpp"
#include "web/pages.hpp"

namespace mk::app {
namespace {

// The port clients are told to use for a service: the first configured listener's (dev
// instances listen on shifted ports), else the standard one.
std::uint16_t public_port(const std::vector<ListenAddr>& listen, std::uint16_t standard) {
  return listen.empty() ? standard : listen.front().port;
}

bool hosted(store::Directory& directory, std::string_view domain) {
  auto has = directory.has_domain(domain);
  return has && *has;  // a store error answers "not ours" (404), never a wrong page
}

}  // namespace

std::unique_ptr<http::Router> make_router(const Config& cfg, store::Directory& directory,
                                          const http::AcmeChallenges& challenges, web::Api* api) {
  const std::string hostname = to_lower(cfg.hostname);
  // The names this server answers for: its own, and each hosted domain's web names.
  auto is_ours = [&directory, hostname](std::string_view host) {
    if (host == hostname) return true;
    for (std::string_view label : {"mta-sts.", "autoconfig.", "autodiscover."})
      if (host.starts_with(label) && hosted(directory, host.substr(label.size()))) return true;
    return hosted(directory, host);
  };
  auto router = std::make_unique<http::Router>(hostname, is_ours, public_port(cfg.http.listen_tls, 443));
  http::MailSite site;
  site.hostname = hostname;
  site.imaps_port = public_port(cfg.imap.listen_tls, 993);
  site.imap_port = public_port(cfg.imap.listen, 143);
  site.submissions_port = public_port(cfg.submission.listen_tls, 465);
  site.submission_port = public_port(cfg.submission.listen, 587);
  site.hosted = [&directory](std::string_view d) { return hosted(directory, d); };
  http::add_acme_challenge(*router, challenges);
  http::add_well_known(*router, site);
  if (api) {
    web::add_pages(*router);
    const std::uint16_t port = public_port(cfg.http.listen_tls, 443);
    const std::string origin = port == 443 ? "https://" + hostname : fmt::format("https://{}:{}", hostname, port);
    router->add({"GET"}, "/api/v1/openapi.json", [api, origin](const http::Request&) {
      http::Response r;
      r.content_type = "application/json";
      r.body = api->openapi(origin);
      return r;
    });
    router->add({"GET", "POST", "PUT", "DELETE", "PATCH"}, "/api/v1/",
                [api](const http::Request& req) { return api->handle(req, std::int64_t(std::time(nullptr))); },
                http::Over::https, true);
  }
  return router;
}

}  // namespace mk::app
