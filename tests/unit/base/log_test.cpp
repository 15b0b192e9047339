#include "base/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

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

struct Recorded : Tap {
  std::vector<std::pair<Level, std::string>> lines;
  void line(Level level, std::string_view ts, std::string_view text) override {
    EXPECT_FALSE(ts.empty());
    EXPECT_EQ(text.find('\n'), std::string::npos);
    lines.emplace_back(level, std::string(text));
  }
};

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  return out;
}

// A long-lived task's end: an exception is logged under the task's event, whatever its type;
// a task that returned logs nothing.
TEST(Log, ATaskEndedByAnExceptionIsLogged) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto sink = std::make_shared<Sink>(::fileno(f), Format::kv, Level::error);
  auto tap = std::make_shared<Recorded>();
  sink->set_tap(tap, Level::debug);
  const LogThrown ended{Logger(sink).with({{"svc", "smtp"}}), "smtp.accept_loop_failed"};
  ended(nullptr);
  EXPECT_TRUE(tap->lines.empty());
  ended(std::make_exception_ptr(std::bad_alloc()));
  ended(std::make_exception_ptr(42));
  ASSERT_EQ(tap->lines.size(), 2u);
  EXPECT_EQ(tap->lines[0].first, Level::error);
  EXPECT_NE(
      tap->lines[0].second.find("event=smtp.accept_loop_failed svc=smtp error=std::bad_alloc"),
      std::string::npos)
      << tap->lines[0].second;
  EXPECT_NE(tap->lines[1].second.find("error=\"an exception of an unknown type\""),
            std::string::npos)
      << tap->lines[1].second;
  std::fclose(f);
}

TEST(Log, ATapGetsItsLevelAndUpEvenBelowTheSinks) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto sink = std::make_shared<Sink>(::fileno(f), Format::kv, Level::warn);
  auto tap = std::make_shared<Recorded>();
  Logger log(sink);
  log.info("before.tap");
  sink->set_tap(tap, Level::info);
  EXPECT_TRUE(log.enabled(Level::info));
  EXPECT_FALSE(log.enabled(Level::debug));
  log.with({{"svc", "smtp"}}).debug("not.shipped");
  log.with({{"svc", "smtp"}}).info("shipped.only", {{"n", 1}});
  log.error("both");
  ASSERT_EQ(tap->lines.size(), 2u);
  EXPECT_EQ(tap->lines[0].first, Level::info);
  EXPECT_NE(tap->lines[0].second.find("level=info event=shipped.only svc=smtp n=1"), std::string::npos);
  EXPECT_EQ(tap->lines[1].first, Level::error);
  // The sink's own destination keeps its level.
  const std::string written = read_all(::fileno(f));
  EXPECT_EQ(written.find("shipped.only"), std::string::npos) << written;
  EXPECT_EQ(written.find("before.tap"), std::string::npos) << written;
  EXPECT_NE(written.find("event=both"), std::string::npos) << written;
  sink->set_tap(nullptr, Level::debug);
  log.error("after.tap");
  EXPECT_EQ(tap->lines.size(), 2u);
  EXPECT_FALSE(log.enabled(Level::info));
  std::fclose(f);
}

}  // namespace
}  // namespace mk::log
