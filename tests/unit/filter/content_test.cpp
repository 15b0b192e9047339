// The content rules (filter/content.cpp): each fires on what it describes, in plain text and
// in HTML, and ordinary mail (a reply, a newsletter that can be unsubscribed from, a ticket
// number in a subject) fires none of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "filter/verdict.hpp"
#include "message/parsed.hpp"

namespace mk::filter {
namespace {

std::string signals_of(const std::string& msg, bool thread_found = false) {
  std::vector<Signal> out;
  content_rules(message::Parsed(msg), thread_found, out);
  std::string s;
  for (const auto& x : out) s += (s.empty() ? "" : " ") + x.name;
  return s;
}

const std::string kPlain = "From: a@b.example\r\nTo: me@c.example\r\nSubject: hello\r\n\r\n";

TEST(ContentRules, EachRuleFiresOnWhatItDescribes) {
  struct Case {
    std::string msg, expected;
  };
  const Case cases[] = {
      {kPlain + "This is not spam. You can stop it any time.\r\n", "NOT_SPAM_CLAIM"},
      {kPlain + "Satisfaction guaranteed or your money back!\r\n", "GUARANTEE_CLAIM"},
      {kPlain + "Only while supplies last.\r\n", "URGENCY_CLAIM"},
      {kPlain + "Learn how to work from home.\r\n", "MONEY_MAKING"},
      {kPlain + "I seek your assistance in the transfer of the sum of $20M.\r\n", "ADVANCE_FEE"},
      {kPlain + "Dear Friend,\r\nI write to you today.\r\n", "GENERIC_GREETING"},
      {kPlain + "300 million email addresses on one CD.\r\n", "BULK_LIST_SALE"},
      {kPlain + "Consolidate your debt today.\r\n", "CREDIT_OFFER"},
      {kPlain + "Cheap viagra here.\r\n", "DRUG_DIET"},
      {kPlain + "A free gift with each order.\r\n", "SALES_PITCH"},
      {kPlain + "To order, click below.\r\n", "CALL_TO_ACTION"},
      {kPlain + "Ask for your free report.\r\n", "FREE_OFFER"},
      {kPlain + "Hot girls waiting for you.\r\n", "ADULT_OFFER"},
      {kPlain + "To be removed from our mailing list, reply.\r\n", "REMOVAL_NOTICE"},
      {kPlain + "You are receiving this because you signed up.\r\n", "OPT_IN_CLAIM"},
      {kPlain + "Great!! Really!!! See.\r\n", "TEXT_EXCLAIMS"},
      {kPlain + "See http://192.0.2.1/offer now\r\n", "LINK_NUMERIC_HOST"},
      {kPlain + "See http://www.bank.example@evil.example/login\r\n", "LINK_HIDDEN_HOST"},
      {"Subject: Your order       XKJDHS\r\n\r\nx\r\n", "SUBJECT_PADDED"},
      // Padding before a fold is the sender's; the fold itself is not.
      {"Subject: Your order      \r\n XKJDHS\r\n\r\nx\r\n", "SUBJECT_PADDED"},
      {"Subject: Your order\r\n                      XKJDHS\r\n\r\nx\r\n", "SUBJECT_PADDED"},
      {"Subject: Your order\r\n        \r\n        \r\n        XKJDHS\r\n\r\nx\r\n", "SUBJECT_PADDED"},
      {"Subject: Your order  \r\n        XKJDHS\r\n\r\nx\r\n", "SUBJECT_PADDED"},
      {"Subject: hi 7099ocYT9-261UccU3485gGCz0\r\n\r\nx\r\n", "SUBJECT_RANDOM_TOKEN"},
      {"Subject: ADV: new shoes\r\n\r\nx\r\n", "SUBJECT_ADV"},
      {"Subject: now $9.99\r\n\r\nx\r\n", "SUBJECT_MONEY"},
      {"Subject: hello!\r\n\r\nx\r\n", "SUBJECT_EXCLAIMS"},
      {"From: a@b.example\r\nReply-To: x@hotmail.com\r\n\r\nx\r\n", "REPLY_TO_FREEMAIL"},
      {"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n", "HTML_ONLY"},
      {"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<font size=\"+4\">BIG</font>\r\n", "HTML_ONLY HTML_BIG_FONT"},
      // In HTML, across tags and entities.
      {"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<p>Dear&nbsp;<b>Friend</b>,</p>\r\n",
       "GENERIC_GREETING HTML_ONLY"},
      // A freemail author with an offer; the offer alone from elsewhere is not FREEMAIL_OFFER.
      {"From: x@yahoo.com\r\n\r\nWork from home: http://offer.example/\r\n", "MONEY_MAKING FREEMAIL_OFFER"},
      {"From: x@shop.example\r\n\r\nWork from home: http://offer.example/\r\n", "MONEY_MAKING"},
      // A List-Unsubscribe field: a removal notice counts less, and the field a little against.
      {"From: news@shop.example\r\nList-Unsubscribe: <https://shop.example/u>\r\n\r\nTo unsubscribe, click.\r\n",
       "REMOVAL_NOTICE LIST_UNSUBSCRIBE"},
      {"From: a@b.example\r\nSubject: Re: plans\r\nIn-Reply-To: <1@b.example>\r\n\r\nYes, Friday.\r\n\r\n> Shall we meet?\r\n",
       "QUOTED_REPLY"},
  };
  for (const auto& c : cases) EXPECT_EQ(signals_of(c.msg), c.expected) << c.msg;
}

TEST(ContentRules, OrdinaryMailFiresNothing) {
  for (const char* ok : {
           "From: ann@a.example\r\nTo: bob@b.example\r\nSubject: Meeting at 10:30 in room 4\r\n\r\nSee you there.\r\n",
           "From: ann@a.example\r\nSubject: [Bug 12345] crash in parser\r\n\r\nThe patch is at https://git.example/x\r\n",
           "From: ann@a.example\r\nSubject: order ABC-1234567890\r\n\r\nShipped.\r\n",
           // A reply without quotes, and quotes without a reply: neither is QUOTED_REPLY.
           "From: ann@a.example\r\nSubject: Re: x\r\nIn-Reply-To: <1@a.example>\r\n\r\nOK.\r\n",
           "From: ann@a.example\r\nSubject: x\r\n\r\n> quoted\r\nmine\r\n",
           // Freemail without an offer.
           "From: x@gmail.com\r\nSubject: photos\r\n\r\nhttp://photos.example/album\r\n",
           // A formal letter with a legal footer; phrases inside other words (review of issue 18).
           "From: ann@a.example\r\nSubject: Are you free on Friday?\r\n\r\nDear Mr Smith,\r\nplease contact now "
           "the office; remove meeting notes from the share. Our email addresses changed.\r\nThis message is "
           "strictly confidential. We appreciate your assistance in this matter.\r\n",
           // File names in subjects (Windows' "send to mail recipient"), a subject with extra spaces.
           "From: ann@a.example\r\nSubject: Emailing: IMG_20230411_101010.jpg\r\n\r\nx\r\n",
           "From: ann@a.example\r\nSubject: Invoice2023Q4AbCd.pdf\r\n\r\nx\r\n",
           "From: ann@a.example\r\nSubject: minutes   of the meeting\r\n\r\nx\r\n",
           // A long subject folded with an indent (read as one space, not padding).
           "From: ann@a.example\r\nSubject: Rendering the Great Outdoors: Fast Occlusion Culling for Outdoor\r\n"
           "    Environments\r\n\r\nx\r\n",
           // Words the new families' phrases are made of, in ordinary use.
           "From: ann@a.example\r\nSubject: report\r\n\r\nThe report is below; click the link to access it. "
           "The toll road is free on Sundays, and the girls' team plays at home.\r\n",
       })
    EXPECT_EQ(signals_of(ok), "") << ok;
}

TEST(ContentRules, ReasonsNameWhatWasFound) {
  std::vector<Signal> out;
  content_rules(message::Parsed(kPlain + "Act now and make money.\r\n"), false, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].why, "pressure to act (\"act now\")");
  EXPECT_EQ(out[1].why, "a money-making offer (\"make money\")");
}

TEST(ContentRules, PaymentTalk) {
  EXPECT_TRUE(payment_talk(message::Parsed(kPlain + "Please update the bank account for the invoice.\r\n")));
  EXPECT_FALSE(payment_talk(message::Parsed(kPlain + "Lunch on Friday?\r\n")));
}

TEST(ContentRules, RepliesCountOnlyForAThreadTheRecipientHas) {
  const std::string reply = "From: a@b.example\r\nSubject: Re: plans!\r\nIn-Reply-To: <1@b.example>\r\n\r\n"
                            "Yes, Friday.\r\n\r\n> Shall we meet?\r\n";
  std::vector<Signal> out;
  content_rules(message::Parsed(reply), true, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].score, -1.5);
  out.clear();
  // In-Reply-To is the sender's word: a forged one earns little and does not hide the "!".
  content_rules(message::Parsed(reply), false, out);
  EXPECT_EQ(signals_of(reply), "SUBJECT_EXCLAIMS QUOTED_REPLY");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].score, -0.5);
}

