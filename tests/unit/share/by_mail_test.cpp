// Which messages are a link shared by mail (share/by_mail.hpp).
#include <gtest/gtest.h>

#include "share/by_mail.hpp"

namespace mk::share {
namespace {

std::optional<MailShare> check(std::string body, std::vector<std::string> rcpts = {"me+later@example.org"},
                               std::string head = "Subject: \r\n") {
  message::Parsed msg("From: me@example.org\r\n" + head + "\r\n" + body);
  return link_only_mail(msg, "me@example.org", rcpts);
}

TEST(ShareByMail, ALoneLinkToOnesOwnTagAddress) {
  auto s = check("https://example.net/a?b=1\r\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->url, "https://example.net/a?b=1");
  EXPECT_EQ(s->tag, "later");
  EXPECT_EQ(s->title, "");
  auto signed_ = check("\r\n  <http://example.net/x>  \r\n\r\n-- \r\nJane\r\nhttps://jane.example/\r\n",
                       {"Me+Recipes@Example.org"}, "Subject: =?utf-8?q?Soupe_=C3=A0_faire?=\r\n");
  ASSERT_TRUE(signed_);
  EXPECT_EQ(signed_->url, "http://example.net/x");
  EXPECT_EQ(signed_->tag, "Recipes");
  EXPECT_EQ(signed_->title, "Soupe \xc3\xa0 faire");
  // The plain half of a multipart/alternative, base64 or not.
  auto alt = check("--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naHR0cHM6Ly9leGFtcGxlLm5ldC8=\r\n"
                   "--b\r\nContent-Type: text/html\r\n\r\n<a href=\"https://example.net/\">x</a>\r\n--b--\r\n",
                   {"me+later@example.org"}, "Subject: https://example.net/\r\nContent-Type: multipart/alternative; boundary=b\r\n");
  ASSERT_TRUE(alt);
  EXPECT_EQ(alt->url, "https://example.net/");
  EXPECT_EQ(alt->title, "");  // the subject was the link itself
}

TEST(ShareByMail, AnythingElseIsAMail) {
  EXPECT_FALSE(check("Look at https://example.net/ please\r\n"));
  EXPECT_FALSE(check("https://example.net/\r\nand more\r\n"));
  EXPECT_FALSE(check("ftp://example.net/\r\n"));
  EXPECT_FALSE(check(""));
  EXPECT_FALSE(check("https://example.net/\r\n", {"me@example.org"}));                            // no tag
  EXPECT_FALSE(check("https://example.net/\r\n", {"you+later@example.org"}));                     // not oneself
  EXPECT_FALSE(check("https://example.net/\r\n", {"me+later@example.net"}));                      // another domain
  EXPECT_FALSE(check("https://example.net/\r\n", {"me+later@example.org", "me+other@example.org"}));  // two tags
  EXPECT_FALSE(check("https://example.net/\r\n", {"me+later@example.org", "friend@example.org"}));
  EXPECT_FALSE(check("https://example.net/\r\n", {"mex+later@example.org"}));
  EXPECT_FALSE(check("https://example.net/\r\n", {"me+@example.org"}));
  EXPECT_FALSE(check("https://example.net/" + std::string(9000, 'a') + "\r\n"));
  EXPECT_FALSE(check("--b\r\nContent-Type: text/html\r\n\r\n<a href=\"https://example.net/\">x</a>\r\n--b--\r\n",
                     {"me+later@example.org"}, "Content-Type: multipart/alternative; boundary=b\r\n"));
  // A link with an attachment, or with a picture between two texts: a letter (nothing is lost).
  EXPECT_FALSE(check("--b\r\nContent-Type: text/plain\r\n\r\nhttps://example.net/\r\n--b\r\n"
                     "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nJVBE\r\n--b--\r\n",
                     {"me+later@example.org"}, "Content-Type: multipart/mixed; boundary=b\r\n"));
  EXPECT_FALSE(check("--b\r\nContent-Type: text/plain\r\n\r\nhttps://example.net/\r\n--b\r\n"
                     "Content-Type: image/png\r\n\r\niVBO\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee above\r\n--b--\r\n",
                     {"me+later@example.org"}, "Content-Type: multipart/mixed; boundary=b\r\n"));
}

}  // namespace
}  // namespace mk::share
