#include "smtp/data_reader.hpp"

#include <gtest/gtest.h>

namespace mk::smtp {
namespace {

struct Out {
  DataStatus status;
  std::string message;
  std::size_t consumed;
};

Out feed_all(std::string_view in, std::uint64_t max = 1 << 20) {
  DataReader r(max);
  std::size_t used = 0;
  auto st = r.feed(in, used);
  return {st, r.message(), used};
}

Out feed_bytewise(std::string_view in) {
  DataReader r(1 << 20);
  std::size_t total = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::size_t used = 0;
    auto st = r.feed(in.substr(i, 1), used);
    total += used;
    if (st != DataStatus::need_more) return {st, r.message(), total};
  }
  return {DataStatus::need_more, r.message(), total};
}

TEST(DataReader, EndsOnlyAtCrLfDotCrLf) {
  struct Case {
    const char* in;
    DataStatus want;
    const char* message;
  } cases[] = {
      {".\r\n", DataStatus::done, ""},
      {"a\r\n.\r\n", DataStatus::done, "a\r\n"},
      {"a\r\n..b\r\n.\r\n", DataStatus::done, "a\r\n.b\r\n"},
      {"a\r\n.b\r\n.\r\n", DataStatus::done, "a\r\nb\r\n"},
      {"a\r\n...\r\n.\r\n", DataStatus::done, "a\r\n..\r\n"},
      {"a\r\n. \r\n.\r\n", DataStatus::done, "a\r\n \r\n"},
      {"a\r\n.\r", DataStatus::need_more, "a\r\n"},
      // SMTP smuggling variants: never an end of data, always an error.
      {"a\n.\n", DataStatus::bare_lf, "a"},
      {"a\r\n.\n", DataStatus::bare_lf, "a\r\n"},
      {"a\n.\r\n", DataStatus::bare_lf, "a"},
      {"a\r.\r", DataStatus::bare_cr, "a"},
      {"a\r.\r\n", DataStatus::bare_cr, "a"},
      {"a\r\n.\rX", DataStatus::bare_cr, "a\r\n"},
      {"\n", DataStatus::bare_lf, ""},
  };
  for (const auto& c : cases) {
    auto a = feed_all(c.in);
    EXPECT_EQ(a.status, c.want) << testing::PrintToString(std::string(c.in));
    EXPECT_EQ(a.message, c.message) << testing::PrintToString(std::string(c.in));
    auto b = feed_bytewise(c.in);
    EXPECT_EQ(b.status, c.want) << "bytewise " << testing::PrintToString(std::string(c.in));
    EXPECT_EQ(b.message, c.message);
  }
}

TEST(DataReader, StopsRightAfterTerminator) {
  auto o = feed_all("hello\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(o.status, DataStatus::done);
  EXPECT_EQ(o.consumed, 10u);
}

TEST(DataReader, KeepsCountingPastTheLimit) {
  DataReader r(4);
  std::size_t used = 0;
  EXPECT_EQ(r.feed("0123456789\r\n.\r\n", used), DataStatus::done);
  EXPECT_TRUE(r.too_big());
  EXPECT_EQ(r.size(), 12u);
  EXPECT_EQ(r.message(), "0123");
}

TEST(NextLine, Cases) {
  struct Case {
    const char* in;
    std::size_t max;
    LineStatus want;
    const char* line;
    std::size_t consumed;
  } cases[] = {
      {"NOOP\r\n", 512, LineStatus::line, "NOOP", 6},
      {"NOOP\r\nQUIT\r\n", 512, LineStatus::line, "NOOP", 6},
      {"NOOP", 512, LineStatus::need_more, "", 0},
      {"NOOP\r", 512, LineStatus::need_more, "", 0},
      {"NOOP\n", 512, LineStatus::bare_lf, "", 5},
      {"NO\rOP\r\n", 512, LineStatus::bare_cr, "", 7},
      {"NO\rOP", 512, LineStatus::bare_cr, "", 3},
      {"\r\n", 512, LineStatus::line, "", 2},
      {"0123456789\r\n", 5, LineStatus::too_long, "", 12},
      {"0123456789", 5, LineStatus::too_long, "", 10},
      {"01234\r\n", 5, LineStatus::line, "01234", 7},
  };
  for (const auto& c : cases) {
    auto r = next_line(c.in, c.max);
    EXPECT_EQ(r.status, c.want) << testing::PrintToString(std::string(c.in));
    EXPECT_EQ(r.line, c.line) << c.in;
    EXPECT_EQ(r.consumed, c.consumed) << c.in;
  }
}

}  // namespace
}  // namespace mk::smtp
