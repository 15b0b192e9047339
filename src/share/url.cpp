// share/url.cpp: http(s) URLs as browsers read them (see url.hpp).
#include "share/url.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <vector>

#include "base/strings.hpp"

namespace mk::share {
namespace {

bool is_c0_or_space(unsigned char c) { return c <= 0x20; }

// WHATWG URL §4.4 basic URL parser, its first steps: leading and trailing C0 controls and
// spaces trimmed, every tab and newline removed, and backslashes are slashes in http(s).
std::string preprocess(std::string_view s) {
  while (!s.empty() && is_c0_or_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_c0_or_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  return out;
}

// Percent-encodes what a browser encodes in a path or a query: controls, space, non-ASCII,
// and the characters that would end or confuse the request line. Existing escapes are kept.
std::string encode_part(std::string_view s, bool query) {
  std::string out;
  for (unsigned char c : s) {
    const bool encode = c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '`' ||
                        (!query && (c == '{' || c == '}')) || (query && c == '\'');
    if (encode)
      out += fmt::format("%{:02X}", c);
    else
      out += char(c);
  }
  return out;
}

bool is_dot(std::string_view seg) { return seg == "." || iequals(seg, "%2e"); }
bool is_dot_dot(std::string_view seg) {
  return seg == ".." || iequals(seg, ".%2e") || iequals(seg, "%2e.") || iequals(seg, "%2e%2e");
}

// RFC 3986 §5.2.4 remove_dot_segments, on a path that starts with "/" (with the WHATWG's
// percent-encoded dots).
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 1;  // after the leading "/"
  bool trailing_slash = false;
  for (;;) {
    const std::size_t slash = path.find('/', pos);
    const std::string_view seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    const bool last = slash == std::string_view::npos;
    if (is_dot_dot(seg)) {
      if (!out.empty()) out.pop_back();
      trailing_slash = true;
    } else if (is_dot(seg)) {
      trailing_slash = true;
    } else {
      out.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    pos = slash + 1;
  }
  std::string result;
  for (const auto& seg : out) {
    result += '/';
    result += seg;
  }
  if (trailing_slash || result.empty()) result += '/';
  return result;
}

// WHATWG URL §3.5 IPv4 number parser: decimal, 0x hex, or 0-led octal; nullopt if the part
// is not a number of that form or exceeds 32 bits.
std::optional<std::uint64_t> ipv4_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    radix = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    radix = 8;
    part.remove_prefix(1);
  }
  if (part.empty()) return 0;
  std::uint64_t value = 0;
  for (char c : part) {
    const int d = hex_value(c);
    if (d < 0 || d >= radix) return std::nullopt;
    value = value * static_cast<std::uint64_t>(radix) + static_cast<std::uint64_t>(d);
    if (value > 0xFFFFFFFFull) return std::nullopt;
  }
  return value;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// WHATWG URL §3.5 "ends in a number": the last label (a trailing empty one dropped) is
// decimal digits, or 0x and hex digits. Such a host is an IPv4 address or invalid.
bool ends_in_number(const std::vector<std::string_view>& labels) {
  if (labels.empty()) return false;
  const std::string_view last = labels.back();
  if (all_digits(last)) return true;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
    return last.substr(2).find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
  return false;
}

Result<IpAddr> parse_ipv4_host(const std::vector<std::string_view>& labels) {
  if (labels.size() > 4) return err("the host looks like an IPv4 address with too many parts");
  std::vector<std::uint64_t> numbers;
  for (const auto& l : labels) {
    auto n = ipv4_number(l);
    if (!n) return err("the host looks like an IPv4 address but a part is not a number");
    numbers.push_back(*n);
  }
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i)
    if (numbers[i] > 255) return err("an IPv4 address part is larger than 255");
  const std::uint64_t limit = 1ull << (8 * (5 - numbers.size()));
  if (numbers.back() >= limit) return err("the IPv4 address is out of range");
  std::uint64_t v = numbers.back();
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i) v += numbers[i] << (8 * (3 - i));
  const std::array<char, 4> raw{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  auto ip = IpAddr::from_bytes(std::string_view(raw.data(), raw.size()));
  if (!ip) return err("the IPv4 address is not valid");
  return *ip;
}

// The host of an http(s) URL: percent-escapes decoded, lower-cased, a number form turned into
// its IPv4 address, a bracketed IPv6 literal parsed; DNS names of letters, digits, '-', '_'
// and '.' only (a browser sends international names as xn-- labels).
Status parse_host(std::string_view raw, WebUrl& u) {
  if (raw.empty()) return err("the URL has no host");
  if (raw.front() == '[') {
    if (raw.back() != ']') return err("the IPv6 address in the URL lacks its closing ]");
    const std::string_view inside = raw.substr(1, raw.size() - 2);
    if (inside.find('%') != std::string_view::npos) return err("an IPv6 zone in a URL is refused");
    auto ip = IpAddr::parse(inside);
    if (!ip) return err("the IPv6 address in the URL is not valid");
    u.ip = *ip;
    u.host = ip->to_string();
    return {};
  }
  const std::string host = to_lower(percent_decode(raw));
  for (unsigned char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
      return err(c >= 0x80 ? "an international host name must be given in its xn-- form"
                           : "the URL's host has a character a host name cannot have");
  std::vector<std::string_view> labels;
  std::string_view rest = host;
  for (;;) {
    const std::size_t dot = rest.find('.');
    labels.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels.size() > 1 && labels.back().empty()) labels.pop_back();  // "example.com."
  if (ends_in_number(labels)) {
    auto ip = parse_ipv4_host(labels);
    if (!ip) return ip.error();
    u.ip = *ip;
    u.host = ip->to_string();
    return {};
  }
  std::string name;
  for (const auto& l : labels) {
    if (l.empty() || l.size() > 63) return err("the URL's host is not a valid host name");
    if (!name.empty()) name += '.';
    name += l;
  }
  if (name.size() > 253) return err("the URL's host name is too long");
  u.host = std::move(name);
  return {};
}

}  // namespace

std::string WebUrl::authority() const {
  std::string a = ip && !ip->v4 ? "[" + host + "]" : host;
  if (port != (https ? 443 : 80)) a += ":" + std::to_string(port);
  return a;
}

std::string WebUrl::target() const { return has_query ? path + "?" + query : path; }

std::string WebUrl::text() const {
  std::string t = (https ? "https://" : "http://") + authority() + target();
  if (has_fragment) t += "#" + fragment;
  return t;
}

Result<WebUrl> parse_web_url(std::string_view input) {
  if (input.size() > kMaxUrlText) return err(fmt::format("the URL is longer than {} characters", kMaxUrlText));
  std::string s = preprocess(input);
  for (char& c : s)
    if (c == '\\') c = '/';
  const std::size_t colon = s.find(':');
  if (colon == std::string::npos) return err("not a URL: it has no http:// or https://");
  const std::string scheme = to_lower(std::string_view(s).substr(0, colon));
  WebUrl u;
  if (scheme == "https") {
    u.https = true;
    u.port = 443;
  } else if (scheme == "http") {
    u.https = false;
    u.port = 80;
  } else {
    return err("only http:// and https:// links can be shared");
  }
  std::string_view rest = std::string_view(s).substr(colon + 1);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  const std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return err("a URL with a user name or password is refused");
  std::string_view host = authority;
  // The port: after the last ':' that is not inside an IPv6 literal's brackets.
  const std::size_t bracket = authority.rfind(']');
  const std::size_t port_colon = authority.rfind(':');
  if (port_colon != std::string_view::npos && (bracket == std::string_view::npos || port_colon > bracket)) {
    host = authority.substr(0, port_colon);
    const std::string_view port = authority.substr(port_colon + 1);
    if (!port.empty()) {
      if (!all_digits(port) || port.size() > 5) return err("the URL's port is not a number");
      const unsigned long p = std::stoul(std::string(port));
      if (p == 0 || p > 65535) return err("the URL's port is out of range");
      u.port = static_cast<std::uint16_t>(p);
    }
  }
  if (auto h = parse_host(host, u); !h) return h.error();

  const std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    u.has_fragment = true;
    u.fragment = encode_part(rest.substr(hash + 1), true);
    rest = rest.substr(0, hash);
  }
  const std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    u.has_query = true;
    u.query = encode_part(rest.substr(question + 1), true);
    rest = rest.substr(0, question);
  }
  u.path = remove_dot_segments(rest.empty() ? std::string("/") : encode_part(rest, false));
  return u;
}

