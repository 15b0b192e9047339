// TOTP against the RFC 6238 Appendix B vectors (SHA-1), and the replay rule.
#include <gtest/gtest.h>

#include "auth/totp.hpp"

namespace mk::auth {
namespace {

// "12345678901234567890" in base32.
constexpr std::string_view kRfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

TEST(Totp, Rfc6238Vectors) {
  const std::pair<std::int64_t, const char*> vectors[] = {{59, "94287082"},         {1111111109, "07081804"},
                                                          {1111111111, "14050471"}, {1234567890, "89005924"},
                                                          {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& [t, code] : vectors) EXPECT_EQ(totp_code(kRfcSecret, t, 8), code) << t;
  EXPECT_EQ(totp_code(kRfcSecret, 59), "287082");  // 6 digits: the last six
  EXPECT_FALSE(totp_code("not base32!", 59));
}

TEST(Totp, WindowAndReplay) {
  const std::string secret = new_totp_secret();
  EXPECT_EQ(secret.size(), 32u);
  const std::int64_t now = 1764547200;
  const std::string code = *totp_code(secret, now);
  auto step = totp_verify(secret, code, now + 25, 0);  // the next step still accepts it
  ASSERT_TRUE(step);
  EXPECT_EQ(*step, now / kTotpStep);
  EXPECT_FALSE(totp_verify(secret, code, now, *step));   // used: refused
  EXPECT_FALSE(totp_verify(secret, code, now + 95, 0));  // too old
  EXPECT_FALSE(totp_verify(secret, "12345", now, 0));
  EXPECT_TRUE(totp_uri("mailkeep mx.example.org", "alice@example.org", secret)
                  .starts_with("otpauth://totp/mailkeep%20mx.example.org:alice@example.org?secret=" + secret));
}

}  // namespace
}  // namespace mk::auth
