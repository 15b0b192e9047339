// base/ip.hpp: IPv4/IPv6 addresses as values: parsing, prefix matching, reverse names.
// IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are IPv4: a dual-stack socket reports IPv4
// peers that way, and SPF, DNSBLs and throttling must see the IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mk {

struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
  bool v4 = true;

  static std::optional<IpAddr> parse(std::string_view text);
  static std::optional<IpAddr> from_bytes(std::string_view raw);  // 4 or 16 bytes
  int bits() const { return v4 ? 32 : 128; }
  // Same family and the first `prefix` bits equal (prefix clamped to the family's size).
  bool in_prefix(const IpAddr& net, int prefix) const;
  std::string to_string() const;      // "192.0.2.1", "2001:db8::1"
  std::string reverse_name() const;   // "1.2.0.192.in-addr.arpa", nibbles ".ip6.arpa"
  std::string reverse_labels() const; // the same without the suffix, as DNS lists are asked
  std::string dotted_nibbles() const; // SPF %{i}: IPv4 as is, IPv6 as 32 dotted nibbles
  // False for RFC 6890 blocks no public list (DNSBL, DNSWL) can contain: loopback,
  // private, shared, link-local, unique-local, "this network".
  bool publicly_routable() const;
  bool operator==(const IpAddr&) const = default;
};

// An address block: "10.0.0.0/8", "2001:db8::/32", or one address.
struct IpNetwork {
  IpAddr address;
  int prefix = 32;
  static std::optional<IpNetwork> parse(std::string_view cidr);
  bool contains(const IpAddr& ip) const { return ip.in_prefix(address, prefix); }
};

}  // namespace mk
