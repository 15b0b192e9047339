#include "web/api.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/error.hpp"
#include "web/routes.hpp"

namespace mk::web {

namespace json = boost::json;
namespace asio = boost::asio;

namespace {

constexpr std::string_view kPrefix = "/api/v1";
// Request bodies are small objects: a deeper nesting is not one of ours.
constexpr std::size_t kMaxDepth = 8;

// Percent-decoding of one path segment (RFC 3986 §2.1): '+' stays a plus (an address may
// hold one); nullopt for a malformed escape or a decoded NUL or slash.
std::optional<std::string> segment_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int byte = hex_pair(s, i + 1);
    if (byte < 0) return std::nullopt;
    const char c = char(byte);
    if (c == '\0' || c == '/') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  for (auto s : split(p, '/'))
    if (!s.empty()) out.emplace_back(s);
  return out;
}

bool reads(std::string_view method) { return method == "GET" || method == "HEAD"; }

json::value parse_schema(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw std::logic_error("a route's schema is not JSON: " + text);  // a bug in a route table
  return v;
}

}  // namespace

std::optional<std::int64_t> id_param(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

Reply ok(json::value body, int status) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Reply no_content() {
  Reply r;
  r.status = 204;
  return r;
}

Reply error(int status, std::string_view code, std::string_view message) {
  Reply r;
  r.status = status;
  r.body = json::object{{"error", json::object{{"code", code}, {"message", message}}}};
  return r;
}

Reply error_from(const Error& e) {
  if (store::is(e, store::Errc::not_found)) return error(404, "not_found", e.message);
  if (store::is(e, store::Errc::already_exists)) return error(409, "exists", e.message);
  if (store::is(e, store::Errc::conflict)) return error(409, "conflict", e.message);
  if (store::is(e, store::Errc::invalid)) return error(400, "invalid", e.message);
  if (e.code == 0) return error(400, "invalid", e.message);  // an operation's refusal (admin/, auth/)
  return error(500, "internal", "the server could not do it; its log says why");
}

Reply bad_field(std::string_view name, std::string_view expected) {
  return error(400, "invalid", fmt::format("\"{}\" must be {}", name, expected));
}

std::optional<std::string> string_field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

std::optional<std::int64_t> int_field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64() && it->value().as_uint64() <= std::uint64_t(INT64_MAX))
    return std::int64_t(it->value().as_uint64());
  return std::nullopt;
}

std::optional<bool> bool_field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_bool()) return std::nullopt;
  return it->value().as_bool();
}

http::Response json_response(int status, const json::value& body) {
  http::Response r;
  r.status = status;
  if (status != 204) {
    r.content_type = "application/json";
    r.body = json::serialize(body);
    r.body += '\n';
  }
  return r;
}

void Api::add(std::string method, std::string pattern, Access access, Doc doc, Route handler) {
  Entry e{std::move(method), pattern, split_path(pattern), access, std::move(doc), std::move(handler), {}, {}};
  // Checked once, at start-up; the body's fields are read from the schema the document shows.
  if (!e.doc.request.empty()) {
    const json::value req = parse_schema(e.doc.request);
    if (auto* props = req.as_object().if_contains("properties"))
      for (const auto& [name, spec] : props->as_object())
        e.fields.emplace_back(std::string(name), std::string(spec.as_object().at("type").as_string()));
    if (auto* required = req.as_object().if_contains("required"))
      for (const auto& name : required->as_array()) e.required.emplace_back(name.as_string());
  }
  parse_schema(e.doc.response);
  routes_.push_back(std::move(e));
}

namespace {

bool has_type(const json::value& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_int64() || v.is_uint64();
  if (type == "boolean") return v.is_bool();
  if (type == "number") return v.is_number();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

}  // namespace

void Api::mark_slow(std::string method, std::string pattern) {
  slow_.emplace_back(std::move(method), std::move(pattern));
}

bool Api::slow(const http::Request& req) const {
  // Exact paths only: handle() answers any other spelling with 404 before any password check.
  for (const auto& [m, p] : slow_)
    if (req.method == m && req.path == p) return true;
  return false;
}

bool Api::match(const Entry& e, const std::vector<std::string>& segs, std::map<std::string, std::string>& out) const {
  if (e.segments.size() != segs.size()) return false;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& want = e.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      auto v = segment_decode(segs[i]);
      if (!v || v->empty()) return false;
      params[want.substr(1, want.size() - 2)] = std::move(*v);
    } else if (want != segs[i]) {
      return false;
    }
  }
  out = std::move(params);
  return true;
}

