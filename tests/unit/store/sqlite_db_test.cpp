// store/sqlite/db.hpp: prepared statements are kept per connection and reused, never shared
// by two users at once, and never outlive their connection.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/sqlite/db.hpp"

namespace mk::store::sqlite {
namespace {

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mk-db-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ASSERT_TRUE(db_.open(dir_ + "/t.db").ok());
    ASSERT_TRUE(db_.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)").ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  Db db_;
};

TEST_F(SqliteDbTest, ReusedStatementsStartClean) {
  for (int i = 0; i < 3; ++i) {
    Stmt ins(db_, "INSERT INTO t (k, v) VALUES (?, ?)");
    ASSERT_TRUE(ins.bind(1, std::int64_t(i)).bind(2, "v" + std::to_string(i)).done().ok());
  }
  // The same text again: a reused statement has no rows left over from the last use and
  // no bindings (an unbound parameter is NULL).
  {
    Stmt q(db_, "SELECT v FROM t WHERE k = ?");
    q.bind(1, std::int64_t(2));
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(0), "v2");
    // Left in the middle of its rows.
  }
  Stmt again(db_, "SELECT v FROM t WHERE k = ?");
  EXPECT_FALSE(again.step());  // NULL matches nothing
  EXPECT_FALSE(again.failed());
}

TEST_F(SqliteDbTest, TheSameSqlTwiceAtOnceGetsTwoStatements) {
  ASSERT_TRUE(db_.exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
  const char* sql = "SELECT k, v FROM t WHERE k >= ? ORDER BY k";
  Stmt outer(db_, sql);
  outer.bind(1, std::int64_t(1));
  std::string seen;
  while (outer.step()) {
    Stmt inner(db_, sql);  // nested use of the same text while outer steps
    inner.bind(1, outer.int64(0));
    ASSERT_TRUE(inner.step());
    seen += inner.text(1);
  }
  EXPECT_FALSE(outer.failed());
  EXPECT_EQ(seen, "abc");
}

TEST_F(SqliteDbTest, OneOffStatementsDoNotCrowdOutTheCache) {
  // Long texts carrying data (an IN list of UIDs) are not kept at all.
  std::string in = "SELECT count(*) FROM t WHERE k IN (0";
  for (int i = 1; i < 500; ++i) in += "," + std::to_string(i);
  in += ")";
  ASSERT_GT(in.size(), Db::kMaxCachedSqlLength);
  const std::size_t before = db_.cached_statements();
  {
    Stmt q(db_, in);
    ASSERT_TRUE(q.step());
  }
  EXPECT_EQ(db_.cached_statements(), before);
  // More distinct short texts than the cache keeps: the least recently used go, and the
  // cache stays bounded however many there are.
  for (std::size_t i = 0; i < 3 * Db::kMaxCachedStatements; ++i) {
    Stmt q(db_, "SELECT " + std::to_string(i));
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.int64(0), std::int64_t(i));
    Stmt hot(db_, "SELECT v FROM t WHERE k = ?");  // used all along: never the least recent
    EXPECT_FALSE(hot.step());
  }
  EXPECT_EQ(db_.cached_statements(), Db::kMaxCachedStatements);
}

// A relaxed transaction commits without an fsync of its own; the connection is back to
// synchronous=FULL (2) as soon as it ends, committed or rolled back, so that nothing else
// written on it (mail) is ever less durable.
TEST_F(SqliteDbTest, RelaxedTransactionsLeaveTheConnectionFull) {
  auto synchronous = [&] {
    Stmt q(db_, "PRAGMA synchronous");
    EXPECT_TRUE(q.step());
    return q.int64(0);
  };
  EXPECT_EQ(synchronous(), 2);
  {
    Txn t(db_, Durability::relaxed);
    ASSERT_TRUE(t.begin().ok());
    EXPECT_EQ(synchronous(), 1);  // NORMAL for this commit
    ASSERT_TRUE(db_.exec("INSERT INTO t VALUES (1, 'a')").ok());
    ASSERT_TRUE(t.commit().ok());
    EXPECT_EQ(synchronous(), 2);
  }
  {
    Txn t(db_, Durability::relaxed);
    ASSERT_TRUE(t.begin().ok());
    ASSERT_TRUE(db_.exec("INSERT INTO t VALUES (2, 'b')").ok());
  }  // rolled back
  EXPECT_EQ(synchronous(), 2);
  Stmt n(db_, "SELECT count(*) FROM t");
  ASSERT_TRUE(n.step());
  EXPECT_EQ(n.int64(0), 1);
}

}  // namespace
}  // namespace mk::store::sqlite