// The phrase search skips a phrase whose trigrams the text lacks (content.cpp, Trigrams): a
// phrase is still found at either end of a long text, among other 8-bit text, and "act now"
// still not in "contact now".
TEST(ContentRules, PhrasesAreFoundAnywhereInALongText) {
  std::string filler;
  while (filler.size() < 50000)
    filler += "The quick brown fox jumps over a lazy dog; caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac. ";
  ASSERT_EQ(signals_of(kPlain + filler + "\r\n"), "");
  for (const auto& [phrase, rule] : std::vector<std::pair<std::string, std::string>>{
           {"Satisfaction guaranteed", "GUARANTEE_CLAIM"},
           {"To be removed, write back", "REMOVAL_NOTICE"},
           {"You are receiving this as a friend", "OPT_IN_CLAIM"},
           {"Act now", "URGENCY_CLAIM"}}) {
    EXPECT_EQ(signals_of(kPlain + phrase + " " + filler + "\r\n"), rule) << phrase;
    EXPECT_EQ(signals_of(kPlain + filler + phrase + "\r\n"), rule) << phrase;
  }
  EXPECT_EQ(signals_of(kPlain + filler + "Contact now\r\n"), "");
}

TEST(ContentRules, BoundedOnHugeInput) {
  // HTML of nothing but '&' (an entity search that rescanned the rest would be quadratic).
  const std::string amps = "From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + std::string(1 << 20, '&') + "\r\n";
  EXPECT_EQ(signals_of(amps), "HTML_ONLY");
  // Megabytes of text and thousands of links: the rules read a bounded prefix.
  std::string big = kPlain;
  for (int i = 0; i < 200000; ++i) big += "http://192.0.2.1/ ";
  big += "\r\n";
  EXPECT_NE(signals_of(big).find("LINK_NUMERIC_HOST"), std::string::npos);
}

}  // namespace
}  // namespace mk::filter
