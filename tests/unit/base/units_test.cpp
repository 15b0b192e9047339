#include "base/units.hpp"

#include <gtest/gtest.h>

namespace mk {
namespace {

TEST(Units, Durations) {
  using std::chrono::milliseconds;
  struct Case {
    const char* in;
    std::optional<milliseconds> want;
  } cases[] = {
      {"30s", milliseconds(30000)}, {"5m", milliseconds(300000)}, {"1h30m", milliseconds(5400000)},
      {"250ms", milliseconds(250)}, {"2d", milliseconds(172800000)}, {"", std::nullopt},
      {"5", std::nullopt},          {"m", std::nullopt},            {"5x", std::nullopt},
      {"-5s", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_duration(c.in), c.want) << c.in;
}

TEST(Units, Sizes) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("50MiB"), 50u << 20);
  EXPECT_EQ(parse_size("1GB"), 1000000000u);
  EXPECT_EQ(parse_size("10 MiB"), 10u << 20);
  EXPECT_EQ(parse_size("MiB"), std::nullopt);
  EXPECT_EQ(parse_size("5 parsecs"), std::nullopt);
  EXPECT_EQ(parse_size("99999999999999999999GiB"), std::nullopt);
}

}  // namespace
}  // namespace mk
