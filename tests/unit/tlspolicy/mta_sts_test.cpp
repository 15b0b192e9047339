// Tests for tlspolicy/mta_sts.hpp: the policy mailkeep serves for its own domains reads
// back as what was meant, and its TXT record's id follows the policy text.
#include "tlspolicy/mta_sts.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mk::tlspolicy
