// store/sqlite/db.hpp: a thin RAII wrapper over the SQLite C API (connections, prepared
// statements, transactions). Only the SQLite backend includes it.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store::sqlite {

// The store error code for an SQLite result code (primary or extended).
Errc errc_of(int rc);

class Db;

// A prepared statement. Made from a Db, it is borrowed from the connection's cache of
// prepared statements (Db below) and given back, reset, when it goes out of scope.
class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  Stmt(sqlite3* db, std::string_view sql);  // prepared for this use only
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool valid() const { return stmt_ != nullptr; }
  Stmt& bind(int idx, std::int64_t v);
  Stmt& bind(int idx, std::string_view v);
  Stmt& bind_blob(int idx, std::string_view v);  // bytes, not text: stored and read back as is
  Stmt& bind_null(int idx);
  // SQLITE_ROW -> true, SQLITE_DONE -> false; errors are recorded in error().
  bool step();
  Status done();  // steps to completion, returns the error if any
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string blob(int col) const;
  bool failed() const { return rc_ != SQLITE_OK && rc_ != SQLITE_ROW && rc_ != SQLITE_DONE; }
  std::string error() const;
  // error() as a store Error with its code (errc_of the result code).
  Error fail() const;
  int rc() const { return rc_; }
  // Whether the last step broke a UNIQUE or PRIMARY KEY constraint (the name is taken).
  bool duplicate() const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
  Db* cache_ = nullptr;  // borrowed from this connection's cache
};

// A connection. It keeps the statements it prepared for reuse, least recently used out
// first: preparing parses and plans the SQL, which costs more than running most of the
// store's queries. Statements whose text carries data (IN lists of UIDs) are long and
// one-off: they are not kept. Like its connection, a Db and its statements are used by one
// thread at a time (the store's mutex, or the committer thread).
class Db {
 public:
  static constexpr std::size_t kMaxCachedStatements = 128;
  static constexpr std::size_t kMaxCachedSqlLength = 400;  // bytes of SQL text

  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // read_only: the file must exist; nothing is written to it (PRAGMA query_only).
  Status open(const std::string& path, bool read_only = false);
  Status exec(std::string_view sql);
  sqlite3* handle() const { return db_; }
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  std::size_t cached_statements() const { return cache_.size(); }  // for tests

 private:
  friend class Txn;
  friend class Stmt;
  struct Cached {
    std::string sql;
    sqlite3_stmt* stmt = nullptr;
    bool busy = false;
  };
  // A free cached statement for sql, marked busy; null if there is none.
  sqlite3_stmt* borrow(std::string_view sql);
  // Keeps a statement just prepared for sql, marked busy; false if it is not worth keeping.
  bool keep(std::string_view sql, sqlite3_stmt* stmt);
  void give_back(sqlite3_stmt* stmt);
  std::list<Cached> cache_;  // most recently used first
  sqlite3* db_ = nullptr;
  bool rollback_failed_ = false;  // a Txn's ROLLBACK failed; the next Txn retries it first
  bool relaxed_ = false;          // synchronous=NORMAL is set: a full Txn must restore FULL first
};

// How durable a commit is when it returns.
enum class Durability {
  // The WAL is fsync'd by COMMIT: what the commit wrote survives a crash (mail, accounts).
  full,
  // No fsync of its own: atomic, and durable with the next full commit of any connection
  // (which fsyncs the WAL up to its end) or a checkpoint. For records a crash may lose the
  // last of without harm (who wrote to whom): an fsync each would serialize the MX.
  relaxed,
};

// Moves the store-wide sequence `key` (a row of the meta table; 1 when it is new) and returns
// its new value, in the caller's transaction: version numbers that never repeat.
Result<std::int64_t> next_in_sequence(Db& db, std::string_view key);

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class Txn {
 public:
  explicit Txn(Db& db, Durability durability = Durability::full);
  ~Txn();
  Status begin();
  Status commit();

 private:
  void restore_full();
  Db& db_;
  Durability durability_;
  bool open_ = false;
};

}  // namespace mk::store::sqlite
