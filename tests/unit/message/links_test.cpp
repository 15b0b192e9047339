// Links in message text: plain and HTML, through transfer encodings, never in attachments.
#include <gtest/gtest.h>

#include "message/links.hpp"

namespace mk::message {
namespace {

using Links = std::vector<std::string>;

TEST(Links, PlainText) {
  EXPECT_EQ(find_links("Subject: x\r\n\r\nSee https://example.com/a?b=1, or HTTP://Other.example.\r\n"),
            (Links{"https://example.com/a?b=1,", "HTTP://Other.example."}));
  EXPECT_TRUE(find_links("Subject: x\r\n\r\nno links, just http and https:// alone\r\n").empty());
  EXPECT_TRUE(find_links("Subject: https://in.header.example/\r\n\r\nbody\r\n").empty());
}

TEST(Links, EncodedHtmlAndAttachments) {
  const std::string msg =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<a href=3D\"https://login.bank.exa=\r\nmple/x\">your bank</a>\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "aHR0cDovL2I2NC5leGFtcGxlLwo=\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\n"
      "http://attached.example/\r\n"
      "--b\r\nContent-Type: application/pdf\r\n\r\nhttp://pdf.example/\r\n"
      "--b--\r\n";
  EXPECT_EQ(find_links(msg), (Links{"https://login.bank.example/x", "http://b64.example/"}));
  EXPECT_EQ(find_links(msg, 1).size(), 1u);
}


TEST(Links, SplitUrl) {
  auto u = split_url("https://user:pw@Shop.Example:8443/buy?x=1#top");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "Shop.Example");
  EXPECT_EQ(u->rest, "/buy?x=1#top");
  EXPECT_TRUE(u->userinfo);
  u = split_url("http://a.example?q");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "a.example");
  EXPECT_EQ(u->rest, "?q");
  EXPECT_FALSE(u->userinfo);
  EXPECT_EQ(split_url("http://[2001:db8::1]/x")->host, "[2001");  // an IPv6 literal, cut short
  EXPECT_EQ(split_url("http://")->host, "");
  EXPECT_FALSE(split_url("mailto:a@b.example"));
}

}  // namespace
}  // namespace mk::message
