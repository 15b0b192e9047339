// RDATA decoders on well-formed and truncated records.
#include "dns/rdata.hpp"

#include <gtest/gtest.h>

namespace mk::dns {
namespace {

using namespace std::string_literals;

TEST(Rdata, Mx) {
  auto mx = parse_mx("\x00\x0a\x02MX\x07" "Example\x03net\x00"s);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 10);
  EXPECT_EQ(mx->host, "mx.example.net");
  auto null_mx = parse_mx("\x00\x00\x00"s);  // RFC 7505: preference 0, "."
  ASSERT_TRUE(null_mx);
  EXPECT_EQ(null_mx->host, "");
  EXPECT_FALSE(parse_mx("\x00\x0a\x05mx"s));          // label runs past the end
  EXPECT_FALSE(parse_mx("\x00\x0a\x02mx\x00trail"s));  // bytes after the name
  EXPECT_FALSE(parse_mx("\x00\x0a\x40"s + std::string(64, 'a') + "\x00"s));  // label > 63
}

TEST(Rdata, AddressesTxtTlsa) {
  EXPECT_EQ(parse_address("\x7f\x00\x00\x02"s, kA), "127.0.0.2");
  EXPECT_EQ(parse_address(std::string(15, '\0') + "\x01"s, kAaaa), "::1");
  EXPECT_FALSE(parse_address("\x7f\x00\x00"s, kA));
  EXPECT_EQ(parse_txt("\x06v=spf1\x05 -all"s), "v=spf1 -all");
  EXPECT_FALSE(parse_txt("\x09short"s));
  auto t = parse_tlsa("\x03\x01\x01\xab\xcd"s);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->usage, 3);
  EXPECT_EQ(t->data, "\xab\xcd"s);
  EXPECT_FALSE(parse_tlsa("\x03\x01"s));
}

}  // namespace
}  // namespace mk::dns
