#include "base/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "base/strings.hpp"

namespace mk {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  const std::string s(text);
  IpAddr a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  if (std::memcmp(a.bytes.data(), kMappedPrefix, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
    return a;
  }
  a.v4 = false;
  return a;
}

std::optional<IpAddr> IpAddr::from_bytes(std::string_view raw) {
  if (raw.size() != 4 && raw.size() != 16) return std::nullopt;
  IpAddr a;
  std::memcpy(a.bytes.data(), raw.data(), raw.size());
  if (raw.size() == 16) {
    if (std::memcmp(a.bytes.data(), kMappedPrefix, 12) == 0) return parse(a.to_string());
    a.v4 = false;
  }
  return a;
}

bool IpAddr::in_prefix(const IpAddr& net, int prefix) const {
  if (v4 != net.v4) return false;
  prefix = std::clamp(prefix, 0, bits());
  const int whole = prefix / 8, rest = prefix % 8;
  if (std::memcmp(bytes.data(), net.bytes.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const std::uint8_t mask = std::uint8_t(0xff << (8 - rest));
  return (bytes[whole] & mask) == (net.bytes[whole] & mask);
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddr::publicly_routable() const {
  struct Block {
    const char* net;
    int prefix;
  };
  static constexpr Block kLocal[] = {{"0.0.0.0", 8},  {"10.0.0.0", 8},    {"100.64.0.0", 10}, {"127.0.0.0", 8},
                                     {"169.254.0.0", 16}, {"172.16.0.0", 12}, {"192.168.0.0", 16}, {"::", 127},
                                     {"fc00::", 7},   {"fe80::", 10}};
  for (const auto& b : kLocal)
    if (in_prefix(*IpAddr::parse(b.net), b.prefix)) return false;
  return true;
}

std::string IpAddr::dotted_nibbles() const {
  if (v4) return to_string();
  // Upper case as in the RFC 7208 test suite (DNS names compare case-insensitively anyway).
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i) out += '.';
    out += kUpperHex[bytes[i] >> 4];
    out += '.';
    out += kUpperHex[bytes[i] & 15];
  }
  return out;
}

std::string IpAddr::reverse_labels() const {
  std::string out;
  if (v4) {
    for (int i = 3; i >= 0; --i) out += std::to_string(bytes[i]) + (i > 0 ? "." : "");
    return out;
  }
  for (int i = 15; i >= 0; --i) {
    out += kHex[bytes[i] & 15];
    out += '.';
    out += kHex[bytes[i] >> 4];
    if (i > 0) out += '.';
  }
  return out;
}

std::string IpAddr::reverse_name() const { return reverse_labels() + (v4 ? ".in-addr.arpa" : ".ip6.arpa"); }

std::optional<IpNetwork> IpNetwork::parse(std::string_view cidr) {
  const auto slash = cidr.find('/');
  auto ip = IpAddr::parse(cidr.substr(0, slash));
  if (!ip) return std::nullopt;
  IpNetwork n{*ip, ip->bits()};
  if (slash != std::string_view::npos) {
    auto bits = parse_u64(cidr.substr(slash + 1));
    if (!bits || *bits > std::uint64_t(ip->bits())) return std::nullopt;
    n.prefix = int(*bits);
  }
  return n;
}

}  // namespace mk
