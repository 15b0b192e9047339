// check/dial.hpp: which address each listener is dialled at.
#include "check/dial.hpp"

#include <gtest/gtest.h>

namespace mk::check {
namespace {

std::vector<std::string> names(const std::vector<Target>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.name());
  return out;
}

TEST(DialTargets, Table) {
  const std::vector<Listener> defaults = {{"smtp", "0.0.0.0", 25, TlsMode::smtp_starttls},
                                          {"smtp", "::", 25, TlsMode::smtp_starttls},
                                          {"imaps", "0.0.0.0", 993, TlsMode::implicit}};
  auto local = [](const std::string& ip) { return ip == "192.0.2.1" || ip == "2001:db8::1" || ip == "11.0.17.1"; };
  struct Row {
    const char* name;
    std::vector<Listener> listeners;
    std::vector<std::string> host;
    std::vector<std::string> want;
  };
  const Row rows[] = {
      {"the hostname's addresses are this machine's", defaults, {"2001:db8::1", "192.0.2.1"},
       {"smtp 192.0.2.1:25", "smtp [2001:db8::1]:25", "imaps 192.0.2.1:993"}},
      {"behind NAT: the configured addresses, wildcards as loopback", defaults, {"203.0.113.5"},
       {"smtp 127.0.0.1:25", "smtp [::1]:25", "imaps 127.0.0.1:993"}},
      {"a listener on one address is dialled there",
       {{"smtp", "11.0.17.1", 25, TlsMode::smtp_starttls}, {"submission", "127.0.0.1", 587, TlsMode::smtp_starttls}},
       {"11.0.17.1"},
       {"smtp 11.0.17.1:25", "submission 127.0.0.1:587"}},
      {"the same address and port once",
       {{"smtp", "0.0.0.0", 25, TlsMode::smtp_starttls}, {"smtp", "192.0.2.1", 25, TlsMode::smtp_starttls}},
       {"192.0.2.1"},
       {"smtp 192.0.2.1:25"}},
  };
  for (const auto& r : rows) EXPECT_EQ(names(dial_targets(r.listeners, r.host, local)), r.want) << r.name;
}

TEST(DialTargets, LoopbackIsLocal) {
  EXPECT_TRUE(is_local_address("127.0.0.1"));
  EXPECT_FALSE(is_local_address("192.0.2.254"));
  EXPECT_FALSE(is_local_address("not an address"));
}

}  // namespace
}  // namespace mk::check
