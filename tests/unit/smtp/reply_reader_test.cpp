// Reply assembly and enhanced status codes on the client side.
#include "smtp/reply_reader.hpp"

#include <gtest/gtest.h>

namespace mk::smtp {
namespace {

using S = ReplyReader::Status;

TEST(ReplyReader, MultiLine) {
  ReplyReader r;
  EXPECT_EQ(r.feed("250-mx.example.net Hello"), S::more);
  EXPECT_EQ(r.feed("250-SIZE 10240000"), S::more);
  EXPECT_EQ(r.feed("250 STARTTLS"), S::done);
  EXPECT_EQ(r.code(), 250);
  ASSERT_EQ(r.lines().size(), 3u);
  EXPECT_EQ(r.lines()[1], "SIZE 10240000");
  ReplyReader bare;
  EXPECT_EQ(bare.feed("354"), S::done);
}

TEST(ReplyReader, Malformed) {
  EXPECT_EQ(ReplyReader().feed("25"), S::error);
  EXPECT_EQ(ReplyReader().feed("abc hello"), S::error);
  EXPECT_EQ(ReplyReader().feed("199 too low"), S::error);
  EXPECT_EQ(ReplyReader().feed("600 too high"), S::error);
  EXPECT_EQ(ReplyReader().feed("250xno separator"), S::error);
  ReplyReader mixed;
  EXPECT_EQ(mixed.feed("250-first"), S::more);
  EXPECT_EQ(mixed.feed("550 second"), S::error);  // one code per reply
  ReplyReader endless;
  S st = S::more;
  for (std::size_t i = 0; i <= kMaxReplyLines && st == S::more; ++i) st = endless.feed("250-x");
  EXPECT_EQ(st, S::error);
}

TEST(ReplyReader, EnhancedCodes) {
  EXPECT_EQ(enhanced_code(550, "5.1.1 No such user"), "5.1.1");
  EXPECT_EQ(enhanced_code(451, "4.7.1 Greylisted"), "4.7.1");
  EXPECT_EQ(enhanced_code(250, "2.0.0"), "2.0.0");
  EXPECT_EQ(enhanced_code(550, "4.1.1 class differs"), "");
  EXPECT_EQ(enhanced_code(550, "5.1 too short"), "");
  EXPECT_EQ(enhanced_code(550, "5.1.1234 too long"), "");
  EXPECT_EQ(enhanced_code(550, "5..1 empty"), "");
  EXPECT_EQ(enhanced_code(550, "No such user"), "");
}

}  // namespace
}  // namespace mk::smtp
