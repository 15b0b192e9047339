// store/web.hpp: the Web role of the store: the sessions of the web pages (/admin/,
// /account/) and the API tokens of automation, one row each.
//
// SECURITY: only the SHA-256 of a session's or token's secret is stored, so a copy of the
// database opens no session. The CSRF token is kept as is: it proves only that a request
// came from a page this server served to the session's holder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

struct WebSession {
  std::int64_t id = 0;          // the handle the account's page lists and ends it by
  std::int64_t account_id = 0;
  std::string secret_hash;      // hex SHA-256 of the cookie's secret
  std::string csrf;             // sent back by the pages on every change
  std::int64_t created = 0, last_seen = 0;
  std::string ip;               // where it was last used from
  std::string agent;            // the browser's User-Agent when it logged in (capped)
};

// A token for the API (Authorization: Bearer), made by an admin for automation.
struct ApiToken {
  std::int64_t id = 0;
  std::int64_t account_id = 0;  // the admin who made it; it acts as that admin
  std::string name;             // unique per account
  std::string secret_hash;      // hex SHA-256 of the token's secret
  std::string scopes;           // "read" or "read,write"
  std::int64_t created = 0, last_used = 0;
  std::string last_ip;
};

class Web {
 public:
  virtual ~Web() = default;

  // Returns the new session's id.
  virtual Result<std::int64_t> add_web_session(const WebSession& s) = 0;
  virtual Result<std::optional<WebSession>> web_session(std::string_view secret_hash) = 0;
  virtual Status touch_web_session(std::int64_t id, std::int64_t now, std::string_view ip) = 0;
  // Newest first.
  virtual Result<std::vector<WebSession>> web_sessions(std::int64_t account_id) = 0;
  // One of the account's sessions: false if it has none with that id (another account's
  // session is never touched).
  virtual Result<bool> remove_web_session(std::int64_t account_id, std::int64_t id) = 0;
  // Every session of the account but `keep` (0: all); returns how many ended.
  virtual Result<std::size_t> remove_web_sessions(std::int64_t account_id, std::int64_t keep = 0) = 0;
  // Ends the sessions idle since before idle_before or made before created_before.
  virtual Result<std::size_t> expire_web_sessions(std::int64_t idle_before, std::int64_t created_before) = 0;

  virtual Status add_api_token(const ApiToken& t) = 0;  // Errc::already_exists: the name is taken
  virtual Result<std::optional<ApiToken>> api_token(std::string_view secret_hash) = 0;
  virtual Result<std::vector<ApiToken>> api_tokens(std::int64_t account_id) = 0;
  virtual Result<bool> revoke_api_token(std::int64_t account_id, std::string_view name) = 0;
  virtual Status api_token_used(std::int64_t id, std::int64_t now, std::string_view ip) = 0;
};

}  // namespace mk::store
