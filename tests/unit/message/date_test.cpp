// Dates of Date: and Received: fields, in the forms mailers write them.
#include <gtest/gtest.h>

#include "message/date.hpp"

namespace mk::message {
namespace {

constexpr std::int64_t k2002_09_26_19_11_11 = 1033067471;  // date -u -d '2002-09-26 19:11:11' +%s

TEST(Date, ModernForm) {
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 19:11:11 +0000"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 21:11:11 +0200"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 12:11:11 -0700 (PDT)"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("  26 Sep 2002 19:11:11 -0000"), k2002_09_26_19_11_11);  // no day name; UTC
  EXPECT_EQ(parse_date_time("Thu,26 Sep 2002 19:11 +0000"), k2002_09_26_19_11_11 - 11);  // no seconds
  EXPECT_EQ(parse_date_time("Sat, 1 Jan 1970 00:00:00 +0000"), 0);
  EXPECT_EQ(parse_date_time("Tue, 29 Feb 2028 23:59:60 +0000"), 1835481600);  // a leap day; a leap second is the next minute
}

TEST(Date, ObsoleteForms) {
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 02 19:11:11 GMT"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 102 19:11:11 GMT"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thursday, 26 September 2002 15:11:11 EDT"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 12:11:11 PDT"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu (comment), 26 (c) Sep 2002 19:11:11 Z"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("26 Sep 98 19:11:11 UT"), 906837071);
  EXPECT_EQ(parse_date_time("26 Sep 49 19:11:11 +0000"), parse_date_time("26 Sep 2049 19:11:11 +0000"));
  EXPECT_EQ(parse_date_time("26 Sep 50 19:11:11 +0000"), parse_date_time("26 Sep 1950 19:11:11 +0000"));
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 12:11:11 -0700 PDT"), k2002_09_26_19_11_11);  // a zone's name after it
  // Every named zone of RFC 5322 §4.3.
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 13:11:11 CST"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 14:11:11 CDT"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 12:11:11 MST"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 13:11:11 MDT"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 11:11:11 PST"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 14:11:11 EST"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 19:11:11 UTC"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 27 Sep 2002 09:11:11 +1400"), k2002_09_26_19_11_11);
  EXPECT_EQ(parse_date_time("Thu, 26 Sep 2002 07:11:11 -1200"), k2002_09_26_19_11_11);
}

TEST(Date, Calendar) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);  // 2000 is a leap year
  EXPECT_EQ(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1);  // 1900 is not
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(month_number("sep"), 9u);
  EXPECT_EQ(month_number("DEC"), 12u);
  EXPECT_EQ(month_number("Sept"), std::nullopt);
  EXPECT_EQ(parse_date_time("Tue, 29 Feb 2000 00:00:00 +0000"), 951782400);
  EXPECT_EQ(parse_date_time("Thu, 29 Feb 1900 00:00:00 +0000"), std::nullopt);
}

TEST(Date, NoInstant) {
  for (const char* bad : {"", "Thu, 26 Sep 2002 19:11:11",         // no zone
                          "Thu Sep 26 19:11:11 2002",                // asctime
                          "Thu, 31 Sep 2002 19:11:11 +0000",         // no such day
                          "Thu, 29 Feb 2002 19:11:11 +0000", "Thu, 26 Foo 2002 19:11:11 +0000",
                          "Thu, 26 Sep 2002 24:11:11 +0000", "Thu, 26 Sep 2002 19:61:11 +0000",
                          "Thu, 26 Sep 2002 19:11:11 +0160",  "Thu, 26 Sep 2002 19:11:11 CEST",
                          "Thu, 26 Sep 1899 19:11:11 +0000",  "Thu, 126 Sep 2002 19:11:11 +0000",
                          "Thu, 26 Sep 20021 19:11:11 +0000", "Thu, 26 Sep 2002 9:11:11 +0000",
                          "Thu, 26 Sep 2002 19:11:11 +0000 a b c d e",
                          "Thu, 26 Sep 2002 19:11:11 +0000 foo bar",   // one zone name at most
                          "Thu, 26 Sep 2002 19:11:11 +0000 1",
                          "Thu, 26 Mayday 2002 19:11:11 +0000",        // no month
                          "Thu, 26 Janus 2002 19:11:11 +0000",
                          "Thu, 26 Sep 2002 19:11:11 -1600",           // no clock's zone
                          "Thu, 26 Sep 2002 19:11:11 +1500",   "Thu, 26 Sep 2002 19:11:11 J",
                          "Thu, 26 Sep 2002 19:11:11 GMT+0100"})
    EXPECT_EQ(parse_date_time(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_date_time(std::string(300, ' ') + "26 Sep 2002 19:11:11 +0000"), std::nullopt);  // bounded
}

TEST(Date, ReceivedEndsWithItsDate) {
  EXPECT_EQ(received_time("from a.example (a.example [192.0.2.1]) by mx.example with ESMTP id 1;\r\n"
                          "\tThu, 26 Sep 2002 19:11:11 +0000"),
            k2002_09_26_19_11_11);  // folding whitespace is whitespace
  EXPECT_EQ(received_time("from a.example by mx.example; Thu, 26 Sep 2002 19:11:11 +0000"), k2002_09_26_19_11_11);
  EXPECT_EQ(received_time("from a.example (x; y) by mx.example;   Thu, 26 Sep 2002 19:11:11 +0000 (UTC)"),
            k2002_09_26_19_11_11);
  EXPECT_EQ(received_time("from a.example by mx.example"), std::nullopt);
  // The ';' that ends the field, not one in a comment after the date.
  EXPECT_EQ(received_time("from a by b; Thu, 26 Sep 2002 19:11:11 +0000 (envelope-from a;b)"), k2002_09_26_19_11_11);
  EXPECT_EQ(received_time("from a by b (id x;y); Thu, 26 Sep 2002 19:11:11 +0000"), k2002_09_26_19_11_11);
}

}  // namespace
}  // namespace mk::message
