#include "auth/password.hpp"

#include <gtest/gtest.h>

namespace mk::auth {
namespace {

TEST(Password, HashAndVerify) {
  auto h = hash_password("correct horse battery");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->starts_with("$argon2id$"));
  EXPECT_TRUE(verify_password(*h, "correct horse battery"));
  EXPECT_FALSE(verify_password(*h, "correct horse batterz"));
  EXPECT_FALSE(verify_password("garbage", "x"));
  EXPECT_FALSE(needs_rehash(*h));
  EXPECT_NE(*hash_password("correct horse battery"), *h);  // salted
}

TEST(Password, Policy) {
  EXPECT_FALSE(check_password_policy("short").ok());
  EXPECT_TRUE(check_password_policy("twelve chars").ok());
  EXPECT_FALSE(check_password_policy("twelve\nchars").ok());
  EXPECT_FALSE(check_password_policy(std::string(2000, 'a')).ok());
}

TEST(Password, Generated) {
  auto a = generate_password(), b = generate_password();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(check_password_policy(a).ok());
}

}  // namespace
}  // namespace mk::auth
