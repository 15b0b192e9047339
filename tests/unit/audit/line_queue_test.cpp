// audit::LineQueue: operational lines waiting for the collectors' links, in order, each link at
// its own position, bounded in bytes with the oldest let go and the links told how many.
#include "audit/line_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "audit/syslog.hpp"

namespace mk::audit {
namespace {

std::vector<std::string> texts(const std::vector<QueuedLine>& v) {
  std::vector<std::string> out;
  for (const auto& l : v) out.push_back(l.line);
  return out;
}

TEST(LineQueue, EachReaderGetsEveryLineInOrder) {
  LineQueue q(1 << 20);
  std::uint64_t a = q.next_position(), b = q.next_position(), missed = 7;
  q.line(log::Level::warn, "T1", "one");
  q.line(log::Level::error, "T2", "two");
  auto got = q.read(a, 1 << 20, missed);
  EXPECT_EQ(missed, 0u);
  EXPECT_EQ(texts(got), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(got[1].level, log::Level::error);
  EXPECT_EQ(got[1].ts, "T2");
  EXPECT_TRUE(q.read(a, 1 << 20, missed).empty());
  // Released only as far as every reader has come.
  q.release(std::min(a, b));
  q.line(log::Level::warn, "T3", "three");
  EXPECT_EQ(texts(q.read(b, 1 << 20, missed)), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(texts(q.read(a, 1 << 20, missed)), (std::vector<std::string>{"three"}));
  q.release(std::min(a, b));
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(LineQueue, ReadsComeInBatchesOfAboutTheSizeAsked) {
  LineQueue q(1 << 20);
  std::uint64_t pos = q.next_position(), missed = 0;
  for (int i = 0; i < 10; ++i) q.line(log::Level::warn, "T", std::string(100, char('a' + i)));
  auto first = q.read(pos, 250, missed);
  EXPECT_GE(first.size(), 1u);
  EXPECT_LT(first.size(), 10u);
  std::size_t total = first.size();
  while (true) {
    auto more = q.read(pos, 250, missed);
    if (more.empty()) break;
    total += more.size();
  }
  EXPECT_EQ(total, 10u);
  // A line larger than the batch still comes, alone.
  q.line(log::Level::warn, "T", std::string(1000, 'z'));
  EXPECT_EQ(q.read(pos, 10, missed).size(), 1u);
}

TEST(LineQueue, WhenFullTheOldestGoAndTheReaderIsToldHowMany) {
  LineQueue q(2000);
  std::uint64_t away = q.next_position(), present = q.next_position(), missed = 0;
  for (int i = 0; i < 100; ++i) {
    q.line(log::Level::warn, "T", "line " + std::to_string(i));
    (void)q.read(present, 1 << 20, missed);  // one reader keeps up
    EXPECT_EQ(missed, 0u);
  }
  EXPECT_LE(q.bytes(), 2000u);
  auto got = q.read(away, 1 << 20, missed);
  ASSERT_FALSE(got.empty());
  EXPECT_GT(missed, 0u);
  EXPECT_EQ(missed + got.size(), 100u);  // nothing lost unaccounted
  EXPECT_EQ(got.back().line, "line 99");   // the newest kept
  EXPECT_EQ(got.front().line, "line " + std::to_string(missed));
}

TEST(LineQueue, AnOversizedLineIsCutAndSaysSo) {
  LineQueue q(1 << 20);
  std::uint64_t pos = q.next_position(), missed = 0;
  q.line(log::Level::warn, "T", std::string(LineQueue::kMaxLine + 500, 'x'));
  auto got = q.read(pos, 1 << 20, missed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LT(got[0].line.size(), LineQueue::kMaxLine + 50);
  EXPECT_TRUE(got[0].line.ends_with(" [cut]"));
  // Even a full-size line fits one of the collector's frames.
  const auto framed = syslog::frame(syslog::format(syslog::operational_message(
      log::Level::warn, "2026-12-05T10:00:00.000Z", got[0].line, std::string(255, 'h'), "123456")));
  EXPECT_LT(framed.size(), 64u * 1024);
}

TEST(Syslog, OperationalLinesCarryTheirLevelAndTime) {
  const auto m = syslog::operational_message(log::Level::warn, "2026-12-05T10:00:00.000Z",
                                             "ts=2026-12-05T10:00:00.000Z level=warn event=x", "mail.example.org", "42");
  const std::string text = syslog::format(m);
  EXPECT_EQ(text, "<20>1 2026-12-05T10:00:00.000Z mail.example.org mailkeep 42 log - "
                  "ts=2026-12-05T10:00:00.000Z level=warn event=x");
  auto back = syslog::parse(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->msgid, syslog::kLogMsgId);
  EXPECT_EQ(back->msg, m.msg);
  EXPECT_EQ(syslog::format(syslog::operational_message(log::Level::error, "T", "l", "h", "1")).substr(0, 5),
            "<19>1");
  EXPECT_EQ(syslog::format(syslog::operational_message(log::Level::info, "T", "l", "h", "1")).substr(0, 5),
            "<22>1");
  EXPECT_EQ(syslog::format(syslog::operational_message(log::Level::debug, "T", "l", "h", "1")).substr(0, 5),
            "<23>1");
}

}  // namespace
}  // namespace mk::audit
