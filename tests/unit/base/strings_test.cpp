#include "base/strings.hpp"

#include <gtest/gtest.h>

namespace mk {
namespace {

TEST(Strings, HexValueReadsEitherCaseAndNothingElse) {
  const std::string digits = "0123456789abcdef";
  for (int v = 0; v < 16; ++v) {
    EXPECT_EQ(hex_value(digits[std::size_t(v)]), v);
    EXPECT_EQ(hex_value(ascii_upper(digits[std::size_t(v)])), v);
  }
  // Every other byte, the neighbours of the ranges and the 8-bit ones included, is no digit.
  int digits_seen = 0;
  for (int b = 0; b < 256; ++b) {
    const char c = char(b);
    if (hex_value(c) >= 0)
      ++digits_seen;
    else
      EXPECT_EQ(digits.find(ascii_lower(c)), std::string::npos) << b;
  }
  EXPECT_EQ(digits_seen, 22);
  static_assert(hex_value('/') == -1 && hex_value(':') == -1 && hex_value('@') == -1 &&
                hex_value('G') == -1 && hex_value('`') == -1 && hex_value('g') == -1);
}

TEST(Strings, HexPairReadsTwoDigitsWithinTheString) {
  EXPECT_EQ(hex_pair("%41", 1), 0x41);
  EXPECT_EQ(hex_pair("=fF", 1), 0xff);
  EXPECT_EQ(hex_pair("%00", 1), 0);
  EXPECT_EQ(hex_pair("x%2fy", 2), 0x2f);
  // One digit short, either digit not a digit, or the pair past the end: no byte.
  EXPECT_EQ(hex_pair("%4", 1), -1);
  EXPECT_EQ(hex_pair("%", 1), -1);
  EXPECT_EQ(hex_pair("%", 5), -1);
  EXPECT_EQ(hex_pair("%g1", 1), -1);
  EXPECT_EQ(hex_pair("%1g", 1), -1);
  EXPECT_EQ(hex_pair("%-1", 1), -1);
  EXPECT_EQ(hex_pair("%\xff" "1", 1), -1);
  EXPECT_EQ(hex_pair("%1\xff", 1), -1);
  EXPECT_EQ(hex_pair(std::string_view("%\0" "1", 3), 1), -1);
  EXPECT_EQ(hex_pair(std::string_view("%1\0", 3), 1), -1);
  // The bounds, where constant evaluation makes any read past the view's end a compile error:
  // the digits behind a cut view are not read, and no position past the end is.
  static_assert(hex_pair("%7E", 1) == '~' && hex_pair("%7", 1) == -1);
  static_assert(hex_pair(std::string_view("%41").substr(0, 2), 1) == -1);
  static_assert(hex_pair(std::string_view("%41").substr(0, 3), 1) == 0x41);
  static_assert(hex_pair("", 0) == -1 && hex_pair("%", 1) == -1 && hex_pair("%", 5) == -1);
}

TEST(Strings, PercentDecodeKeepsWhatIsNoEscape) {
  EXPECT_EQ(percent_decode("F%FCr%20x"), "F\xfcr x");
  EXPECT_EQ(percent_decode("a%41%4"), "aA%4");
  EXPECT_EQ(percent_decode("%zz%%25"), "%zz%%");
  EXPECT_EQ(percent_decode(""), "");
}

}  // namespace
}  // namespace mk
