// The shared link's mail (share/compose.hpp), read back by mailkeep's own MIME parser.
#include <gtest/gtest.h>

#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"
#include "share/compose.hpp"
#include "share/service.hpp"

namespace mk::share {
namespace {

const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, '\x01');

MailParts parts() {
  MailParts m;
  m.address = "me@example.org";
  m.link = "https://example.org/a?b=1&c=2";
  m.title = "Soupe \xc3\xa0 la tomate <script>alert(1)</script>";
  m.description = "Ready in \"20\" minutes & easy";
  m.site_name = "Recipes";
  m.note = "for Sunday";
  m.date = "Sun, 06 Dec 2026 05:00:00 +0000";
  m.message_id = "share.1@mail.example.org";
  return m;
}

TEST(ShareMail, SubjectIsEncodedAndTheHtmlEscaped) {
  MailParts m = parts();
  const std::string mail = compose_mail(m);
  const auto fields = message::parse_message_header(mail);
  auto subject = message::header_value(fields, "Subject");
  ASSERT_TRUE(subject);
  EXPECT_EQ(message::decode_words(*subject), m.title);
  // RFC 2047 §2: a line with encoded words is 76 characters at most, "Subject: " included.
  const std::size_t subject_at = mail.find("Subject: ");
  for (std::size_t start = subject_at;;) {
    const std::size_t end = mail.find("\r\n", start);
    EXPECT_LE(end - start, 76u);
    if (mail[end + 2] != ' ') break;
    start = end + 2;
  }
  EXPECT_EQ(message::header_value(fields, "To").value_or(""), "<me@example.org>");
  EXPECT_EQ(mail.find("<script>"), std::string::npos);
  // Every line within RFC 5322's 998 characters.
  std::size_t start = 0;
  for (std::size_t end; (end = mail.find("\r\n", start)) != std::string::npos; start = end + 2)
    EXPECT_LE(end - start, 998u);
  // The parts: a text and an HTML part, both carrying the link; the HTML escapes the title.
  std::string plain, html;
  for (std::size_t at = 0; (at = mail.find("Content-Transfer-Encoding: base64\r\n\r\n", at)) != std::string::npos;) {
    at += 37;
    const std::size_t end = mail.find("\r\n--", at);
    const std::string text = message::base64_decode(std::string_view(mail).substr(at, end - at));
    (plain.empty() ? plain : html) = text;
  }
  EXPECT_NE(plain.find("https://example.org/a?b=1&c=2"), std::string::npos);
  EXPECT_NE(plain.find("Your note: for Sunday"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("href=\"https://example.org/a?b=1&amp;c=2\""), std::string::npos);
  EXPECT_NE(html.find("&quot;20&quot;"), std::string::npos);
  EXPECT_EQ(mail.find("multipart/related"), std::string::npos);  // no image: no related part
}

TEST(ShareMail, TheImageIsInlineAndReferencedByItsContentId) {
  MailParts m = parts();
  m.image = Image{kPng, "image/png"};
  const std::string mail = compose_mail(m);
  EXPECT_NE(mail.find("Content-Type: multipart/related; type=\"multipart/alternative\""), std::string::npos);
  const std::size_t cid_at = mail.find("Content-ID: <");
  ASSERT_NE(cid_at, std::string::npos);
  const std::string cid = mail.substr(cid_at + 13, mail.find('>', cid_at) - cid_at - 13);
  EXPECT_NE(mail.find("Content-Disposition: inline; filename=\"preview.png\""), std::string::npos);
  EXPECT_NE(mail.find(message::base64_encode(kPng).substr(0, 60)), std::string::npos);
  // The HTML part names it.
  const std::size_t html_at = mail.find("text/html");
  const std::size_t body = mail.find("\r\n\r\n", html_at) + 4;
  const std::string html = message::base64_decode(std::string_view(mail).substr(body, mail.find("\r\n--", body) - body));
  EXPECT_NE(html.find("src=\"cid:" + cid + "\""), std::string::npos);
}

TEST(ShareMail, NoPreviewStillCarriesTheLinkAndWhy) {
  MailParts m;
  m.address = "me@example.org";
  m.link = "http://127.0.0.1/";
  m.failure = "refused: 127.0.0.1 is a loopback address";
  m.date = "Sun, 06 Dec 2026 05:00:00 +0000";
  m.message_id = "x@y";
  const std::string mail = compose_mail(m);
  EXPECT_NE(mail.find("Subject: http://127.0.0.1/\r\n"), std::string::npos);
  EXPECT_NE(mail.find("X-Mailkeep-Share: link only"), std::string::npos);
  EXPECT_NE(message::base64_decode(mail.substr(mail.find("\r\n\r\n", mail.find("text/plain")) + 4, 200))
                .find("No preview: refused"),
            std::string::npos);
}

TEST(ShareMail, ImagesAreKnownBySignatureOnly) {
  EXPECT_EQ(image_type(kPng), "image/png");
  EXPECT_EQ(image_type("\xFF\xD8\xFF\xE0rest"), "image/jpeg");
  EXPECT_EQ(image_type("GIF89a..."), "image/gif");
  EXPECT_EQ(image_type("RIFF\x10\0\0\0WEBPVP8 "), "");  // embedded NUL: the literal stops early
  EXPECT_EQ(image_type(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), "image/webp");
  EXPECT_EQ(image_type("<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>"), "");
  EXPECT_EQ(image_type("<html>"), "");
  EXPECT_EQ(image_type(""), "");
}

TEST(EncodedWords, LongTextFoldsWithoutSplittingCharacters) {
  std::string title;
  for (int i = 0; i < 40; ++i) title += "\xe6\x97\xa5\xe6\x9c\xac ";  // 日本
  const std::string enc = message::encode_words(title);
  for (std::size_t start = 0;;) {
    const std::size_t end = enc.find("\r\n", start);
    EXPECT_LE((end == std::string::npos ? enc.size() : end) - start, 76u);
    if (end == std::string::npos) break;
    start = end + 2;
  }
  EXPECT_EQ(message::decode_words(enc), title);
  EXPECT_EQ(message::encode_words("plain ascii"), "plain ascii");
  EXPECT_EQ(message::decode_words(message::encode_words("looks =?like?= a word")), "looks =?like?= a word");
  EXPECT_EQ(message::encode_words("a\r\nBcc: x@y"), "a  Bcc: x@y");  // no header injection
}

TEST(ShareFolder, TagsNameFolders) {
  EXPECT_EQ(*folder_for_tag(""), "Read later");
  EXPECT_EQ(*folder_for_tag("later"), "Read later");
  EXPECT_EQ(*folder_for_tag("LATER"), "Read later");
  EXPECT_EQ(*folder_for_tag("Recipes"), "recipes");
  EXPECT_EQ(*folder_for_tag("to-read_2"), "to-read_2");
  for (const char* bad : {"a/b", "../x", "INBOX", "x y", "a.b", "\xc3\xa9t\xc3\xa9", "%"}) EXPECT_FALSE(folder_for_tag(bad)) << bad;
  EXPECT_FALSE(folder_for_tag(std::string(kMaxTag + 1, 'a')));
}

}  // namespace
}  // namespace mk::share
