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

TEST(Rdata, SrvCaa) {
  auto srv = parse_srv("\x00\x00\x00\x01\x01\xd1\x04Mail\x07" "example\x03org\x00"s);
  ASSERT_TRUE(srv);
  EXPECT_EQ(srv->priority, 0);
  EXPECT_EQ(srv->weight, 1);
  EXPECT_EQ(srv->port, 465);
  EXPECT_EQ(srv->target, "mail.example.org");
  EXPECT_EQ(parse_srv(encode_srv(*srv))->target, "mail.example.org");
  EXPECT_EQ(parse_srv("\x00\x00\x00\x00\x00\x00\x00"s)->target, "");  // RFC 2782: "." = not offered
  EXPECT_FALSE(parse_srv("\x00\x00\x00\x01\x01"s));                   // no target
  auto caa = parse_caa("\x80\x05issueletsencrypt.org"s);
  ASSERT_TRUE(caa);
  EXPECT_EQ(caa->flags, 128);
  EXPECT_EQ(caa->tag, "issue");
  EXPECT_EQ(caa->value, "letsencrypt.org");
  EXPECT_EQ(encode_caa(*caa), "\x80\x05issueletsencrypt.org"s);
  EXPECT_FALSE(parse_caa("\x00\x09issue"s));  // tag runs past the end
  EXPECT_FALSE(parse_caa("\x00\x00"s));       // empty tag
  EXPECT_EQ(encode_tlsa(Tlsa{3, 1, 1, "\xab"s}), "\x03\x01\x01\xab"s);
}

}  // namespace
}  // namespace mk::dns