namespace {

http::Response to_response(const Reply& r);

// The rest of a reply that finishes asynchronously; by value, as it outlives the handler.
asio::awaitable<http::Response> finish(std::function<asio::awaitable<Reply>()> then) {
  Reply r = co_await then();
  co_return to_response(r);
}

http::Response to_response(const Reply& r) {
  auto res = json_response(r.status, r.body);
  res.headers.insert(res.headers.end(), r.headers.begin(), r.headers.end());
  res.delay = r.delay;
  res.close = r.close;
  if (r.then) res.then = [then = r.then] { return finish(then); };
  return res;
}

}  // namespace

http::Response Api::handle(const http::Request& req, std::int64_t now) {
  const auto segs = split_path(req.path);
  std::string canonical;
  for (const auto& s : segs) canonical += "/" + s;
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  const Entry* found = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;
  for (const auto& e : routes_) {
    std::map<std::string, std::string> p;
    if (!match(e, segs, p)) continue;
    allowed.push_back(e.method);
    if (e.method == method && !found) {
      found = &e;
      params = std::move(p);
    }
  }
  auto answer = [](const Reply& r) { return to_response(r); };
  // One spelling per route ("/api/v1//session/" is not one): what the server decides from the
  // path (the login pool) cannot be dodged by another spelling of it.
  if (canonical != req.path) return answer(error(404, "not_found", "no such API route"));
  if (!found && allowed.empty()) return answer(error(404, "not_found", "no such API route"));
  if (!found) {
    auto res = answer(error(405, "method_not_allowed", "this route does not take " + log_safe(req.method, 16)));
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) allowed.push_back("HEAD");
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    res.headers.emplace_back("Allow", allow);
    return res;
  }

  // A banned network gets nothing from the API, and the connection is closed (as IMAP and
  // SMTP refuse it at connect).
  if (sessions_.banned(req, now)) {
    Reply r = error(403, "banned", "too many failed logins from your network; try again later");
    r.close = true;
    return answer(r);
  }
  bool token_failed = false;
  const std::optional<Principal> who = sessions_.who(req, now, &token_failed);
  if (token_failed) {
    Reply r = error(401, "unauthorized", "the API token is not valid");
    r.delay = sessions_.failed(req, "", now, &r.close);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return answer(r);
  }
  if (found->access != Access::anyone && !who) return answer(error(401, "unauthorized", "log in first"));
  auto denied = [&](std::string_view code, std::string_view message) {
    sessions_.denied(req, *who, code);
    return answer(error(403, code, message));
  };
  const bool for_admins = found->access == Access::admin || found->access == Access::admin_session;
  if (for_admins && !who->admin) return denied("forbidden", "only an administrator may do this");
  if (who && who->via_token) {
    // An API token reaches admin routes only, a share token share routes only.
    if (who->share_only && found->access != Access::share)
      return denied("forbidden", "a share token may only share links");
    if (!who->share_only && found->access != Access::admin)
      return denied("forbidden", "an API token may not do this; log in to the pages");
  }
  if (!reads(method) && who) {
    if (!Sessions::csrf_ok(req, *who))
      return denied("csrf", "the request lacks the page's X-CSRF-Token: reload the page");
    if (!who->may_write) return denied("forbidden", "this API token may only read");
  }

  json::object body;
  if (!req.body.empty()) {
    const auto type = req.header("content-type").value_or("");
    if (!to_lower(type).starts_with("application/json"))
      return answer(error(415, "unsupported_media_type", "send the body as application/json"));
    json::parse_options opts;
    opts.max_depth = kMaxDepth;
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec, {}, opts);
    if (ec || !v.is_object()) return answer(error(400, "invalid", "the body must be a JSON object"));
    body = std::move(v.as_object());
  }
  for (const auto& kv : body) {
    const std::string_view name = kv.key();
    const json::value& value = kv.value();
    auto f = std::find_if(found->fields.begin(), found->fields.end(), [name](const auto& p) { return p.first == name; });
    if (f == found->fields.end())
      return answer(error(400, "invalid", fmt::format("unknown field \"{}\"", log_safe(name, 64))));
    if (!has_type(value, f->second))
      return answer(error(400, "invalid", fmt::format("\"{}\" must be a{} {}", f->first,
                                                      f->second == "integer" || f->second == "array" || f->second == "object" ? "n" : "",
                                                      f->second)));
  }
  for (const auto& name : found->required)
    if (!body.contains(name)) return answer(error(400, "invalid", fmt::format("\"{}\" is missing", name)));
  Call call{req, who ? &*who : nullptr, std::move(params), std::move(body), now};
  return answer(found->handler(call));
}

