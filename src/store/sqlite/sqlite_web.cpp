// store/sqlite/sqlite_web.cpp: the Web role (store/web.hpp) in SQLite.
#include <fmt/format.h>

#include "store/sqlite/sqlite_store.hpp"

namespace mk::store::sqlite {
namespace {

constexpr const char* kSessionCols = "id, account_id, secret_hash, csrf, created, last_seen, ip, agent";

WebSession read_session(Stmt& q) {
  return WebSession{q.int64(0), q.int64(1), q.text(2), q.text(3), q.int64(4), q.int64(5), q.text(6), q.text(7)};
}

constexpr const char* kTokenCols = "id, account_id, name, secret_hash, scopes, created, last_used, last_ip";

ApiToken read_token(Stmt& q) {
  return ApiToken{q.int64(0), q.int64(1), q.text(2), q.text(3), q.text(4), q.int64(5), q.int64(6), q.text(7)};
}

}  // namespace

Result<std::int64_t> SqliteStore::add_web_session(const WebSession& w) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO web_sessions(account_id, secret_hash, csrf, created, last_seen, ip, agent) "
              "VALUES(?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, w.account_id).bind(2, w.secret_hash).bind(3, w.csrf).bind(4, w.created).bind(5, w.last_seen);
  s.bind(6, w.ip).bind(7, w.agent);
  if (auto st = s.done(); !st) return st.error();
  return db_.last_insert_id();
}

Result<std::optional<WebSession>> SqliteStore::web_session(std::string_view secret_hash) {
  std::lock_guard lock(mu_);
  Stmt q(db_, fmt::format("SELECT {} FROM web_sessions WHERE secret_hash = ?", kSessionCols));
  q.bind(1, secret_hash);
  if (q.step()) return std::optional<WebSession>(read_session(q));
  if (q.failed()) return q.fail();
  return std::optional<WebSession>();
}

Status SqliteStore::touch_web_session(std::int64_t id, std::int64_t now, std::string_view ip) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE web_sessions SET last_seen = ?, ip = ? WHERE id = ?");
  u.bind(1, now).bind(2, ip).bind(3, id);
  return u.done();
}

Result<std::vector<WebSession>> SqliteStore::web_sessions(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, fmt::format("SELECT {} FROM web_sessions WHERE account_id = ? ORDER BY last_seen DESC, id DESC",
                          kSessionCols));
  q.bind(1, account_id);
  std::vector<WebSession> out;
  while (q.step()) out.push_back(read_session(q));
  if (q.failed()) return q.fail();
  return out;
}

Result<bool> SqliteStore::remove_web_session(std::int64_t account_id, std::int64_t id) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM web_sessions WHERE account_id = ? AND id = ?");
  d.bind(1, account_id).bind(2, id);
  if (auto s = d.done(); !s) return s.error();
  return db_.changes() > 0;
}

Result<std::size_t> SqliteStore::remove_web_sessions(std::int64_t account_id, std::int64_t keep) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM web_sessions WHERE account_id = ? AND id != ?");
  d.bind(1, account_id).bind(2, keep);
  if (auto s = d.done(); !s) return s.error();
  return std::size_t(db_.changes());
}

Result<std::size_t> SqliteStore::expire_web_sessions(std::int64_t idle_before, std::int64_t created_before) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM web_sessions WHERE last_seen < ? OR created < ?");
  d.bind(1, idle_before).bind(2, created_before);
  if (auto s = d.done(); !s) return s.error();
  return std::size_t(db_.changes());
}

Status SqliteStore::add_api_token(const ApiToken& t) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO api_tokens(account_id, name, secret_hash, scopes, created) VALUES(?, ?, ?, ?, ?)");
  s.bind(1, t.account_id).bind(2, t.name).bind(3, t.secret_hash).bind(4, t.scopes).bind(5, t.created);
  if (s.step(), s.duplicate()) return error(Errc::already_exists, fmt::format("an API token named \"{}\" exists already", t.name));
  if (s.failed()) return s.fail();
  return {};
}

Result<std::optional<ApiToken>> SqliteStore::api_token(std::string_view secret_hash) {
  std::lock_guard lock(mu_);
  Stmt q(db_, fmt::format("SELECT {} FROM api_tokens WHERE secret_hash = ?", kTokenCols));
  q.bind(1, secret_hash);
  if (q.step()) return std::optional<ApiToken>(read_token(q));
  if (q.failed()) return q.fail();
  return std::optional<ApiToken>();
}

Result<std::vector<ApiToken>> SqliteStore::api_tokens(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, fmt::format("SELECT {} FROM api_tokens WHERE account_id = ? ORDER BY name", kTokenCols));
  q.bind(1, account_id);
  std::vector<ApiToken> out;
  while (q.step()) out.push_back(read_token(q));
  if (q.failed()) return q.fail();
  return out;
}

Result<bool> SqliteStore::revoke_api_token(std::int64_t account_id, std::string_view name) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM api_tokens WHERE account_id = ? AND name = ?");
  d.bind(1, account_id).bind(2, name);
  if (auto s = d.done(); !s) return s.error();
  return db_.changes() > 0;
}

Status SqliteStore::api_token_used(std::int64_t id, std::int64_t now, std::string_view ip) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE api_tokens SET last_used = ?, last_ip = ? WHERE id = ?");
  u.bind(1, now).bind(2, ip).bind(3, id);
  return u.done();
}

}  // namespace mk::store::sqlite
