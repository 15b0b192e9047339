// The classifier's parts: features (what counts, what is ignored), the model (learning,
// saving, loading) and the evaluation measures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <utility>

#include "filter/evaluate.hpp"
#include "filter/features.hpp"
#include "filter/model.hpp"

namespace mk::filter {
namespace {

std::string msg(const std::string& header, const std::string& body) { return header + "\r\n" + body; }
std::vector<std::uint32_t> sorted(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::size_t common(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  std::vector<std::uint32_t> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return both.size();
}

TEST(Features, IgnoresOtherFiltersVerdictsAndNormalizesWords) {
  const auto base = sorted(extract_features(msg("From: a@b.example\r\nSubject: Cheap pills\r\n", "Buy cheap pills now\r\n")));
  EXPECT_FALSE(base.empty());
  EXPECT_EQ(std::adjacent_find(base.begin(), base.end()), base.end());  // each feature once
  EXPECT_EQ(base, sorted(extract_features(msg("From: a@b.example\r\nSubject: Cheap pills\r\n", "Buy cheap pills now\r\n"))));
  // Verdicts of other filters (and forged ones) are not features.
  EXPECT_EQ(base, sorted(extract_features(msg("From: a@b.example\r\nSubject: Cheap pills\r\nX-Spam-Status: No, score=-5\r\n"
                                       "X-Mailkeep-Spam: ham\r\n",
                                       "Buy cheap pills now\r\n"))));
  // The same words in another case add only the all-caps marks.
  const auto upper = sorted(extract_features(msg("From: a@b.example\r\nSubject: Cheap pills\r\n", "BUY CHEAP PILLS NOW\r\n")));
  EXPECT_GT(upper.size(), base.size());
  EXPECT_TRUE(std::includes(upper.begin(), upper.end(), base.begin(), base.end()));
}

TEST(Features, HtmlIsReducedToWordsTagsAndLinks) {
  const std::string h = "From: a@b.example\r\nContent-Type: text/html\r\n";
  const auto split = sorted(extract_features(msg(h, "<p>vi<!-- x -->agra <a href=\"http://pills.example/buy\">here</a></p>\r\n")));
  const auto whole = sorted(extract_features(msg(h, "<p>viagra <a href=\"http://pills.example/buy\">here</a></p>\r\n")));
  const auto spaced = sorted(extract_features(msg(h, "<p>vi<!-- x --> agra <a href=\"http://pills.example/buy\">here</a></p>\r\n")));
  // A comment inside a word does not hide it: the split word shares the whole word's features
  // (the word, its pairs with the next words), which two words with the same comment between
  // them do not.
  EXPECT_GE(common(split, whole), common(spaced, whole) + 2);
  const auto other_link = sorted(extract_features(msg(h, "<p>viagra <a href=\"http://other.example/buy\">here</a></p>\r\n")));
  EXPECT_NE(whole, other_link);
}

// HTML's source, as opposed to its words, tags, attributes and links, is a sender's template:
// learnt, it made a newsletter from a sender the model never saw look like spam (features.cpp).
// Plain text keeps its byte 4-grams, layout included.
TEST(Features, HtmlSourceLayoutIsNoFeatureButPlainTextLayoutIs) {
  const std::string h = "From: a@b.example\r\nContent-Type: text/html\r\n";
  const auto tight = sorted(extract_features(
      msg(h, "<table><tr><td bgcolor=\"#ffffff\"><p class=x>Our news this week</p></td></tr></table>\r\n")));
  const auto loose = sorted(extract_features(
      msg(h, "<TABLE>\r\n  <tr>\r\n    <td   bgcolor='#FFFFFF'  >\r\n<p  class=\"x\">Our news this week</p></td></tr>"
             "</table>\r\n")));
  EXPECT_EQ(tight, loose);
  const std::string p = "From: a@b.example\r\nContent-Type: text/plain\r\n";
  EXPECT_NE(sorted(extract_features(msg(p, "Our news this week\r\n"))),
            sorted(extract_features(msg(p, "Our   news\r\n  this week\r\n"))));
}

// A number is a word seldom seen twice; its shape recurs (features.cpp, shape()). Two phone
// numbers of one form share a feature that a number of the same length in another form does
// not share with either. (After the first KiB, which the byte 4-grams of the text's start
// cover.)
TEST(Features, NumbersShareTheirShape) {
  const std::string h = "From: a@b.example\r\nContent-Type: text/plain\r\n";
  const std::string start = std::string(1100, 'x') + "\r\n";
  auto features = [&](const std::string& text) { return sorted(extract_features(msg(h, start + text + "\r\n"))); };
  const auto a = features("Call 1-800-555-0199 now");
  const auto b = features("Call 1-888-321-4567 now");
  const auto c = features("Call 18-0055-50-199 now");
  std::vector<std::uint32_t> ab;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(ab));
  EXPECT_EQ(common(ab, c) + 1, ab.size());
  // A run of one class counts up to four: prices of four and five digits share a shape, as
  // two of four digits do.
  const auto four = features("Only $1999 today");
  EXPECT_EQ(common(four, features("Only $29999 today")), common(four, features("Only $2999 today")));
  EXPECT_GT(common(four, features("Only $29999 today")), common(four, features("Only $299 today")));
  // Letters count by case: a tracking code's capitals are part of its shape.
  EXPECT_GT(common(features("Ref AB12cd now"), features("Ref XY34ef now")),
            common(features("Ref AB12cd now"), features("Ref xy34EF now")));
}

// A word of more than four letters also counts as its first four, lower-cased (features.cpp,
// kStem): another form of a word a model learnt is not a stranger.
TEST(Features, WordsShareTheirFirstFourLetters) {
  const std::string h = "From: a@b.example\r\nContent-Type: text/plain\r\n";
  const std::string start = std::string(1100, 'x') + "\r\n";
  auto features = [&](const std::string& text) { return sorted(extract_features(msg(h, start + text + "\r\n"))); };
  const auto unsubscribe = features("Click to unsubscribe now");
  EXPECT_EQ(common(unsubscribe, features("Click to unsubscribed now")),
            common(unsubscribe, features("Click to rescheduled now")) + 1);
  EXPECT_EQ(common(unsubscribe, features("Click to UNSUBSCRIBING now")),
            common(unsubscribe, features("Click to RESCHEDULING now")) + 1);
  // Not for a word of four letters or fewer ("mail" and "mails" share nothing: a stem is not
  // a word), nor a word with digits (that has its shape).
  EXPECT_EQ(common(features("Read mail now"), features("Read mails now")),
            common(features("Read mail now"), features("Read males now")));
  EXPECT_EQ(common(unsubscribe, features("Click to unsub5cribe now")),
            common(unsubscribe, features("Click to resch5duled now")));
}

// A link's path also counts as its pieces (features.cpp, link()): the links of two senders
// never seen share "remove" (and its stem) where the whole paths share nothing.
TEST(Features, LinksShareThePiecesOfTheirPaths) {
  const std::string h = "From: a@b.example\r\nContent-Type: text/plain\r\n";
  const std::string start = std::string(1100, 'x') + "\r\n";
  auto features = [&](const std::string& url) {
    return sorted(extract_features(msg(h, start + "See " + url + " now\r\n")));
  };
  const auto a = features("http://a.example/x/remove.html");
  EXPECT_EQ(common(a, features("http://b.example/y/remove.php")),
            common(a, features("http://c.example/y/rename.php")) + 2);
  // The same in an HTML link's target.
  const std::string html = "From: a@b.example\r\nContent-Type: text/html\r\n";
  auto linked = [&](const std::string& url) {
    return sorted(extract_features(msg(html, "<p>Read <a href=\"" + url + "\">this</a></p>\r\n")));
  };
  const auto b = linked("http://a.example/x/remove.html");
  EXPECT_EQ(common(b, linked("http://b.example/y/remove.php")),
            common(b, linked("http://c.example/y/rename.php")) + 2);
}

TEST(Features, TextWithoutSpacesSharesItsCharacterPairs) {
  // Chinese has no spaces: each sentence was one word no other message shares. Two sentences
  // with a phrase in common now share its character pairs; other text of the same length
  // shares nothing but the header's and structure's features.
  // (After the first KiB, which the byte 4-grams of the text's start cover.)
  const std::string start = std::string(1100, 'x') + "\r\n";
  auto shares = [&](const std::string& header, const std::string& phrase, const std::string& a1,
                    const std::string& a2, const std::string& b1, const std::string& b2, const std::string& other) {
    const auto a = sorted(extract_features(msg(header, start + a1 + phrase + a2 + "\r\n")));
    const auto b = sorted(extract_features(msg(header, start + b1 + phrase + b2 + "\r\n")));
    const auto c = sorted(extract_features(msg(header, start + other + "\r\n")));
    return std::pair{common(a, b), common(a, c)};
  };
  // GB2312, declared on the part or (as CJK mailers often do) only on the multipart around it.
  const std::string gb = "\xb5\xe7\xd7\xd3\xc9\xe8\xb1\xb8";  // four characters
  const std::string gb_other = "\xc3\xc0\xb9\xfa\xcc\xec\xc6\xf8\xba\xdc\xba\xc3\xbb\xe1\xd2\xe9";
  auto [ab, ac] = shares("Content-Type: text/plain; charset=gb2312\r\n", gb, "\xd6\xd0\xb9\xfa", "\xd5\xb9\xc0\xc0",
                         "\xc3\xc0\xb9\xfa", "\xbb\xe1\xd2\xe9", gb_other);
  EXPECT_GE(ab, ac + 3);
  const std::string mixed = "Content-Type: multipart/mixed; boundary=\"b\"; charset=\"GB2312\"\r\n";
  auto part = [&](const std::string& text) { return "--b\r\nContent-Type: text/plain\r\n\r\n" + start + text + "\r\n--b--\r\n"; };
  EXPECT_GE(common(sorted(extract_features(msg(mixed, part("\xd6\xd0\xb9\xfa" + gb)))),
                   sorted(extract_features(msg(mixed, part("\xc3\xc0\xb9\xfa" + gb))))),
            common(sorted(extract_features(msg(mixed, part("\xd6\xd0\xb9\xfa" + gb)))),
                   sorted(extract_features(msg(mixed, part(gb_other))))) + 3);
  // The same Chinese in UTF-8, with no charset to go by.
  const std::string utf8 = "\xe7\x94\xb5\xe5\xad\x90\xe8\xae\xbe\xe5\xa4\x87";  // 电子设备
  std::tie(ab, ac) = shares("Content-Type: text/plain; charset=utf-8\r\n", utf8, "\xe4\xb8\xad\xe5\x9b\xbd",
                            "\xe5\xb1\x95\xe8\xa7\x88", "\xe7\xbe\x8e\xe5\x9b\xbd", "\xe4\xbc\x9a\xe8\xae\xae",
                            "\xe4\xbb\x8a\xe5\xa4\xa9\xe5\xa4\xa9\xe6\xb0\x94\xe5\xbe\x88\xe5\xa5\xbd\xe5\x95\x8a");
  EXPECT_GE(ab, ac + 3);
  // Spaced scripts are not cut: a Russian word in UTF-8 or in an 8-bit charset, and two
  // accented letters, give as many features as an ASCII word of the same length (which has
  // one more, its first four letters: kStem).
  const std::string u = "Content-Type: text/plain; charset=utf-8\r\n";
  EXPECT_EQ(extract_features(msg(u, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\r\n")).size() + 1,
            extract_features(msg(u, "abcdefghijkl\r\n")).size());
  EXPECT_EQ(extract_features(msg("Content-Type: text/plain; charset=windows-1251\r\n", "\xef\xf0\xe8\xe2\xe5\xf2\r\n")).size() + 1,
            extract_features(msg("Content-Type: text/plain; charset=windows-1251\r\n", "abcdef\r\n")).size());
  EXPECT_EQ(extract_features(msg(u, "Gr\xc3\xbc\xc3\x9f" "e\r\n")).size(), extract_features(msg(u, "Grabcde\r\n")).size());
  // Bounded: a long text gives at most 4096 pairs however long it is.
  const std::string h = "Content-Type: text/plain; charset=gb2312\r\n";
  std::string longer, longest;
  for (int i = 0; i < 1000; ++i) longer += "\xd6\xd0\xb9\xfa\xb5\xe7\xd7\xd3";
  for (int i = 0; i < 4000; ++i) longest += "\xd6\xd0\xb9\xfa\xb5\xe7\xd7\xd3";
  const auto n8k = extract_features(msg(h, longer + "\r\n")).size();
  EXPECT_GT(n8k, 10u);
  EXPECT_LE(extract_features(msg(h, longest + "\r\n")).size(), n8k + 4096);
}

// ISO-2022-JP (the usual charset of Japanese mail) writes its characters as pairs of ASCII
// letters between escapes: read as it is, a sentence was one "word" of letters. Converted, it
// gives the same features as the same text in UTF-8; a raw Subject in it too.
TEST(Features, EscapedCharsetsAreReadAsTheTextTheyEncode) {
  const std::string jis = "\x1b$BF|K\\8l$N%F%-%9%H$G$9!#:#F|$ONI$$E75$$G$9$M!#\x1b(B";
  const std::string utf8 = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9"
      "\xe3\x83\x88\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf"
      "\xe8\x89\xaf\xe3\x81\x84\xe5\xa4\xa9\xe6\xb0\x97\xe3\x81\xa7\xe3\x81\x99\xe3\x81\xad"
      "\xe3\x80\x82";
  const std::string other = "\xe6\x98\x8e\xe6\x97\xa5\xe3\x81\xae\xe4\xbc\x9a\xe8\xad\xb0\xe3\x81\xaf\xe5\x8d\x81"
      "\xe6\x99\x82\xe3\x81\x8b\xe3\x82\x89\xe5\xa7\x8b\xe3\x81\xbe\xe3\x82\x8a\xe3\x81\xbe"
      "\xe3\x81\x99\xe3\x80\x82";
  const auto in_jis = sorted(extract_features(msg("Content-Type: text/plain; charset=ISO-2022-JP\r\n", jis + "\r\n")));
  const auto in_utf8 = sorted(extract_features(msg("Content-Type: text/plain; charset=utf-8\r\n", utf8 + "\r\n")));
  const auto unrelated = sorted(extract_features(msg("Content-Type: text/plain; charset=utf-8\r\n", other + "\r\n")));
  // All but the charset (its feature, and its name and the name's shape in Content-Type) are
  // the same.
  EXPECT_GE(common(in_jis, in_utf8) + 3, in_utf8.size());
  EXPECT_GE(common(in_jis, in_utf8), common(in_jis, unrelated) + 10);
  // A Subject written raw in the message's escaped charset, as old Japanese mailers did: its
  // words and pairs are the UTF-8 one's (the shape of the field as written differs too).
  const auto subject = [&](const std::string& charset, const std::string& text) {
    return sorted(extract_features(msg("Subject: " + text + "\r\nContent-Type: text/plain; charset=" + charset + "\r\n",
                                       "hello\r\n")));
  };
  const auto raw = subject("ISO-2022-JP", "\x1b$B:#=5$N$*CN$i$;\x1b(B");
  const auto plain = subject("utf-8", "\xe4\xbb\x8a\xe9\x80\xb1\xe3\x81\xae\xe3\x81\x8a\xe7\x9f\xa5\xe3\x82\x89\xe3\x81\x9b");
  EXPECT_GE(common(raw, plain) + 4, plain.size());
  EXPECT_GE(common(raw, plain), common(subject("ISO-2022-JP", "\x1b$BL@F|$N2q5D\x1b(B"), plain) + 10);
  // ISO-2022-JP's escapes name it when nothing else does, in the body and in a raw Subject.
  const auto undeclared = sorted(extract_features(msg("Content-Type: text/plain\r\n", jis + "\r\n")));
  EXPECT_GE(common(undeclared, in_utf8), common(undeclared, unrelated) + 10);
  EXPECT_GE(common(subject("us-ascii", "\x1b$B:#=5$N$*CN$i$;\x1b(B"), plain),
            common(subject("us-ascii", "\x1b$BL@F|$N2q5D\x1b(B"), plain) + 10);
  // 8-bit text is no escaped charset's: mislabelled, it is read as it is, words kept.
  const std::string russian = "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80\r\n";
  const auto labelled_jis = sorted(extract_features(msg("Content-Type: text/plain; charset=iso-2022-jp\r\n", russian)));
  const auto labelled_utf8 = sorted(extract_features(msg("Content-Type: text/plain; charset=utf-8\r\n", russian)));
  EXPECT_GE(common(labelled_jis, labelled_utf8) + 3, labelled_utf8.size());  // the charset, named and shaped
  // UTF-7 ("+ZeVnLIqe-": the first three characters of the UTF-8 text above) and the ISO-2022
  // names iconv has beside the usual ones ("csISO2022JP") are read the same way.
  const auto first3 = sorted(extract_features(
      msg("Content-Type: text/plain; charset=utf-8\r\n", utf8.substr(0, 9) + "\r\n")));
  const auto in_utf7 = sorted(
      extract_features(msg("Content-Type: text/plain; charset=UTF-7\r\n", "+ZeVnLIqe-\r\n")));
  EXPECT_GE(common(in_utf7, first3) + 3, first3.size());
  const auto cs_jis = sorted(
      extract_features(msg("Content-Type: text/plain; charset=csISO2022JP\r\n", jis + "\r\n")));
  EXPECT_GE(common(cs_jis, in_utf8) + 3, in_utf8.size());
  // A label of the family that iconv does not know keeps nothing from being read.
  const auto made_up = sorted(
      extract_features(msg("Content-Type: text/plain; charset=iso-2022-zz\r\n", jis + "\r\n")));
  EXPECT_GE(common(made_up, in_utf8) + 3, in_utf8.size());
}

// Text in a double-byte charset is converted to UTF-8 before its words and character pairs
// are read, by the charset's usual superset: in Shift_JIS, Big5 and GBK the second byte of a
// character may be ASCII ("e", "]"), which read raw ended the word in mid-character.
TEST(Features, DoubleByteCharsetsAreReadAsTheTextTheyEncode) {
  auto features = [](const std::string& charset, const std::string& text) {
    return sorted(extract_features(msg("Content-Type: text/plain; charset=" + charset + "\r\n", text + "\r\n")));
  };
  // 日本語のテストです。今日は良い天気ですね。(テ is 83 65: "e")
  const std::string japanese =
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\xe3\x81\xa7\xe3\x81\x99"
      "\xe3\x80\x82\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe8\x89\xaf\xe3\x81\x84\xe5\xa4\xa9\xe6\xb0\x97\xe3\x81\xa7"
      "\xe3\x81\x99\xe3\x81\xad\xe3\x80\x82";
  const std::string sjis = "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x65\x83\x58\x83\x67\x82\xc5\x82\xb7\x81\x42\x8d\xa1"
                           "\x93\xfa\x82\xcd\x97\xc7\x82\xa2\x93\x56\x8b\x43\x82\xc5\x82\xb7\x82\xcb\x81\x42";
  // 中文測試郵件，今天天氣很好。in Big5, and in GBK (測 is 9C 79: "y"; 郵 E0 5D: "]") under the
  // name of its subset, GB2312, as Chinese mailers label it.
  const std::string chinese =
      "\xe4\xb8\xad\xe6\x96\x87\xe6\xb8\xac\xe8\xa9\xa6\xe9\x83\xb5\xe4\xbb\xb6\xef\xbc\x8c\xe4\xbb\x8a\xe5\xa4\xa9"
      "\xe5\xa4\xa9\xe6\xb0\xa3\xe5\xbe\x88\xe5\xa5\xbd\xe3\x80\x82";
  const std::string big5 = "\xa4\xa4\xa4\xe5\xb4\xfa\xb8\xd5\xb6\x6c\xa5\xf3\xa1\x41\xa4\xb5\xa4\xd1\xa4\xd1\xae\xf0"
                           "\xab\xdc\xa6\x6e\xa1\x43";
  const std::string gbk = "\xd6\xd0\xce\xc4\x9c\x79\xd4\x87\xe0\x5d\xbc\xfe\xa3\xac\xbd\xf1\xcc\xec\xcc\xec\x9a\xe2"
                          "\xba\xdc\xba\xc3\xa1\xa3";
  // All but the charset (its feature, its name and the name's shape or stem) are the same.
  const auto in_japanese = features("utf-8", japanese);
  const auto in_chinese = features("utf-8", chinese);
  EXPECT_GE(common(features("Shift_JIS", sjis), in_japanese) + 3, in_japanese.size());
  EXPECT_GE(common(features("big5", big5), in_chinese) + 3, in_chinese.size());
  EXPECT_GE(common(features("gb2312", gbk), in_chinese) + 3, in_chinese.size());
  // 한국어 시험 메일입니다. 오늘은 날씨가 좋네요. in EUC-KR.
  const std::string korean =
      "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xec\x8b\x9c\xed\x97\x98 \xeb\xa9\x94\xec\x9d\xbc\xec\x9e\x85\xeb\x8b\x88"
      "\xeb\x8b\xa4. \xec\x98\xa4\xeb\x8a\x98\xec\x9d\x80 \xeb\x82\xa0\xec\x94\xa8\xea\xb0\x80 \xec\xa2\x8b\xeb\x84\xa4"
      "\xec\x9a\x94.";
  const std::string euc_kr = "\xc7\xd1\xb1\xb9\xbe\xee \xbd\xc3\xc7\xe8 \xb8\xde\xc0\xcf\xc0\xd4\xb4\xcf\xb4\xd9. "
                             "\xbf\xc0\xb4\xc3\xc0\xba \xb3\xaf\xbe\xbe\xb0\xa1 \xc1\xc1\xb3\xd7\xbf\xe4.";
  const auto in_korean = features("utf-8", korean);
  EXPECT_GE(common(features("EUC-KR", euc_kr), in_korean) + 3, in_korean.size());
  // UTF-8 text under a double-byte label is mislabelled: read as the UTF-8 it is, also when
  // it is longer than the text the features look at (kMaxTextBytes) and the cut splits a
  // character.
  EXPECT_GE(common(features("shift_jis", japanese), in_japanese) + 3, in_japanese.size());
  std::string long_japanese;
  while (long_japanese.size() < kMaxTextBytes + 1000) long_japanese += japanese;
  ASSERT_NE(kMaxTextBytes % 3, 0u);  // the cut falls inside a character
  const auto long_in_utf8 = features("utf-8", long_japanese);
  EXPECT_GE(common(features("gb2312", long_japanese), long_in_utf8) + 3, long_in_utf8.size());
}

TEST(Features, RawEightBitHeadersAreReadInTheMessagesCharset) {
  // A Subject its mailer wrote in GB2312 without RFC 2047 gives the words and character
  // pairs the encoded one gives, when the message declares its charset (on the top-level
  // part or, as here, on its first text part); without one it is left as it is.
  const std::string gb = "\xd6\xd0\xb9\xfa\xb5\xe7\xd7\xd3\xc9\xe8\xb1\xb8";  // 中国电子设备
  const std::string multipart =
      "Content-Type: multipart/alternative; boundary=\"b\"\r\n";
  const std::string body = "--b\r\nContent-Type: text/plain; charset=GB2312\r\n\r\nhello\r\n--b--\r\n";
  auto with = [&](const std::string& subject, const std::string& type, const std::string& text) {
    return sorted(extract_features(msg("From: a@b.example\r\nSubject: " + subject + "\r\n" + type, text)));
  };
  const auto encoded = with("=?gb2312?B?1tC5+rXn19PJ6LG4?=", multipart, body);
  const auto raw = with(gb, multipart, body);
  const auto undeclared = with(gb, multipart, "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n");
  EXPECT_GE(common(raw, encoded), common(undeclared, encoded) + 5);
  // Encoded words and raw bytes in one field: each read as what it is (the encoded UTF-8
  // is not read again as GB2312).
  const auto hello = with("=?utf-8?B?5L2g5aW95pyL5Y+L?=", multipart, body);  // 你好朋友
  const auto mixed = with("=?utf-8?B?5L2g5aW95pyL5Y+L?= " + gb, multipart, body);
  EXPECT_GE(common(mixed, hello), common(raw, hello) + 3);
  EXPECT_GE(common(mixed, encoded), common(undeclared, encoded) + 5);
  // Text that is UTF-8 already is kept, whatever the body declares: the same features as
  // with a UTF-8 body but the body's charset.
  const std::string utf8 = "\xe4\xb8\xad\xe5\x9b\xbd\xe7\x94\xb5\xe5\xad\x90";  // 中国电子
  const auto in_gb = with(utf8, multipart, body);
  const auto in_utf8 =
      with(utf8, multipart, "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--b--\r\n");
  EXPECT_EQ(in_gb.size(), in_utf8.size());
  EXPECT_EQ(common(in_gb, in_utf8), in_gb.size() - 1);
}

TEST(Features, HeaderShapesGeneralizeOverGeneratedStrings) {
  auto with = [](const std::string& from, const std::string& subject, const std::string& more = "") {
    return sorted(extract_features(msg("From: " + from + "\r\nTo: you@b.example\r\nSubject: " + subject +
                                           "\r\nDate: Tue, 3 Sep 2002 13:04:31 -0800\r\nMessage-ID: <x@a.example>\r\n" + more,
                                       "Hello\r\n")));
  };
  // Two tracking codes never seen before look alike; a plain word does not.
  const auto a = with("Ann <ann@a.example>", "Great offer   7893vBvF1-278ZKCc8-17");
  const auto b = with("Ann <ann@a.example>", "Great offer   0922LkVT8-113rFxd3342c-21");
  const auto c = with("Ann <ann@a.example>", "Great offer   tomorrow");
  EXPECT_GT(common(a, b), common(a, c));
  // So do generated sender names, and a "Re:" that answers no thread.
  const auto d = with("<rdc7y767@a.example>", "Hello"), e = with("<5447q67@a.example>", "Hello");
  const auto f = with("<ann@a.example>", "Hello");
  EXPECT_GT(common(d, e), common(d, f));
  const auto re = with("Ann <ann@a.example>", "Re: Hello");
  const auto reply = with("Ann <ann@a.example>", "Re: Hello", "In-Reply-To: <y@b.example>\r\n");
  // The reply has In-Reply-To (one name feature) but lacks the unanswered-thread marks.
  EXPECT_GE(re.size(), reply.size() + 1);
}

TEST(Model, LearnsSavesAndLoads) {
  Model m(16);
  const std::vector<std::uint32_t> spam{1, 2, 3, 4}, ham{5, 6, 7, 8}, mixed{1, 2, 7, 8};
  for (int i = 0; i < 3; ++i) {
    m.learn(spam, true);
    m.learn(ham, false);
  }
  EXPECT_GE(m.score(spam), Model::kMargin);
  EXPECT_LE(m.score(ham), -Model::kMargin);
  EXPECT_NEAR(m.score(mixed), 0.0, 1.0);
  EXPECT_EQ(m.spam_trained(), 3u);
  EXPECT_EQ(m.ham_trained(), 3u);
  const std::string path = testing::TempDir() + "/mk-model-test.bin";
  ASSERT_TRUE(m.save(path).ok());
  auto back = Model::load(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->score(spam), m.score(spam));
  EXPECT_EQ(back->score(mixed), m.score(mixed));
  EXPECT_EQ(back->bits(), 16u);
  EXPECT_EQ(back->ham_trained(), 3u);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  auto cut = Model::load(path);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("not a mailkeep spam model"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Model, HoldsMemoryOnlyForWhatItLearnt) {
  // A 16 MiB table that has learnt nothing holds no memory, and copies, sums and loads of a
  // model that learnt a little hold a page or two: an idle server pays for no empty tables.
  const auto kPage = std::size_t(::sysconf(_SC_PAGESIZE));
  Model m(Model::kDefaultBits);
  EXPECT_EQ(m.resident_bytes(), 0u);
  const std::vector<std::uint32_t> spam{1, 2, 3}, ham{(1u << 21) + 1, (1u << 21) + 2};
  m.learn(spam, true);
  m.learn(ham, false);
  EXPECT_GT(m.resident_bytes(), 0u);
  EXPECT_LE(m.resident_bytes(), 2 * kPage);
  const Model copy = m;
  EXPECT_EQ(copy.score(spam), m.score(spam));
  EXPECT_EQ(copy.score(ham), m.score(ham));
  EXPECT_LE(copy.resident_bytes(), 2 * kPage);
  Model user(Model::kUserBits);
  user.learn(std::vector<std::uint32_t>{7, 8}, true);
  const Model both = Model::sum(m, user);
  EXPECT_EQ(both.bits(), Model::kDefaultBits);
  EXPECT_NEAR(both.score(spam), m.score(spam) + user.score(spam), 1e-5);
  EXPECT_NEAR(both.score(std::vector<std::uint32_t>{7, 8}),
              m.score(std::vector<std::uint32_t>{7, 8}) + user.score(std::vector<std::uint32_t>{7, 8}), 1e-5);
  // The small table's weight reaches every slot that agrees with it on the small mask's bits.
  const std::uint32_t alias = 7u + (1u << Model::kUserBits);
  EXPECT_NEAR(both.score(std::vector<std::uint32_t>{alias}),
              m.score(std::vector<std::uint32_t>{alias}) + user.score(std::vector<std::uint32_t>{alias}), 1e-5);
  const std::string path = testing::TempDir() + "/mk-model-sparse.bin";
  ASSERT_TRUE(m.save(path).ok());
  auto back = Model::load(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->score(spam), m.score(spam));
  EXPECT_EQ(back->score(ham), m.score(ham));
  EXPECT_LE(back->resident_bytes(), 2 * kPage);
  std::filesystem::remove(path);
  // Small pages asked for: with transparent huge pages "always", one weight would fault in
  // 2 MiB (the table's mapping carries VmFlags "nh").
  {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool table = false, small_pages = false;
    while (std::getline(smaps, line)) {
      // Tables side by side with the same flags are one mapping: a multiple of 16 MiB.
      if (line.rfind("Size:", 0) == 0) {
        const long kb = std::strtol(line.c_str() + 5, nullptr, 10);
        table = kb >= 16384 && kb % 16384 == 0;
      }
      if (table && line.rfind("VmFlags:", 0) == 0 && line.find(" nh") != std::string::npos) small_pages = true;
    }
    EXPECT_TRUE(small_pages);
  }
  Model moved = std::move(m);
  EXPECT_EQ(moved.score(spam), copy.score(spam));
  // A moved-from model is not saved over a file (its table is gone), and can be assigned to;
  // assigning a model to itself changes nothing.
  EXPECT_FALSE(m.save(path).ok());  // NOLINT(bugprone-use-after-move): what is left must not write
  EXPECT_FALSE(std::filesystem::exists(path));
  m = copy;
  EXPECT_EQ(m.score(spam), copy.score(spam));
  const Model& same = m;
  m = same;
  EXPECT_EQ(m.score(ham), copy.score(ham));
}

TEST(Model, BulkTrainingLearnsEachMessageToTheTrainingMargin) {
  // Messages that share words across the kinds: a corpus is learnt until each of its
  // messages scores kTrainMargin (3) on its side, past the Junk score, where a user's
  // correction stops at kMargin (2); each message counted once over all the passes.
  std::vector<Labelled> set;
  for (std::uint32_t i = 0; i < 30; ++i) {
    set.push_back({{100 + i % 7, 200 + i % 5, 300 + i, 1, 2}, true});
    set.push_back({{400 + i % 7, 500 + i % 5, 600 + i, 1, 3}, false});
  }
  Model m(16);
  train(m, set, 3);
  EXPECT_EQ(m.spam_trained(), 30u);
  EXPECT_EQ(m.ham_trained(), 30u);
  for (const auto& x : set) {
    if (x.spam) EXPECT_GE(m.score(x.features), kTrainMargin);
    else EXPECT_LE(m.score(x.features), -kTrainMargin);
  }
  static_assert(kTrainMargin > Model::kMargin);
}

TEST(Model, AUserModelCorrectsTheGlobalOne) {
  Model global(16), user(Model::kUserBits);
  const std::vector<std::uint32_t> newsletter{11, 12, 13, 14};
  global.learn(newsletter, false);  // the world thinks it is ham
  ASSERT_LE(global.score(newsletter), -Model::kMargin);
  user.learn_over(global, newsletter, true);  // this user calls it spam: the sum turns
  EXPECT_GT(global.score(newsletter) + user.score(newsletter), 0.0);
  EXPECT_LT(global.score(newsletter), 0.0);     // the global model is not touched
  user.learn_over(global, newsletter, true);  // again: up to the margin
  const double agreed = global.score(newsletter) + user.score(newsletter);
  EXPECT_GE(agreed, Model::kMargin);
  user.learn_over(global, newsletter, true);  // already agreed: no change
  EXPECT_EQ(global.score(newsletter) + user.score(newsletter), agreed);
  EXPECT_EQ(user.spam_trained(), 3u);
}

TEST(Evaluate, RatesRocAreaAndTheFpBound) {
  // Pairs (spam, ham): 3>1, 3>2, 2>1 and one tie (2, 2): area 3.5 / 4.
  auto e = evaluate({3, 2}, {1, 2}, 1.5);
  EXPECT_NEAR(e.one_minus_roca_percent, 12.5, 1e-9);
  EXPECT_EQ(e.false_positives, 1u);
  EXPECT_EQ(e.false_negatives, 0u);
  EXPECT_DOUBLE_EQ(e.fp_percent, 50.0);
  // 1,000 ham: at most one may score above the bound, so the bound is the second highest.
  std::vector<double> ham(1000, 0.0);
  ham[0] = 10;
  ham[1] = 5;
  e = evaluate({11, 6, 4}, ham, 0);
  EXPECT_EQ(e.threshold_at_fp_bound, 5);
  EXPECT_NEAR(e.fn_percent_at_fp_bound, 100.0 / 3, 1e-9);
  EXPECT_EQ(evaluate({1}, {0}, 0).one_minus_roca_percent, 0.0);
}

}  // namespace
}  // namespace mk::filter
