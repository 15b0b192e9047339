// web/routes.hpp: the API's routes (web/api.hpp), by who calls them: the session (log in and
// out), a user's own account (/api/v1/me/...), and the admin's (domains, accounts, aliases,
// queue, holds, bans, the security log, API tokens).
// SECURITY: user routes take no account from the request: they act on the caller's. Every
// change an admin or user makes through the API is written to the security log with who made
// it, from where and how (session or token).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/login.hpp"
#include "base/result.hpp"
#include "setup/records.hpp"
#include "store/store.hpp"
#include "web/api.hpp"

namespace mk::web {

struct Services {
  store::Store& store;
  const auth::LoginPolicy& policy;  // its audit log records every change
  std::string breached_index;       // the breached-password list (admin::hash_new_password)
  std::string security_log;         // the security log's path
  // The DNS records a hosted domain needs, with notes on what is missing (app/dns_records.cpp).
  struct DnsPlan {
    std::vector<setup::Record> records;
    std::vector<std::string> notes;
  };
  std::function<Result<DnsPlan>(const std::string& domain)> dns_plan;
};

void add_session_routes(Api& api, Services& svc);
void add_self_routes(Api& api, Services& svc);
void add_admin_routes(Api& api, Services& svc);

// Writes an action to the security log: event "web_action", with the action, its target, the
// caller, their address and whether a session or a token did it.
void record_action(const Services& svc, const Call& call, std::string_view action, audit::Fields fields);

// A positive decimal id from a path; nullopt for anything else.
std::optional<std::int64_t> id_param(std::string_view s);

// Common JSON Schemas (JSON text) for the routes' documents.
namespace schema {
inline constexpr const char* kEmpty = R"({"type":"object"})";
}

}  // namespace mk::web
