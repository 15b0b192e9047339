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
}

}  // namespace
}  // namespace mk::audit
