// app/web.hpp: the web server's routes (http/), wired from the configuration and the store.
#pragma once

#include <memory>

#include "app/config.hpp"
#include "http/acme_challenge.hpp"
#include "http/router.hpp"
#include "store/directory.hpp"
#include "web/api.hpp"

namespace mk::app {

// The routes of the HTTP and HTTPS listeners: ACME HTTP-01 answers, the MTA-STS policy and
// client autoconfiguration for the hosted domains, and the JSON API (api: null for none).
// directory, challenges and api must outlive it.
std::unique_ptr<http::Router> make_router(const Config& cfg, store::Directory& directory,
                                          const http::AcmeChallenges& challenges, web::Api* api = nullptr);

}  // namespace mk::app
