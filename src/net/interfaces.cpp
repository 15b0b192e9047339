// net/interfaces.cpp: public addresses of this machine's interfaces.
// STANDARDS and SECURITY: see net/interfaces.hpp.
#include "net/interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <optional>

namespace mk::net {
namespace {

// RFC 6890 §2.2.2 and RFC 6598: IPv4 blocks that are not reachable from the Internet.
constexpr const char* kNotPublicV4[] = {
    "0.0.0.0/8",     "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24",    "192.0.2.0/24",   "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",    "240.0.0.0/4",
};
// Within 2000::/3: documentation (RFC 3849), Teredo (RFC 4380) and 6to4 (RFC 3056) addresses
// are not where a mail server's records should point.
constexpr const char* kNotPublicV6[] = {"2001:db8::/32", "2001::/32", "2002::/16"};

bool in_any(const IpAddr& ip, const auto& blocks) {
  return std::any_of(std::begin(blocks), std::end(blocks), [&](const char* b) {
    auto net = IpNetwork::parse(b);
    return net && net->contains(ip);
  });
}

}  // namespace

bool is_public_address(const IpAddr& ip) {
  if (ip.v4) return !in_any(ip, kNotPublicV4);
  static const auto kGlobalUnicast = IpNetwork::parse("2000::/3");
  return kGlobalUnicast->contains(ip) && !in_any(ip, kNotPublicV6);
}

std::vector<IpAddr> interface_addresses() {
  std::vector<IpAddr> found;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    std::optional<IpAddr> ip;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      ip = IpAddr::from_bytes(std::string_view(reinterpret_cast<const char*>(&sin->sin_addr), 4));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      ip = IpAddr::from_bytes(std::string_view(reinterpret_cast<const char*>(&sin6->sin6_addr), 16));
    }
    if (ip && std::find(found.begin(), found.end(), *ip) == found.end()) found.push_back(*ip);
  }
  ::freeifaddrs(list);
  return found;
}

bool is_loopback(const IpAddr& ip) {
  static const auto kV4 = IpNetwork::parse("127.0.0.0/8"), kV6 = IpNetwork::parse("::1/128");
  return kV4->contains(ip) || kV6->contains(ip);
}

std::vector<std::string> public_interface_addresses() {
  std::vector<IpAddr> found;
  for (const auto& ip : interface_addresses())
    if (is_public_address(ip)) found.push_back(ip);
  std::stable_partition(found.begin(), found.end(), [](const IpAddr& a) { return a.v4; });
  std::vector<std::string> out;
  for (const auto& ip : found) out.push_back(ip.to_string());
  return out;
}

}  // namespace mk::net
