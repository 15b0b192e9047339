#include "message/links.hpp"

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/mime.hpp"

namespace mk::message {
namespace {

bool url_char(unsigned char c) {
  return c > 0x20 && c != 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' && c != '\\';
}

void scan(std::string_view text, std::vector<std::string>& out, std::size_t max_links) {
  const std::string lower = to_lower(text);
  for (std::size_t p = lower.find("http"); p != std::string::npos && out.size() < max_links;
       p = lower.find("http", p + 1)) {
    std::size_t q = p + 4;
    if (q < lower.size() && lower[q] == 's') ++q;
    if (lower.compare(q, 3, "://") != 0) continue;
    std::size_t e = q + 3;
    while (e < text.size() && url_char(static_cast<unsigned char>(text[e]))) ++e;
    if (e == q + 3) continue;  // "http://" and nothing
    out.emplace_back(text.substr(p, e - p));
    p = e - 1;
  }
}

void walk(std::string_view msg, const Part& part, std::vector<std::string>& out, std::size_t max_links) {
  if (out.size() >= max_links) return;
  if (part.is_multipart() || part.is_message()) {
    for (const auto& c : part.children) walk(msg, c, out, max_links);
    return;
  }
  if (part.type != "text" || part.disposition == "attachment") return;
  scan(decode_transfer(part.body(msg), part.encoding), out, max_links);
}

}  // namespace

std::optional<UrlParts> split_url(std::string_view url) {
  const auto p = url.find("://");
  if (p == std::string_view::npos) return std::nullopt;
  const std::string_view after = url.substr(p + 3);
  const auto end = std::min(after.size(), after.find_first_of("/?#"));
  UrlParts u;
  u.host = after.substr(0, end);
  u.rest = after.substr(end);
  if (const auto at = u.host.rfind('@'); at != std::string_view::npos) {
    u.userinfo = true;
    u.host.remove_prefix(at + 1);
  }
  u.host = u.host.substr(0, u.host.find(':'));
  return u;
}

std::vector<std::string> find_links(std::string_view msg, std::size_t max_links) {
  std::vector<std::string> out;
  walk(msg, parse_mime(msg), out, max_links);
  return out;
}

std::vector<std::string> find_links(std::string_view msg, const Part& root, std::size_t max_links) {
  std::vector<std::string> out;
  walk(msg, root, out, max_links);
  return out;
}

}  // namespace mk::message
