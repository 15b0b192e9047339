#include "dns/rdata.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "base/strings.hpp"

namespace mk::dns {
namespace {

// Reads an uncompressed domain name (libunbound gives uncompressed RDATA).
std::optional<std::string> read_name(std::string_view d, std::size_t& pos) {
  std::string out;
  for (int labels = 0; labels < 128; ++labels) {
    if (pos >= d.size()) return std::nullopt;
    const auto len = std::uint8_t(d[pos++]);
    if (len == 0) return out;
    if (len > 63 || pos + len > d.size()) return std::nullopt;
    if (!out.empty()) out += '.';
    out += to_lower(d.substr(pos, len));
    pos += len;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Mx> parse_mx(std::string_view d) {
  if (d.size() < 3) return std::nullopt;
  Mx mx;
  mx.preference = std::uint16_t((std::uint8_t(d[0]) << 8) | std::uint8_t(d[1]));
  std::size_t pos = 2;
  auto host = read_name(d, pos);
  if (!host || pos != d.size()) return std::nullopt;
  mx.host = *host;
  return mx;
}

std::optional<std::string> parse_address(std::string_view d, int type) {
  char buf[INET6_ADDRSTRLEN];
  if (type == kA && d.size() == 4) return inet_ntop(AF_INET, d.data(), buf, sizeof buf) ? std::optional<std::string>(buf) : std::nullopt;
  if (type == kAaaa && d.size() == 16)
    return inet_ntop(AF_INET6, d.data(), buf, sizeof buf) ? std::optional<std::string>(buf) : std::nullopt;
  return std::nullopt;
}

std::optional<std::string> parse_txt(std::string_view d) {
  std::string out;
  std::size_t pos = 0;
  while (pos < d.size()) {
    const auto len = std::uint8_t(d[pos++]);
    if (pos + len > d.size()) return std::nullopt;
    out += d.substr(pos, len);
    pos += len;
  }
  return out;
}

std::optional<std::string> parse_name(std::string_view d) {
  std::size_t pos = 0;
  auto name = read_name(d, pos);
  if (!name || pos != d.size()) return std::nullopt;
  return name;
}

std::string encode_name(std::string_view name) {
  std::string out;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  for (auto label : split(name, '.')) {
    if (label.empty()) continue;
    out += char(std::min<std::size_t>(label.size(), 63));
    out += label.substr(0, 63);
  }
  out += '\0';
  return out;
}

std::string encode_txt(std::string_view text) {
  std::string out;
  do {
    const auto n = std::min<std::size_t>(text.size(), 255);
    out += char(n);
    out += text.substr(0, n);
    text.remove_prefix(n);
  } while (!text.empty());
  return out;
}

std::optional<std::string> encode_address(std::string_view ip) {
  const std::string s(ip);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
  return std::nullopt;
}

std::string encode_mx(std::uint16_t preference, std::string_view host) {
  std::string out;
  out += char(preference >> 8);
  out += char(preference & 0xff);
  return out + encode_name(host);
}

std::optional<Tlsa> parse_tlsa(std::string_view d) {
  if (d.size() < 3) return std::nullopt;
  return Tlsa{std::uint8_t(d[0]), std::uint8_t(d[1]), std::uint8_t(d[2]), std::string(d.substr(3))};
}

namespace {
std::uint16_t u16(std::string_view d, std::size_t pos) {
  return std::uint16_t((std::uint8_t(d[pos]) << 8) | std::uint8_t(d[pos + 1]));
}
void put16(std::string& out, std::uint16_t v) {
  out += char(v >> 8);
  out += char(v & 0xff);
}
}  // namespace

std::optional<Srv> parse_srv(std::string_view d) {
  if (d.size() < 7) return std::nullopt;
  Srv s{u16(d, 0), u16(d, 2), u16(d, 4), {}};
  std::size_t pos = 6;
  auto target = read_name(d, pos);
  if (!target || pos != d.size()) return std::nullopt;
  s.target = *target;
  return s;
}

std::optional<Caa> parse_caa(std::string_view d) {
  // flags, tag length (1-15, RFC 8659 §4.1), tag, value to the end of the RDATA.
  if (d.size() < 2) return std::nullopt;
  const std::size_t len = std::uint8_t(d[1]);
  if (len == 0 || 2 + len > d.size()) return std::nullopt;
  return Caa{std::uint8_t(d[0]), std::string(d.substr(2, len)), std::string(d.substr(2 + len))};
}

std::string encode_srv(const Srv& s) {
  std::string out;
  put16(out, s.priority);
  put16(out, s.weight);
  put16(out, s.port);
  return out + encode_name(s.target);
}

std::string encode_caa(const Caa& c) {
  std::string out;
  out += char(c.flags);
  out += char(std::min<std::size_t>(c.tag.size(), 255));
  return out + c.tag.substr(0, 255) + c.value;
}

std::string encode_tlsa(const Tlsa& t) {
  std::string out;
  out += char(t.usage);
  out += char(t.selector);
  out += char(t.matching);
  return out + t.data;
}

}  // namespace mk::dns
