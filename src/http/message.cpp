#include "http/message.hpp"

#include "base/strings.hpp"

namespace mk::http {

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string> Request::param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    auto key = form_decode(pair.substr(0, eq));
    if (!key || *key != name) continue;
    return eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::redirect(int status, std::string location) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      const int byte = hex_pair(s, i + 1);
      if (byte < 0) return std::nullopt;
      out += char(byte);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string host_of(std::string_view h) {
  h = trim(h);
  if (h.empty()) return {};
  std::string_view name;
  if (h.front() == '[') {
    const auto close = h.find(']');
    if (close == std::string_view::npos) return {};
    name = h.substr(0, close + 1);
    h.remove_prefix(close + 1);
  } else {
    const auto colon = h.find(':');
    name = h.substr(0, colon);
    h.remove_prefix(name.size());
  }
  if (!h.empty()) {  // ":port"
    if (h.front() != ':' || h.size() > 6) return {};
    for (char c : h.substr(1))
      if (!is_digit(c)) return {};
  }
  if (name.empty() || name.size() > 255) return {};
  for (char c : name)
    if (!(is_digit(c) || is_alpha(c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':')) return {};
  std::string out = to_lower(name);
  if (out.back() == '.') out.pop_back();  // "example.org." names the same host
  return out;
}

Fields security_headers(bool tls) {
  Fields f = {
      // Pages that need more (the admin UI's own script and style) set their own policy.
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
  // RFC 6797: only over a secure connection (§7.2); a year, as browsers' preload lists ask.
  if (tls) f.emplace_back("Strict-Transport-Security", "max-age=31536000");
  return f;
}

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace mk::http
