#include "dns/rdata.hpp"

#include <arpa/inet.h>

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

std::optional<Tlsa> parse_tlsa(std::string_view d) {
  if (d.size() < 3) return std::nullopt;
  return Tlsa{std::uint8_t(d[0]), std::uint8_t(d[1]), std::uint8_t(d[2]), std::string(d.substr(3))};
}

}  // namespace mk::dns