const std::string& Api::openapi(std::string_view server_url) const {
  std::call_once(openapi_once_, [&] { openapi_ = make_openapi(server_url); });
  return openapi_;
}

std::string Api::make_openapi(std::string_view server_url) const {
  json::object paths;
  for (const auto& e : routes_) {
    json::object op;
    op["summary"] = e.doc.summary;
    op["operationId"] = fmt::format("{}{}", to_lower(e.method), [&] {
      std::string id;
      for (const auto& s : e.segments) {
        if (s == "api" || s == "v1") continue;
        std::string w = s.front() == '{' ? "By" + s.substr(1, s.size() - 2) : s;
        for (std::size_t i = 0; i < w.size(); ++i)
          if (w[i] == '-' || w[i] == '_') w.erase(i, 1), w[i] = char(std::toupper(static_cast<unsigned char>(w[i])));
        if (!w.empty()) w[0] = char(std::toupper(static_cast<unsigned char>(w[0])));
        id += w;
      }
      return id;
    }());
    op["tags"] = json::array{json::value(e.doc.tag)};
    op["x-access"] = e.access == Access::admin           ? "admin"
                     : e.access == Access::admin_session ? "admin-session"
                     : e.access == Access::user          ? "user"
                     : e.access == Access::share         ? "share"
                                                         : "anyone";
    json::array params;
    for (const auto& s : e.segments) {
      if (s.front() != '{') continue;
      const std::string name = s.substr(1, s.size() - 2);
      std::string desc;
      for (const auto& p : e.doc.query)
        if (p.name == name && p.in == "path") desc = p.description;
      params.push_back(json::object{{"name", name}, {"in", "path"}, {"required", true},
                                    {"description", desc}, {"schema", json::object{{"type", "string"}}}});
    }
    for (const auto& p : e.doc.query) {
      if (p.in != "query") continue;
      params.push_back(json::object{{"name", p.name}, {"in", "query"}, {"required", p.required},
                                    {"description", p.description}, {"schema", json::object{{"type", p.type}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!e.doc.request.empty())
      op["requestBody"] = json::object{
          {"required", true},
          {"content", json::object{{"application/json", json::object{{"schema", parse_schema(e.doc.request)}}}}}};
    json::object responses;
    json::object ok{{"description", "done"}};
    if (e.doc.status != 204)
      ok["content"] = json::object{{"application/json", json::object{{"schema", parse_schema(e.doc.response)}}}};
    responses[std::to_string(e.doc.status)] = std::move(ok);
    responses["default"] = json::object{
        {"description", "an error"},
        {"content", json::object{{"application/json",
                                  json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}}}};
    op["responses"] = std::move(responses);
    if (e.access == Access::anyone) op["security"] = json::array{json::object{}};
    auto& item = paths[e.pattern];
    if (!item.is_object()) item = json::object{};
    item.as_object()[to_lower(e.method)] = std::move(op);
  }
  json::object doc{
      {"openapi", "3.1.0"},
      {"info", json::object{{"title", "mailkeep API"},
                            {"version", "1"},
                            {"description",
                             "Log in with POST /api/v1/session (the cookie it sets is the session; send the "
                             "csrf value it returns as X-CSRF-Token on every change), or send an admin's API "
                             "token as Authorization: Bearer."}}},
      {"servers", json::array{json::object{{"url", server_url}}}},
      {"security", json::array{json::object{{"session", json::array{}}}, json::object{{"token", json::array{}}}}},
      {"components",
       json::object{
           {"securitySchemes",
            json::object{{"session", json::object{{"type", "apiKey"}, {"in", "cookie"}, {"name", kSessionCookie}}},
                         {"token", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
           {"schemas",
            json::object{{"Error",
                          parse_schema(R"({"type":"object","required":["error"],"properties":{"error":{"type":"object",)"
                                       R"("required":["code","message"],"properties":{"code":{"type":"string"},)"
                                       R"("message":{"type":"string"}}}}})")}}}}},
      {"paths", std::move(paths)}};
  return json::serialize(doc);
}

}  // namespace mk::web
