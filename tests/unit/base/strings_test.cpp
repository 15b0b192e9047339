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

}  // namespace
}  // namespace mk