Result<WebUrl> resolve_url(const WebUrl& base, std::string_view reference) {
  if (reference.size() > kMaxUrlText) return err(fmt::format("the URL is longer than {} characters", kMaxUrlText));
  std::string ref = preprocess(reference);
  for (char& c : ref)
    if (c == '\\') c = '/';
  // RFC 3986 §3.1: a scheme is a letter, then letters, digits, '+', '-' or '.', then ':'.
  std::size_t i = 0;
  if (!ref.empty() && std::isalpha(static_cast<unsigned char>(ref[0]))) {
    while (i < ref.size() && (std::isalnum(static_cast<unsigned char>(ref[i])) || ref[i] == '+' || ref[i] == '-' ||
                              ref[i] == '.'))
      ++i;
    if (i < ref.size() && ref[i] == ':') return parse_web_url(ref);
  }
  const std::string origin = std::string(base.https ? "https://" : "http://") + base.authority();
  if (ref.starts_with("//")) return parse_web_url(std::string(base.https ? "https:" : "http:") + ref);
  if (ref.empty()) return parse_web_url(origin + base.target());
  if (ref.front() == '/') return parse_web_url(origin + ref);
  if (ref.front() == '?') return parse_web_url(origin + base.path + ref);
  if (ref.front() == '#') return parse_web_url(origin + base.target() + ref);
  // §5.2.3 merge: the base path up to its last "/", then the reference.
  return parse_web_url(origin + base.path.substr(0, base.path.rfind('/') + 1) + ref);
}

}  // namespace mk::share
