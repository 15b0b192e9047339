// Tests for net/interfaces.hpp: which addresses count as public, and so get A/AAAA and PTR
// records in what quickstart prints.
#include "net/interfaces.hpp"

#include <gtest/gtest.h>

namespace mk::net {
namespace {

TEST(Interfaces, PublicAddresses) {
  struct Case {
    const char* ip;
    bool is_public;
  } cases[] = {
      {"203.0.114.1", true},
      {"8.8.8.8", true},
      {"2a01:4f8::1", true},
      {"2600::1", true},
      {"10.1.2.3", false},
      {"172.16.0.1", false},
      {"172.31.255.255", false},
      {"172.32.0.1", true},
      {"192.168.1.1", false},
      {"100.64.0.1", false},
      {"100.128.0.1", true},
      {"127.0.0.1", false},
      {"169.254.1.1", false},
      {"192.0.2.1", false},
      {"198.51.100.7", false},
      {"203.0.113.9", false},
      {"224.0.0.1", false},
      {"255.255.255.255", false},
      {"0.0.0.0", false},
      {"::1", false},
      {"::", false},
      {"fe80::1", false},
      {"fd00::1", false},
      {"2001:db8::1", false},
      {"ff02::1", false},
      {"2002:c000:201::1", false},
      {"::ffff:10.0.0.1", false},
      {"::ffff:8.8.4.4", true},
  };
  for (const auto& c : cases) {
    auto ip = IpAddr::parse(c.ip);
    ASSERT_TRUE(ip) << c.ip;
    EXPECT_EQ(is_public_address(*ip), c.is_public) << c.ip;
  }
  // Whatever this machine has, only public addresses are reported.
  for (const auto& a : public_interface_addresses())
    EXPECT_TRUE(is_public_address(*IpAddr::parse(a))) << a;
}

}  // namespace
}  // namespace mk::net
