// What a page says about itself (share/preview.hpp), from pages as sites write them.
#include <gtest/gtest.h>

#include <chrono>

#include "share/preview.hpp"

namespace mk::share {
namespace {

TEST(Preview, OpenGraphComesFirst) {
  const auto p = read_preview(R"(<!doctype html><html><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta name="description" content="fallback description">
<meta property="og:title" content="Tomato &amp; basil soup">
<meta property='og:description' content='Ready in 20&nbsp;minutes &#8211; serves 4'>
<meta property="og:site_name" content="Recipes">
<meta property="og:image" content="https://cdn.example/soup.jpg">
<meta property="og:url" content="https://recipes.example/soup">
<meta name="twitter:title" content="ignored">
</head><body><meta property="og:title" content="in the body: ignored"></body></html>)");
  EXPECT_EQ(p.title, "Tomato & basil soup");
  EXPECT_EQ(p.description, "Ready in 20\u00a0minutes \u2013 serves 4");
  EXPECT_EQ(p.site_name, "Recipes");
  EXPECT_EQ(p.image, "https://cdn.example/soup.jpg");
  EXPECT_EQ(p.url, "https://recipes.example/soup");
}

TEST(Preview, TwitterThenTitleAndDescription) {
  auto p = read_preview(R"(<head><title>
   A   plain
   page </title><meta name=twitter:image content=/img/card.png><META NAME="Description" CONTENT="Words."></head>)");
  EXPECT_EQ(p.title, "A plain page");
  EXPECT_EQ(p.description, "Words.");
  EXPECT_EQ(p.image, "/img/card.png");
  p = read_preview(R"(<meta name="twitter:title" content="Card"><meta property="og:image:secure_url" content="https://a.example/s.png"><meta property="og:image" content="http://a.example/i.png">)");
  EXPECT_EQ(p.title, "Card");
  EXPECT_EQ(p.image, "https://a.example/s.png");
}

TEST(Preview, CharsetsCommentsAndScripts) {
  // ISO-8859-1 from the HTTP header, and from <meta http-equiv>.
  EXPECT_EQ(read_preview("<title>Caf\xe9</title>", "iso-8859-1").title, "Café");
  EXPECT_EQ(read_preview("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><title>Caf\xe9</title>")
                .title,
            "Café");
  // Invalid UTF-8 in a page that says UTF-8 gives no title rather than mojibake.
  EXPECT_EQ(read_preview("<meta charset=utf-8><title>Caf\xe9</title>").title, "");
  // Tags inside comments and scripts are not tags.
  const auto p = read_preview(R"(<!-- <meta property="og:title" content="commented"> -->
<script>var s = '<meta property="og:title" content="scripted">';</script>
<meta property="og:title" content="real">)");
  EXPECT_EQ(p.title, "real");
}

TEST(Preview, UntrustedValuesAreBounded) {
  const std::string long_title(10000, 'x');
  auto p = read_preview("<meta property=\"og:title\" content=\"" + long_title + "\">");
  EXPECT_LE(p.title.size(), kMaxTitle + 3);
  EXPECT_TRUE(p.title.ends_with("…"));
  p = read_preview("<meta property=\"og:image\" content=\"https://a.example/" + std::string(5000, 'a') + "\">");
  EXPECT_EQ(p.image, "");  // a cut address would be a wrong one
  p = read_preview("<title>line\r\nbreak\x01 and\ttab</title>");
  EXPECT_EQ(p.title, "line break and tab");
  EXPECT_EQ(read_preview("<meta property=\"og:title\" content=\"unterminated").title, "");
  EXPECT_EQ(read_preview("").title, "");
}

// Pages built to be slow are read in time proportional to their size (a hang guard only:
// the scan is linear, these take milliseconds).
TEST(Preview, HostilePagesAreReadInLinearTime) {
  std::string unclosed;
  while (unclosed.size() < kMaxScanned) unclosed += "<a ";
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(read_preview(unclosed).title, "");
  EXPECT_EQ(read_preview("<meta property=\"og:title\" content=\"" + std::string(100000, '&') + "\">").title.size(),
            kMaxTitle + 3);
  std::string quotes;
  while (quotes.size() < kMaxScanned - 1) quotes += "<a x=\"<b y=\"";
  quotes += ">";
  EXPECT_EQ(read_preview(quotes).title, "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  // Upper-case script tags end where they end.
  EXPECT_EQ(read_preview("<SCRIPT>x</SCRIPT><meta property=og:title content=after>").title, "after");
  // A windows-1252 page with references: bytes converted, then references decoded.
  EXPECT_EQ(read_preview("<title>It&rsquo;s caf\xe9</title>", "windows-1252").title, "It\u2019s café");
  // A long UTF-8 title is cut on a character boundary, not dropped.
  std::string long_title;
  for (int i = 0; i < 400; ++i) long_title += "é";
  EXPECT_TRUE(read_preview("<title>" + long_title + "</title>").title.ends_with("é…"));
  // An address that is not UTF-8 is none.
  EXPECT_EQ(read_preview("<meta property=og:url content=\"https://a.example/\xff\">").url, "");
}

TEST(Preview, CharacterReferences) {
  EXPECT_EQ(decode_references("a &lt;b&gt; &#x41;&#66; &euro;&unknown; &amp"), "a <b> AB \u20ac&unknown; &amp");
  EXPECT_EQ(decode_references("&#0; &#xD800; &#99999999;"), "\ufffd \ufffd &#99999999;");
}

}  // namespace
}  // namespace mk::share
