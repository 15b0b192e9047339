// Logins against the breached-password list: a correct password that shows up in a newer
// breach flags the account and, in "block" mode, stops protocol logins until it is changed.
#include <gtest/gtest.h>

#include <openssl/sha.h>

#include <fstream>

#include "auth/app_password.hpp"
#include "auth/login.hpp"
#include "auth/password.hpp"
#include "auth/totp.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::auth {
namespace {

class LoginTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    ASSERT_TRUE(store_->add_account("alice@example.org", *hash_password(kPassword)).ok());
  }
  // Writes the list with the given passwords and imports it as the server's index.
  std::string import(std::initializer_list<std::string_view> passwords) {
    const std::string list = dir_ + "/list.txt", idx = dir_ + "/breached.idx";
    std::ofstream f(list);
    for (auto p : passwords) {
      unsigned char d[20];
      SHA1(reinterpret_cast<const unsigned char*>(p.data()), p.size(), d);
      for (unsigned char c : d) f << "0123456789ABCDEF"[c >> 4] << "0123456789ABCDEF"[c & 15];
      f << ":5\n";
    }
    f.close();
    EXPECT_TRUE(import_breached(list, idx).ok());
    return idx;
  }
  static constexpr std::string_view kPassword = "old but gold 2019";
};

TEST_F(LoginTest, BreachedPasswordBlocksUntilChanged) {
  const BreachedList list(dir_ + "/breached.idx");
  std::vector<std::pair<std::string, bool>> told;  // address, newly flagged
  LoginPolicy policy;
  policy.breached = &list;
  policy.on_breached = [&](const std::string& a, bool, bool newly) { told.emplace_back(a, newly); };
  bool breached = true;
  ASSERT_TRUE(check_login(*store_, "alice@example.org", kPassword, policy, &breached));  // no list yet
  EXPECT_FALSE(breached);
  import({"123456", kPassword});
  const BreachedList fresh(dir_ + "/breached.idx");  // a new process, or kRecheckSeconds later
  policy.breached = &fresh;
  EXPECT_FALSE(check_login(*store_, "alice@example.org", kPassword, policy, &breached));
  EXPECT_TRUE(breached);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], std::make_pair(std::string("alice@example.org"), true));
  EXPECT_TRUE((*store_->find_account("alice@example.org"))->password_breached);
  // A wrong password says nothing about breaches (and does not tell the caller).
  EXPECT_FALSE(check_login(*store_, "alice@example.org", "wrong password!", policy, &breached));
  EXPECT_FALSE(breached);
  // The flag stays even without the list, until the password changes.
  LoginPolicy no_list;
  no_list.breached = &list;
  EXPECT_FALSE(check_login(*store_, "alice@example.org", kPassword, no_list, &breached));
  ASSERT_TRUE(store_->set_password("alice@example.org", *hash_password("a brand new one 2026")).ok());
  EXPECT_FALSE((*store_->find_account("alice@example.org"))->password_breached);
  EXPECT_TRUE(check_login(*store_, "alice@example.org", "a brand new one 2026", policy, &breached));
}

TEST_F(LoginTest, WarnModeLogsInAndFlags) {
  import({kPassword});
  const BreachedList list(dir_ + "/breached.idx");
  LoginPolicy policy;
  policy.breached = &list;
  policy.block_breached = false;
  bool breached = false;
  EXPECT_TRUE(check_login(*store_, "ALICE@example.org", kPassword, policy, &breached));
  EXPECT_TRUE(breached);
  EXPECT_TRUE((*store_->find_account("alice@example.org"))->password_breached);
}

TEST_F(LoginTest, AppPasswordsByScopeAndRequired) {
  const auto id = (*store_->find_account("alice@example.org"))->id;
  store::AppPassword p;
  p.account_id = id;
  p.name = "phone";
  p.hash = app_password_hash("phone-secret-1234567");
  p.scopes = *parse_scopes("submission");
  ASSERT_TRUE(store_->add_app_password(p).ok());
  const LoginPolicy none;
  EXPECT_TRUE(check_login(*store_, "alice@example.org", "phone-secret-1234567", none, nullptr, nullptr, "submission"));
  EXPECT_FALSE(check_login(*store_, "alice@example.org", "phone-secret-1234567", none, nullptr, nullptr, "imap"));
  EXPECT_FALSE(check_login(*store_, "alice@example.org", "phone-secret-1234567"));  // no service: no app passwords
  EXPECT_NE((*store_->app_passwords(id))[0].last_used, 0);
  ASSERT_TRUE(store_->set_require_app_passwords("alice@example.org", true).ok());
  EXPECT_FALSE(check_login(*store_, "alice@example.org", kPassword, none, nullptr, nullptr, "imap"));
  EXPECT_TRUE(check_login(*store_, "alice@example.org", "phone-secret-1234567", none, nullptr, nullptr, "submission"));
  EXPECT_FALSE(parse_scopes("imap,pop3").ok());
  EXPECT_EQ(*parse_scopes(" submission , imap,imap"), "imap,submission");
}

TEST_F(LoginTest, WebLoginNeedsTheAccountPasswordAndTotp) {
  constexpr std::int64_t kNow = 1764547200;
  const std::string user = "alice@example.org";
  // Without TOTP: the account password, never an app password.
  store::AppPassword p;
  p.account_id = (*store_->find_account(user))->id;
  p.name = "phone";
  p.hash = app_password_hash("phone-secret-1234567");
  p.scopes = *parse_scopes("imap,submission");
  ASSERT_TRUE(store_->add_app_password(p).ok());
  EXPECT_TRUE(check_web_login(*store_, user, kPassword, "", kNow).account);
  EXPECT_FALSE(check_web_login(*store_, user, "phone-secret-1234567", "", kNow).account);
  ASSERT_TRUE(store_->set_require_app_passwords(user, true).ok());  // for IMAP and SMTP only
  EXPECT_TRUE(check_web_login(*store_, user, kPassword, "", kNow).account);
  // With TOTP: the password alone asks for the code; a right code once, never twice.
  const std::string secret = new_totp_secret();
  ASSERT_TRUE(store_->set_totp(user, secret).ok());
  auto w = check_web_login(*store_, user, kPassword, "", kNow);
  EXPECT_FALSE(w.account);
  EXPECT_TRUE(w.code_needed);
  const std::string code = *totp_code(secret, kNow);
  w = check_web_login(*store_, "nobody@example.org", kPassword, code, kNow);
  EXPECT_FALSE(w.account);
  EXPECT_FALSE(w.code_needed);  // an unknown user looks like a wrong password
  w = check_web_login(*store_, user, "wrong password!", code, kNow);
  EXPECT_FALSE(w.account || w.code_needed);  // the code is not even looked at
  EXPECT_FALSE(check_web_login(*store_, user, kPassword, "000000" == code ? "111111" : "000000", kNow).account);
  EXPECT_FALSE(check_web_login(*store_, user, kPassword, *totp_code(secret, kNow - 90), kNow).account);  // stale
  EXPECT_TRUE(check_web_login(*store_, user, kPassword, code, kNow).account);
  EXPECT_FALSE(check_web_login(*store_, user, kPassword, code, kNow).account);  // replayed
  EXPECT_TRUE(check_web_login(*store_, user, kPassword, *totp_code(secret, kNow + 30), kNow + 30).account);
}

}  // namespace
}  // namespace mk::auth
