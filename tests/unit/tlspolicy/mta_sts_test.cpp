// Tests for tlspolicy/mta_sts.hpp: the policy mailkeep serves for its own domains reads
// back as what was meant, and its TXT record's id follows the policy text.
#include "tlspolicy/mta_sts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mk::tlspolicy {
namespace {

TEST(MtaSts, TheServedPolicyIsExactlyTheRfcForm) {
  // RFC 8461 §3.2's example, in the order of its fields.
  EXPECT_EQ(render_sts_policy(StsMode::enforce, {"mail.example.com", "*.example.net"}, 604800),
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
            "max_age: 604800\r\n");
}

TEST(MtaSts, TheServedPolicyReadsBackAsMeant) {
  for (auto mode : {StsMode::enforce, StsMode::testing}) {
    auto p = parse_sts_policy(render_sts_policy(mode, {"mx.example.org"}, 86400));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->mode, mode);
    EXPECT_EQ(p->mx, std::vector<std::string>{"mx.example.org"});
    EXPECT_EQ(p->max_age, 86400);
    EXPECT_TRUE(p->allows("mx.example.org"));
    EXPECT_FALSE(p->allows("other.example.org"));
  }
}

TEST(MtaSts, TheRecordIdChangesExactlyWhenThePolicyDoes) {
  const auto a = render_sts_policy(StsMode::enforce, {"mx.example.org"}, 604800);
  const auto b = render_sts_policy(StsMode::testing, {"mx.example.org"}, 604800);
  EXPECT_EQ(sts_txt_for(a), sts_txt_for(a));
  EXPECT_NE(sts_txt_for(a), sts_txt_for(b));
  // What a sender reads from it: a valid STSv1 record whose id is 1-32 letters and digits.
  auto id = parse_sts_txt(sts_txt_for(a));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 16u);
  EXPECT_EQ(sts_txt_for(a), "v=STSv1; id=" + *id);
}

TEST(MtaSts, PoliciesThatAreNotStsv1AreRefused) {
  EXPECT_FALSE(parse_sts_policy("version: STSv2\r\nmode: enforce\r\nmx: a.example\r\nmax_age: 1\r\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmax_age: 1\r\n"));  // no mx
  EXPECT_FALSE(parse_sts_policy("version: STSv1\r\nmode: strict\r\nmx: a.example\r\nmax_age: 1\r\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmx: a.example\r\n"));  // no max_age
  EXPECT_TRUE(parse_sts_policy("version: STSv1\r\nmode: none\r\nmax_age: 1\r\n"));
}

// The policy fetch's HTTP/1.1 response: the chunked coding's sizes are hex of either case, at
// most 8 digits; anything malformed, cut short or over the body limit is no response.
TEST(MtaSts, HttpResponsesAreReadWithinTheirLimits) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: Text/Plain\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body26(26, 'x'), body10(10, 'y');
  auto r = parse_http_response(
      head + "1a\r\n" + body26 + "\r\nA;ext=1\r\n" + body10 + "\r\n0\r\n\r\n", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "text/plain");
  EXPECT_EQ(r->body, body26 + body10);
  r = parse_http_response(head + "1A\r\n" + body26 + "\r\n00000000\r\n\r\n", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, body26);
  for (const std::string& bad :
       std::vector<std::string>{"1g\r\n" + body26 + "\r\n0\r\n\r\n",  // not hex
                                "\r\n0\r\n\r\n",                      // no size
                                "000000001\r\nx\r\n0\r\n\r\n",        // 9 digits
                                "-1\r\nx\r\n0\r\n\r\n",               // a sign
                                "1a\r\n" + std::string(25, 'x'),      // cut short
                                "1a\r\n" + body26 + "\r\n"})          // no last chunk
    EXPECT_FALSE(parse_http_response(head + bad, 100)) << bad;
  EXPECT_FALSE(
      parse_http_response(head + "1a\r\n" + body26 + "\r\n0\r\n\r\n", 25));  // over the limit
  // Content-Length: the body is cut to it, and a length past the body or the limit is refused.
  const std::string plain = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabcdef";
  r = parse_http_response(plain, 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "abc");
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nabcdef", 100));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\n\r\nabcdef", 5));
  EXPECT_FALSE(
      parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", 100));  // no end of head
  EXPECT_FALSE(parse_http_response("HTTP/2 200\r\n\r\n", 100));
}

}  // namespace
}  // namespace mk::tlspolicy
