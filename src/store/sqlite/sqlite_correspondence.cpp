// Correspondence the MX saw, for containment (store/reputation.hpp): who wrote to each
// account, which received message a reply may answer to whom, and the link domains the
// server has seen. Storage only; what counts as known is guard/'s rule.
#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {
namespace sqlite {

namespace {

Status write_received(Db& db, std::int64_t account_id, const Reputation::Received& r, std::int64_t now) {
  if (!r.author.empty()) {
    // `authenticated` keeps the time of the newest authenticated message (0: none yet).
    Stmt u(db,
           "INSERT INTO writers(account_id, address, first_seen, last_seen, authenticated) VALUES(?1, ?2, ?3, ?3, ?4) "
           "ON CONFLICT(account_id, address) DO UPDATE SET last_seen = max(last_seen, ?3), "
           "authenticated = CASE WHEN ?4 > 0 THEN max(authenticated, ?4) ELSE authenticated END");
    u.bind(1, account_id).bind(2, to_lower(r.author)).bind(3, now).bind(4, r.authenticated ? now : std::int64_t(0));
    if (auto st = u.done(); !st) return st;
  }
  if (!r.message_id.empty()) {
    for (const auto& a : r.answerable) {
      Stmt u(db, "INSERT OR IGNORE INTO received(account_id, msgid, address, time) VALUES(?, ?, ?, ?)");
      u.bind(1, account_id).bind(2, r.message_id).bind(3, to_lower(a)).bind(4, now);
      if (auto st = u.done(); !st) return st;
    }
  }
  const std::int64_t horizon = now - Reputation::kReceivedKeepSeconds;
  Stmt d(db, "DELETE FROM received WHERE account_id = ? AND time < ?");
  d.bind(1, account_id).bind(2, horizon);
  if (auto st = d.done(); !st) return st;
  Stmt w(db, "DELETE FROM writers WHERE account_id = ? AND last_seen < ?");
  w.bind(1, account_id).bind(2, horizon);
  return w.done();
}

Status write_link_domains(Db& db, const std::vector<std::string>& domains, std::int64_t now) {
  for (const auto& d : domains) {
    Stmt u(db, "INSERT OR IGNORE INTO link_domains(domain, first_seen) VALUES(?, ?)");
    u.bind(1, to_lower(d)).bind(2, now);
    if (auto st = u.done(); !st) return st;
  }
  return {};
}

}  // namespace

// These are written in the committer's batches (CommitJob::write): one per accepted message
// must not wait for the write lock while a batch of mail is being synced.
Status SqliteStore::add_received(std::int64_t account_id, const Received& r, std::int64_t now) {
  return write_batched([&](Db& db) { return write_received(db, account_id, r, now); });
}

void SqliteStore::record_received(std::vector<std::int64_t> accounts, Received r, std::vector<std::string> domains,
                                  std::int64_t now, std::function<void(Status)> done) {
  queue_batched(
      [accounts = std::move(accounts), r = std::move(r), domains = std::move(domains), now](Db& db) -> Status {
        if (!r.author.empty())
          for (std::int64_t id : accounts)
            if (auto st = write_received(db, id, r, now); !st) return st;
        return write_link_domains(db, domains, now);
      },
      std::move(done));
}

Result<std::vector<std::string>> SqliteStore::authenticated_writers(std::int64_t account_id,
                                                                    const std::vector<std::string>& addresses) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& a : addresses) {
    Stmt q(db_, "SELECT 1 FROM writers WHERE account_id = ? AND address = ? AND authenticated > 0");
    q.bind(1, account_id).bind(2, to_lower(a));
    if (q.step()) {
      out.push_back(to_lower(a));
    } else if (q.failed()) {
      return q.fail();
    }
  }
  return out;
}

Result<std::vector<std::string>> SqliteStore::answerable(std::int64_t account_id,
                                                         const std::vector<std::string>& addresses,
                                                         const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  if (addresses.empty() || ids.empty()) return out;
  std::string marks;
  for (std::size_t i = 0; i < ids.size(); ++i) marks += fmt::format("{}?{}", i ? ", " : "", i + 2);
  std::lock_guard lock(mu_);
  // The answerable addresses of those messages are few (a message names a bounded number),
  // so they are read once and matched here.
  Stmt q(db_, fmt::format("SELECT DISTINCT address FROM received WHERE account_id = ?1 AND msgid IN ({})", marks));
  q.bind(1, account_id);
  for (std::size_t i = 0; i < ids.size(); ++i) q.bind(int(i + 2), ids[i]);
  std::vector<std::string> found;
  while (q.step()) found.push_back(q.text(0));
  if (q.failed()) return q.fail();
  for (const auto& a : addresses) {
    std::string l = to_lower(a);
    if (std::find(found.begin(), found.end(), l) != found.end() && std::find(out.begin(), out.end(), l) == out.end())
      out.push_back(std::move(l));
  }
  return out;
}

Result<Store::Correspondence> SqliteStore::correspondence(std::int64_t account_id, int cap) {
  std::lock_guard lock(mu_);
  Correspondence c;
  // Authenticated writers only: unauthenticated ones cost a forger nothing (review of issue 18).
  Stmt w(db_, "SELECT COUNT(*) FROM (SELECT 1 FROM writers WHERE account_id = ? AND authenticated > 0 LIMIT ?)");
  w.bind(1, account_id).bind(2, std::int64_t(cap));
  if (!w.step()) return w.fail();
  c.writers = int(w.int64(0));
  // An answer: authenticated mail from someone after the account first wrote to them.
  // Spread over their domains (the first of each domain, then the second, ...), so that a
  // cap on the list keeps the variety a per-domain count needs.
  Stmt a(db_,
         "SELECT address FROM (SELECT c.address, ROW_NUMBER() OVER (PARTITION BY substr(c.address, "
         "instr(c.address, '@') + 1) ORDER BY c.first_sent, c.address) AS n FROM correspondents c JOIN writers w "
         "ON w.account_id = c.account_id AND w.address = c.address WHERE c.account_id = ? AND "
         "w.authenticated > c.first_sent) ORDER BY n, address LIMIT ?");
  a.bind(1, account_id).bind(2, std::int64_t(cap));
  while (a.step()) c.answered_addresses.push_back(a.text(0));
  if (a.failed()) return a.fail();
  c.answered = int(c.answered_addresses.size());
  return c;
}

Result<std::vector<std::int64_t>> SqliteStore::link_domains_seen(const std::vector<std::string>& domains) {
  std::lock_guard lock(mu_);
  std::vector<std::int64_t> out;
  for (const auto& d : domains) {
    Stmt q(db_, "SELECT first_seen FROM link_domains WHERE domain = ?");
    q.bind(1, to_lower(d));
    if (q.step()) {
      out.push_back(q.int64(0));
    } else if (q.failed()) {
      return q.fail();
    } else {
      out.push_back(0);
    }
  }
  return out;
}

Status SqliteStore::add_link_domains(const std::vector<std::string>& domains, std::int64_t now) {
  if (domains.empty()) return {};
  return write_batched([&](Db& db) { return write_link_domains(db, domains, now); });
}

}  // namespace sqlite
}  // namespace mk::store
