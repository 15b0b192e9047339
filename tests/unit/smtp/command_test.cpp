#include "smtp/command.hpp"

#include <gtest/gtest.h>

namespace mk::smtp {
namespace {

TEST(Command, Verbs) {
  EXPECT_EQ(parse_command("ehlo x").verb, Verb::ehlo);
  EXPECT_EQ(parse_command("MaIl FROM:<>").verb, Verb::mail);
  EXPECT_EQ(parse_command("STARTTLS").verb, Verb::starttls);
  EXPECT_EQ(parse_command("MAILX").verb, Verb::unknown);
  EXPECT_EQ(parse_command("").verb, Verb::unknown);
  EXPECT_EQ(parse_command("RCPT TO:<a@b>").arg, "TO:<a@b>");
}

TEST(Command, MailParams) {
  auto p = parse_mail("FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=x+2By", true);
  ASSERT_TRUE(p.ok()) << p.error.text;
  EXPECT_EQ(p.value->size, 1000u);
  EXPECT_EQ(p.value->body, Body::eight_bit_mime);
  EXPECT_TRUE(p.value->smtputf8);
  EXPECT_EQ(p.value->ret, Ret::full);
  EXPECT_EQ(p.value->envid, "x+y");
  EXPECT_EQ(p.value->path.mailbox.canonical(), "a@b.example");

  auto space = parse_mail("FROM: <a@b.example>", true);  // tolerated
  EXPECT_TRUE(space.ok());
  auto null = parse_mail("FROM:<>", true);
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null.value->path.null);

  struct Bad {
    const char* in;
    int code;
    const char* enh;
  } bad[] = {
      {"FROM:<a@b.example> SIZE=abc", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=1 SIZE=2", 501, "5.5.4"},
      {"FROM:<a@b.example> XFOO", 555, "5.5.4"},
      {"FROM:<a@b.example> RET=ALL", 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID=a+zz", 501, "5.5.4"},
      {"FROM:<a@b.example> =x", 501, "5.5.4"},
      {"FROM:a@b.example", 501, "5.1.7"},
      {"FROM:<a@b.example", 501, "5.1.7"},
      {"FRM:<a@b.example>", 501, "5.5.4"},
      {"FROM:<ä@b.example>", 553, "5.6.7"},
  };
  for (const auto& b : bad) {
    auto r = parse_mail(b.in, true);
    EXPECT_FALSE(r.ok()) << b.in;
    EXPECT_EQ(r.error.code, b.code) << b.in;
    EXPECT_EQ(r.error.enhanced, b.enh) << b.in;
  }
}

TEST(Command, RcptParams) {
  auto r = parse_rcpt("TO:<a@b.example> NOTIFY=success,delay ORCPT=rfc822;a+40b.example", true, false);
  ASSERT_TRUE(r.ok()) << r.error.text;
  EXPECT_EQ(r.value->notify, "SUCCESS,DELAY");
  EXPECT_EQ(r.value->orcpt, "rfc822;a@b.example");
  EXPECT_FALSE(parse_rcpt("TO:<>", true, false).ok());
  EXPECT_FALSE(parse_rcpt("TO:<a@b.example> NOTIFY=", true, false).ok());
  EXPECT_FALSE(parse_rcpt("TO:<a@b.example> ORCPT=noaddrtype", true, false).ok());
  auto sr = parse_rcpt("TO:<@relay.example,@r2.example:u@final.example>", true, false);
  ASSERT_TRUE(sr.ok());
  EXPECT_TRUE(sr.value->path.had_source_route);
  EXPECT_EQ(sr.value->path.mailbox.domain, "final.example");
}

TEST(Command, Xtext) {
  EXPECT_EQ(xtext_decode("abc"), "abc");
  EXPECT_EQ(xtext_decode("a+2Bb+3D"), "a+b=");
  EXPECT_EQ(xtext_decode("a+2b"), std::nullopt);  // lower-case hex is not xtext
  EXPECT_EQ(xtext_decode("a+2"), std::nullopt);
  EXPECT_EQ(xtext_decode("a+"), std::nullopt);
  EXPECT_EQ(xtext_decode("a b"), std::nullopt);
}

TEST(Command, Bdat) {
  EXPECT_EQ(parse_bdat("100")->size, 100u);
  EXPECT_TRUE(parse_bdat("0 LAST")->last);
  EXPECT_TRUE(parse_bdat("5 last")->last);
  EXPECT_FALSE(parse_bdat(""));
  EXPECT_FALSE(parse_bdat("-1"));
  EXPECT_FALSE(parse_bdat("5 FIRST"));
  EXPECT_FALSE(parse_bdat("99999999999999999999999"));
}

}  // namespace
}  // namespace mk::smtp
