// web/api.hpp: the versioned JSON API (/api/v1/...) and its OpenAPI document.
//
// Each route is declared once, with its method, path pattern ("/api/v1/accounts/{address}"),
// who may call it, and its documentation (summary, parameters, the JSON Schemas of its body
// and answer); /api/v1/openapi.json is generated from the same table, so the document can
// not name a route that does not exist, and the integration test calls every route it names
// and checks each answer against the schema. A body is checked against the route's schema
// before its handler runs: required fields present, no unknown ones, each of its declared JSON
// type. Answers are JSON; errors are {"error": {"code": "...", "message": "..."}} with the
// HTTP status that fits.
// STANDARDS: RFC 9110 (methods, status codes), RFC 8259 (JSON), OpenAPI 3.1.
// SECURITY: every route but the login and the document needs a principal (web/session.hpp);
// admin routes need an admin; a state change needs the session's CSRF token (or a bearer
// token with write scope); a user's routes act only on the caller's own account (no id of
// another account is ever taken from the request). Bodies are parsed with a depth and size
// bound; unknown or mistyped fields are refused with 400.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "http/message.hpp"
#include "web/session.hpp"

namespace mk::web {

// Who may call a route. An API token acts only on `admin` routes: the self-service ones and
// the token routes need a person's session, so a leaked token cannot mint app passwords,
// more tokens or a new password. `share` routes take a user's session or one of their share
// tokens, and a share token reaches nothing else.
enum class Access { anyone, user, admin, admin_session, share };

struct Call {
  const http::Request& req;
  const Principal* who;  // null for Access::anyone routes when nobody is logged in
  std::map<std::string, std::string> params;  // path parameters, percent-decoded
  boost::json::object body;                   // the request's JSON object ({} without a body)
  std::int64_t now = 0;
};

struct Reply {
  int status = 200;
  boost::json::value body;
  http::Fields headers;
  std::chrono::milliseconds delay{0};
  bool close = false;
  // Work the handler leaves to finish asynchronously (a fetch from another server): its
  // answer is the reply (http::Response::then).
  std::function<boost::asio::awaitable<Reply>()> then;
};

// A success with a JSON body, and one without (204).
Reply ok(boost::json::value body, int status = 200);
Reply no_content();
// {"error": {"code": code, "message": message}}
Reply error(int status, std::string_view code, std::string_view message);
// An Error from the store or an operation: 404 for not_found, 409 for conflicts and names
// taken, 400 for invalid input, 500 for the rest (the message is kept for the first three).
Reply error_from(const Error& e);

struct Param {
  std::string name;
  std::string in;  // "path" or "query"
  std::string type = "string";  // JSON Schema type
  std::string description;
  bool required = true;
};

struct Doc {
  std::string summary;
  std::string tag;  // groups routes in the document ("accounts", "queue", ...)
  std::vector<Param> query;  // path parameters are named by the pattern and described here too
  std::string request;  // JSON Schema of the body (JSON text); "" without a body
  std::string response;  // JSON Schema of the 2xx answer (JSON text)
  int status = 200;      // the success status
};

using Route = std::function<Reply(Call&)>;

class Api {
 public:
  explicit Api(Sessions& sessions) : sessions_(sessions) {}

  void add(std::string method, std::string pattern, Access access, Doc doc, Route handler);

  // Marks a route as one that checks a password (argon2id): the server runs it on the login
  // threads (http::ServerConfig::slow), apart from the work mail needs.
  void mark_slow(std::string method, std::string pattern);
  bool slow(const http::Request& req) const;

  // Answers a request under /api/v1/.
  http::Response handle(const http::Request& req, std::int64_t now);
  // The OpenAPI 3.1 document of every route added (made once: call after the last add).
  const std::string& openapi(std::string_view server_url) const;

  Sessions& sessions() { return sessions_; }

 private:
  struct Entry {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Access access;
    Doc doc;
    Route handler;
    std::vector<std::pair<std::string, std::string>> fields;  // the body's properties and their JSON types
    std::vector<std::string> required;
  };
  std::string make_openapi(std::string_view server_url) const;
  bool match(const Entry& e, const std::vector<std::string>& segments, std::map<std::string, std::string>& out) const;

  Sessions& sessions_;
  std::vector<Entry> routes_;
  std::vector<std::pair<std::string, std::string>> slow_;  // method, canonical path (no parameters)
  mutable std::once_flag openapi_once_;
  mutable std::string openapi_;
};

// JSON body helpers: a field of the right type, or nullopt (the caller answers 400 naming it).
std::optional<std::string> string_field(const boost::json::object& o, std::string_view name);
std::optional<std::int64_t> int_field(const boost::json::object& o, std::string_view name);
std::optional<bool> bool_field(const boost::json::object& o, std::string_view name);
// 400 naming a missing or mistyped field.
Reply bad_field(std::string_view name, std::string_view expected);

// A JSON response (application/json) with the body serialized.
http::Response json_response(int status, const boost::json::value& body);

}  // namespace mk::web
