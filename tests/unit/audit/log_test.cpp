// The security log's hash chain: intact after appends from two writers, and every kind of
// tampering (an edited record, a removed one, records cut off the end) is found.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "audit/log.hpp"
#include "unit/audit/temp_log.hpp"

namespace mk::audit {
namespace {

using test::TempLog;

TEST(AuditLog, ChainIntactAcrossWriters) {
  TempLog t;
  {
    auto a = Log::open(t.path);
    auto b = Log::open(t.path);  // e.g. the server and a CLI command
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE((*a)->append("login", {{"user", "alice@example.org"}, {"ip", "192.0.2.1"}}).ok());
    ASSERT_TRUE((*b)->append("ban_lifted", {{"network", "192.0.2.7"}}).ok());
    ASSERT_TRUE((*a)->append("login_failed", {{"user", "bob\n{\"forged\":1}"}, {"ip", "192.0.2.7"}}).ok());
  }
  auto r = verify(t.path);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 3u);
  const auto lines = t.lines();
  ASSERT_EQ(lines.size(), 3u);  // the newline in the user name stayed inside its record
  EXPECT_NE(lines[2].find("bob\\n{\\\"forged\\\":1}"), std::string::npos) << lines[2];
  // Reopened later, the chain continues.
  auto c = Log::open(t.path);
  ASSERT_TRUE((*c)->append("login", {{"user", "carol@example.org"}}).ok());
  EXPECT_EQ(verify(t.path).records, 4u);
}

TEST(AuditLog, TamperingIsFound) {
  TempLog t;
  {
    auto a = Log::open(t.path);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*a)->append("login_failed", {{"ip", "192.0.2." + std::to_string(i)}}).ok());
  }
  const auto orig = t.lines();
  auto edited = orig;
  edited[2].replace(edited[2].find("192.0.2.2"), 9, "192.0.2.9");
  t.write(edited);
  auto r = verify(t.path);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("security.log:3: the record was changed"), std::string::npos) << r.problem;
  auto removed = orig;
  removed.erase(removed.begin() + 1);
  t.write(removed);
  r = verify(t.path);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find(":2: record 3 follows record 1"), std::string::npos) << r.problem;
  auto cut = orig;
  cut.pop_back();
  t.write(cut);
  r = verify(t.path);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("ends at record 4 but record 5 was written"), std::string::npos) << r.problem;
  t.write(orig);
  EXPECT_TRUE(verify(t.path).ok);
  // A line no record could be (an attacker's padding): reported, never held whole.
  auto padded = orig;
  padded.insert(padded.begin() + 3, std::string(kMaxRecordLine + 10, 'x'));
  t.write(padded);
  r = verify(t.path);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find(":4: a line longer than"), std::string::npos) << r.problem;
}

TEST(AuditLog, ReadLineIsBounded) {
  std::istringstream in("one\n" + std::string(kMaxRecordLine + 5, 'y') + "\ntwo\nthree");
  std::string line;
  bool terminated = false;
  EXPECT_EQ(read_line(in, line, &terminated), LineRead::ok);
  EXPECT_EQ(line, "one");
  EXPECT_TRUE(terminated);
  EXPECT_EQ(read_line(in, line, &terminated), LineRead::too_long);
  EXPECT_EQ(line.size(), kMaxRecordLine);
  EXPECT_EQ(read_line(in, line, &terminated), LineRead::ok);
  EXPECT_EQ(line, "two");
  EXPECT_EQ(read_line(in, line, &terminated), LineRead::ok);
  EXPECT_EQ(line, "three");
  EXPECT_FALSE(terminated);
  EXPECT_EQ(read_line(in, line, &terminated), LineRead::end);
}

}  // namespace
}  // namespace mk::audit

namespace mk::audit {
namespace {

// A collector's stored segment may begin after record 1 (a gap it alerted); the server's own
// log may not: that is records cut off its start.
TEST(AuditLog, ASegmentVerifiesFromItsFirstRecord) {
  test::TempLog t;
  {
    auto log = Log::open(t.path);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE((*log)->append("login_failed", {{"n", std::to_string(i)}}).ok());
  }
  auto lines = t.lines();
  t.write({lines.begin() + 2, lines.end()});  // records 3 to 6
  EXPECT_FALSE(verify(t.path).ok);
  const auto r = verify(t.path, true);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 4u);
  // Within the segment, the chain is checked as usual, and so is its end.
  auto edited = lines;
  edited[4].replace(edited[4].find("\"n\":\"4\""), 7, "\"n\":\"9\"");
  t.write({edited.begin() + 2, edited.end()});
  EXPECT_FALSE(verify(t.path, true).ok);
  t.write({lines.begin() + 2, lines.end() - 1});
  const auto cut = verify(t.path, true);
  EXPECT_FALSE(cut.ok);
  EXPECT_NE(cut.problem.find("ends at record 5 but record 6 was written"), std::string::npos) << cut.problem;
}

// A sequence number of 0, or one near the top of its range, could wrap the chain around to
// history it has passed (a collector's segments): it is not a record at all.
TEST(AuditLog, SequenceNumbersThatCouldWrapAreNotRecords) {
  ChainCheck c(5, std::string(64, 'a'));
  for (const std::uint64_t seq : {std::uint64_t(0), ChainCheck::kMaxSeq + 1, ~std::uint64_t(0)}) {
    const std::string line = "{\"seq\":" + std::to_string(seq) + ",\"ts\":\"2026-12-05T00:00:00.000Z\","
                             "\"event\":\"x\",\"prev\":\"" + std::string(64, 'a') + "\",\"hash\":\"" +
                             std::string(64, 'b') + "\"}";
    EXPECT_EQ(c.check(line), ChainCheck::Link::not_a_record) << seq;
  }
}

// read_tail: the newest lines, oldest first, whether the window holds them at once or grows,
// and never a line the window cut in the middle.
TEST(AuditLog, ReadTailGivesTheNewestWholeLines) {
  TempLog t;
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) lines.push_back("record " + std::to_string(i) + " " + std::string(40, 'x'));
  t.write(lines);
  auto few = read_tail(t.path, 3);
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(*few, (std::vector<std::string>{lines[2997], lines[2998], lines[2999]}));
  auto many = read_tail(t.path, 2500);  // beyond the first 64 KiB window
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 2500u);
  EXPECT_EQ(many->front(), lines[500]);
  EXPECT_EQ(many->back(), lines[2999]);
  auto all = read_tail(t.path, 10000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, lines);
  t.write({});
  EXPECT_TRUE(read_tail(t.path, 5)->empty());
  EXPECT_FALSE(read_tail(t.dir + "/missing.log", 5).ok());
}

}  // namespace
}  // namespace mk::audit
