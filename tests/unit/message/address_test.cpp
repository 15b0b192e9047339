#include "message/address.hpp"

#include <gtest/gtest.h>

namespace mk::message {
namespace {

TEST(Address, Paths) {
  struct Case {
    const char* in;
    bool ok;
    const char* canonical;
  } cases[] = {
      {"<user@Example.ORG>", true, "user@example.org"},
      {"<first.last@example.org>", true, "first.last@example.org"},
      {"<\"john doe\"@example.org>", true, "\"john doe\"@example.org"},
      {"<\"john\\\"doe\"@example.org>", true, "\"john\\\"doe\"@example.org"},
      {"<\"plain\"@example.org>", true, "plain@example.org"},
      {"<a%b@example.org>", true, "a%b@example.org"},
      {"<a!b@example.org>", true, "a!b@example.org"},
      {"<@r1.example,@r2.example:u@example.org>", true, "u@example.org"},
      {"<u@[192.0.2.1]>", true, "u@[192.0.2.1]"},
      {"<u@[IPv6:2001:db8::1]>", true, "u@[IPv6:2001:db8::1]"},
      {"<Postmaster>", true, "Postmaster"},
      {"<.a@example.org>", false, ""},
      {"<a.@example.org>", false, ""},
      {"<a..b@example.org>", false, ""},
      {"<a@example..org>", false, ""},
      {"<a@-example.org>", false, ""},
      {"<a@example.org.>", false, ""},
      {"<a@[999.1.1.1]>", false, ""},
      {"<a@[IPv6:::1::2]>", false, ""},
      {"<a@>", false, ""},
      {"<@example.org>", false, ""},
      {"<a b@example.org>", false, ""},
      {"<user>", false, ""},
      {"<\"unterminated@example.org>", false, ""},
      {"user@example.org", false, ""},
  };
  for (const auto& c : cases) {
    auto r = parse_path(c.in, false, false);
    EXPECT_EQ(r.ok(), c.ok) << c.in << (r.ok() ? "" : ": " + r.error().message);
    if (r.ok() && c.ok) {
      EXPECT_EQ(r->path.mailbox.canonical(), c.canonical) << c.in;
    }
  }
}

TEST(Address, Limits) {
  // Longer than RFC 5321's 64 octets is accepted (VERP return paths of real lists are), up
  // to kMaxAcceptedLocalPart; the whole path stays within 256.
  EXPECT_TRUE(parse_path("<focus-virus-return-1680-legit-lists-secfocus=spamassassin.taint.org@securityfocus.com>",
                         false, false).ok());
  std::string local(kMaxAcceptedLocalPart, 'a');
  EXPECT_TRUE(parse_path("<" + local + "@b.example>", false, false).ok());
  EXPECT_FALSE(parse_path("<" + local + "a@b.example>", false, false).ok());
  std::string label(63, 'b');
  EXPECT_TRUE(is_valid_domain(label + ".example", false));
  EXPECT_FALSE(is_valid_domain(label + "b.example", false));
}

TEST(Address, Utf8) {
  EXPECT_FALSE(parse_path("<ü@example.org>", false, false).ok());
  auto r = parse_path("<ü@exämple.org>", true, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->path.mailbox.utf8);
  EXPECT_FALSE(parse_path("<\xc3@example.org>", true, false).ok());      // truncated UTF-8
  EXPECT_FALSE(parse_path("<\xc0\xafx@example.org>", true, false).ok());  // overlong
}

TEST(Address, NullPath) {
  EXPECT_TRUE(parse_path("<>", false, true)->path.null);
  EXPECT_FALSE(parse_path("<>", false, false).ok());
  EXPECT_EQ(parse_path("<> SIZE=1", false, true)->consumed, 2u);
}

}  // namespace
}  // namespace mk::message
