// net/interfaces.hpp: this machine's public addresses, as its network interfaces say, for the
// A/AAAA and PTR records `mailkeep quickstart` asks the admin to publish.
//
// STANDARDS: RFC 6890 (special-purpose address registries), RFC 6598 (shared address space),
// RFC 4193 (unique local IPv6), RFC 4291 §2.4 (global unicast).
// SECURITY: reads the kernel's interface list only; a machine behind NAT has no public address
// on an interface, and the caller then says the addresses are unknown rather than guess.
#pragma once

#include <string>
#include <vector>

#include "base/ip.hpp"

namespace mk::net {

// Whether mail from the Internet could reach the address: not private, loopback, link-local,
// shared (CGNAT), documentation, multicast or reserved; for IPv6, global unicast (2000::/3).
bool is_public_address(const IpAddr& ip);

// Every address on this machine's interfaces that are up (loopback, private and public).
std::vector<IpAddr> interface_addresses();
// 127.0.0.0/8 or ::1.
bool is_loopback(const IpAddr& ip);

// The public addresses on this machine's interfaces that are up, IPv4 first, without
// duplicates (RFC 5952 text form).
std::vector<std::string> public_interface_addresses();

}  // namespace mk::net
