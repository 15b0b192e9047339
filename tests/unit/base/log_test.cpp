#include "base/log.hpp"

#include <gtest/gtest.h>

namespace mk::log {
namespace {

TEST(Log, KeyValueEscapesPeerData) {
  auto line = format_line(Format::kv, "T", Level::info, "smtp.reply",
                          {{"conn", "ab12"}, {"text", "evil\r\nlevel=error event=forged"}, {"n", 5}});
  EXPECT_EQ(line,
            "ts=T level=info event=smtp.reply conn=ab12 text=\"evil\\r\\nlevel=error event=forged\" n=5");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Log, Json) {
  auto line = format_line(Format::json, "T", Level::warn, "e", {{"s", "a\"b"}, {"n", 7}, {"b", true}});
  EXPECT_EQ(line, R"({"ts":"T","level":"warn","event":"e","s":"a\"b","n":7,"b":true})");
}

TEST(Log, EmptyValueIsQuoted) {
  EXPECT_EQ(format_line(Format::kv, "T", Level::info, "e", {{"k", ""}}), "ts=T level=info event=e k=\"\"");
}

}  // namespace
}  // namespace mk::log
