#include "store/sqlite/db.hpp"

#include <fmt/format.h>

namespace mk::store::sqlite {

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db) {
  rc_ = sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &stmt_, nullptr);
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int idx, std::int64_t v) {
  if (stmt_) sqlite3_bind_int64(stmt_, idx, v);
  return *this;
}

Stmt& Stmt::bind(int idx, std::string_view v) {
  if (stmt_) sqlite3_bind_text(stmt_, idx, v.data(), int(v.size()), SQLITE_TRANSIENT);
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
  if (!stmt_) return err(error());
  while (step()) {
  }
  if (failed()) return err(error());
  return {};
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

std::string Stmt::error() const { return fmt::format("sqlite: {} ({})", sqlite3_errmsg(db_), rc_); }

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::open(const std::string& path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return err(fmt::format("cannot open {}: {}", path, sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db_, 10000);
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
    return err(e);
  }
  return {};
}

Txn::Txn(Db& db) : db_(db) {}

Txn::~Txn() {
  if (open_) (void)db_.exec("ROLLBACK");
}

Status Txn::begin() {
  auto s = db_.exec("BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Txn::commit() {
  auto s = db_.exec("COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace mk::store::sqlite
