// The similarity fingerprint: a template with a name or number changed is near-identical;
// different messages, even with the same greeting and signature, are not; short texts,
// quoted lines and HTML tags do not count.
#include <gtest/gtest.h>

#include "guard/fingerprint.hpp"

namespace mk::guard {
namespace {

const char* kSignature = "\n--\nAnna Meyer\nTreasurer, Riverside Rowing Club\nphone 0171 2345678\n";

int compare(const std::string& a, const std::string& b) {
  auto fa = fingerprint(a), fb = fingerprint(b);
  if (!fa || !fb) return -1;
  return resemblance(*fa, *fb);
}

TEST(Fingerprint, TemplatesAreNearAndDifferentTextsAreNot) {
  struct Row {
    const char* name;
    std::string a, b;
    bool near;
  };
  const std::string spam =
      "Dear {}, you have been selected to receive an exclusive offer on our premium watches. Click the link "
      "below to claim your discount before midnight, supplies are limited and this offer will not be repeated.";
  auto fill = [&](const std::string& name) {
    std::string s = spam;
    s.replace(s.find("{}"), 2, name);
    return s;
  };
  const Row rows[] = {
      {"the same text", spam, spam, true},
      {"a name changed", fill("John"), fill("Maria"), true},
      {"numbers read alike", "Your order 12345 has shipped and will arrive on Monday at the address you gave us "
                             "when you ordered, thank you for shopping",
       "Your order 99 has shipped and will arrive on Monday at the address you gave us when you ordered, thank "
       "you for shopping", true},
      {"tags are not words", "<p>Hello Tom, the meeting moves to Thursday afternoon, the room is booked and the "
                             "agenda follows tomorrow</p>",
       "Hello Tom, the meeting moves to Thursday afternoon, the room is booked and the agenda follows tomorrow",
       true},
      {"different notes with one signature",
       std::string("Hi Paul, thanks for the photos from Saturday, the new boat looks great on the water.") +
           kSignature,
       std::string("Dear members, the annual meeting is on March 3rd at seven in the clubhouse, please come.") +
           kSignature,
       false},
      {"two ordinary messages", "Could you send me the minutes of last week's board meeting when you find a minute?",
       "The plumber comes on Wednesday morning, so I will work from home and call you after lunch.", false},
  };
  for (const auto& r : rows) {
    const int sim = compare(r.a, r.b);
    ASSERT_GE(sim, 0) << r.name;
    EXPECT_EQ(sim >= kNearResemblancePercent, r.near) << r.name << ": " << sim;
  }
}

TEST(Fingerprint, ShortTextsAndQuotesHaveNone) {
  EXPECT_FALSE(fingerprint("Thanks, see you then!"));
  EXPECT_FALSE(fingerprint(""));
  EXPECT_FALSE(fingerprint("spam spam spam spam spam spam spam spam spam spam spam spam spam spam"));  // one shingle
  // A reply's own words decide; the quoted original does not.
  const std::string quote =
      "> On Monday you wrote: could everyone please confirm whether they will attend the summer party at the lake\n"
      "> on the last Saturday of June, so that we can order enough food and drinks for all\n";
  EXPECT_FALSE(fingerprint("Yes, count me in.\n" + quote));
  auto a = fingerprint("Yes, I will come with my partner and we can bring a salad and some bread for everyone.\n" + quote);
  auto b = fingerprint("Sorry, we are away that weekend visiting my parents in the mountains, have fun without us.\n" + quote);
  ASSERT_TRUE(a && b);
  EXPECT_LT(resemblance(*a, *b), kNearResemblancePercent);
}

TEST(Fingerprint, ReadableTextIsTheDecodedTextParts) {
  const message::Parsed msg(
      "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "SGVsbG8gd29ybGQ=\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nsecret attachment\r\n"
      "--b\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--b--\r\n");
  const std::string text = readable_text(msg);
  EXPECT_NE(text.find("Hello world"), std::string::npos) << text;
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_EQ(text.find("JVBER"), std::string::npos) << text;
}

}  // namespace
}  // namespace mk::guard
