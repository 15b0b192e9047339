#include "store/sqlite/db.hpp"

#include <fmt/format.h>

namespace mk::store::sqlite {

Errc errc_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return Errc::not_found;  // a step that found no row where one was expected
    case SQLITE_CONSTRAINT: return Errc::conflict;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT: return Errc::corrupt;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH: return Errc::invalid;
    default: return Errc::unavailable;  // BUSY, LOCKED, IOERR, FULL, NOMEM, CANTOPEN, ...
  }
}

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db) {
  rc_ = sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &stmt_, nullptr);
}

Stmt::Stmt(Db& db, std::string_view sql) : db_(db.handle()) {
  if ((stmt_ = db.borrow(sql))) {
    cache_ = &db;
    return;
  }
  rc_ = sqlite3_prepare_v2(db_, sql.data(), int(sql.size()), &stmt_, nullptr);
  if (rc_ == SQLITE_OK && stmt_ && db.keep(sql, stmt_)) cache_ = &db;
}

Stmt::~Stmt() {
  if (!cache_) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  cache_->give_back(stmt_);
}

sqlite3_stmt* Db::borrow(std::string_view sql) {
  for (auto it = cache_.begin(); it != cache_.end(); ++it)
    if (!it->busy && it->sql == sql) {
      it->busy = true;
      cache_.splice(cache_.begin(), cache_, it);
      return it->stmt;
    }
  return nullptr;
}

bool Db::keep(std::string_view sql, sqlite3_stmt* stmt) {
  if (sql.size() > kMaxCachedSqlLength) return false;
  cache_.push_front(Cached{std::string(sql), stmt, true});
  // Over the limit: the least recently used statement nobody holds goes.
  for (auto it = cache_.end(); cache_.size() > kMaxCachedStatements && it != cache_.begin();) {
    --it;
    if (it->busy) continue;
    sqlite3_finalize(it->stmt);
    it = cache_.erase(it);
  }
  return true;
}

void Db::give_back(sqlite3_stmt* stmt) {
  for (auto& c : cache_)
    if (c.stmt == stmt) {
      c.busy = false;
      return;
    }
}

Stmt& Stmt::bind(int idx, std::int64_t v) {
  if (stmt_) sqlite3_bind_int64(stmt_, idx, v);
  return *this;
}

Stmt& Stmt::bind(int idx, std::string_view v) {
  if (stmt_) sqlite3_bind_text(stmt_, idx, v.data(), int(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_blob(int idx, std::string_view v) {
  // A null pointer would bind NULL: an empty value is still a (zero-length) blob.
  if (stmt_) sqlite3_bind_blob64(stmt_, idx, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int idx) {
  if (stmt_) sqlite3_bind_null(stmt_, idx);
  return *this;
}

bool Stmt::step() {
  if (!stmt_) return false;
  rc_ = sqlite3_step(stmt_);
  return rc_ == SQLITE_ROW;
}

Status Stmt::done() {
  if (!stmt_) return fail();
  while (step()) {
  }
  if (failed()) return fail();
  return {};
}

Error Stmt::fail() const { return store::error(errc_of(rc_), error()); }

bool Stmt::duplicate() const {
  const int ext = stmt_ ? sqlite3_extended_errcode(db_) : 0;
  return rc_ == SQLITE_CONSTRAINT && (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY);
}

void Stmt::reset() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  rc_ = SQLITE_OK;
}

std::string Stmt::text(int col) const {
  auto* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), std::size_t(sqlite3_column_bytes(stmt_, col)));
}

std::string Stmt::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  if (!p) return {};
  return std::string(p, std::size_t(sqlite3_column_bytes(stmt_, col)));
}

std::string Stmt::error() const { return fmt::format("sqlite: {} ({})", sqlite3_errmsg(db_), rc_); }

Db::~Db() {
  for (auto& c : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close_v2(db_);
}

Status Db::open(const std::string& path, bool read_only) {
  const int mode = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, mode | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return store::error(errc_of(rc), fmt::format("cannot open {}: {}", path, sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db_, 10000);
  // The file's journal mode (WAL) is the writer's to set; a reader only reads.
  if (read_only) return exec("PRAGMA query_only=1; PRAGMA foreign_keys=ON;");
  // WAL + synchronous=FULL: a commit is durable when COMMIT returns (the WAL is fsync'd).
  return exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

Status Db::exec(std::string_view sql) {
  char* msg = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string e = fmt::format("sqlite: {}", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return store::error(errc_of(rc), std::move(e));
  }
  return {};
}

Result<std::int64_t> next_in_sequence(Db& db, std::string_view key) {
  Stmt u(db, "INSERT INTO meta(key, value) VALUES(?, '1') "
             "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 "
             "RETURNING CAST(value AS INTEGER)");
  u.bind(1, key);
  const bool got = u.step();
  const std::int64_t v = got ? u.int64(0) : 0;
  if (!u.done()) return u.fail();
  if (!got) return store::error(Errc::corrupt, fmt::format("sqlite: the sequence {} gave no value", key));
  return v;
}

Txn::Txn(Db& db, Durability durability) : db_(db), durability_(durability) {}

Txn::~Txn() {
  if (open_ && db_.exec("ROLLBACK")) open_ = false;
  if (!open_) {
    restore_full();
    return;
  }
  // A statement still stepping keeps the transaction open: reset every one and try again at
  // once, so no later write of this connection runs inside the dead transaction.
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_.handle(), nullptr); s; s = sqlite3_next_stmt(db_.handle(), s))
    sqlite3_reset(s);
  // A destructor cannot report: what still failed is retried, and reported, by the next begin().
  db_.rollback_failed_ = !db_.exec("ROLLBACK").ok() && !sqlite3_get_autocommit(db_.handle());
  open_ = db_.rollback_failed_;
  restore_full();
}

Status Txn::begin() {
  if (db_.rollback_failed_) {
    auto r = db_.exec("ROLLBACK");
    if (!r && !sqlite3_get_autocommit(db_.handle()))
      return store::error(Errc::unavailable, "an earlier transaction could not be rolled back: " + r.error().message);
    db_.rollback_failed_ = false;
  }
  // The setting is the connection's: a relaxed Txn sets NORMAL for its commit and puts FULL
  // back when it ends (restore_full); a full Txn that finds it still NORMAL (that failed)
  // puts it back before it begins, or does not begin.
  const bool relaxed = durability_ == Durability::relaxed;
  if (relaxed != db_.relaxed_) {
    if (auto r = db_.exec(relaxed ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL"); !r) return r;
    db_.relaxed_ = relaxed;
  }
  auto s = db_.exec("BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Txn::commit() {
  auto s = db_.exec("COMMIT");
  if (s.ok()) open_ = false;
  restore_full();
  return s;
}

void Txn::restore_full() {
  if (durability_ == Durability::relaxed && db_.relaxed_ && !open_ && db_.exec("PRAGMA synchronous=FULL").ok())
    db_.relaxed_ = false;
}

}  // namespace mk::store::sqlite
