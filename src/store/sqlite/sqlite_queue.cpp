// SqliteStore: the outbound queue. A queued message shares the blob mechanism with mailbox
// messages (the file is removed only when no messages or queue row refers to it); its
// recipients are rows of their own, so one recipient can be delivered while another waits.
#include <ctime>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {

namespace sqlite {
namespace {

RcptState state_of(std::string_view s) {
  if (s == "held") return RcptState::held;
  if (s == "delivered") return RcptState::delivered;
  if (s == "bounced") return RcptState::bounced;
  return RcptState::queued;
}

}  // namespace

Status SqliteStore::insert_outbound(const NewMessage& m, const std::string& blob) {
  const std::int64_t now = std::time(nullptr);
  std::int64_t id = 0;
  {
    Stmt q(writer_,
           "INSERT INTO queue(blob, size, mail_from, dsn, sender_account, requiretls, created) "
           "VALUES(?, ?, ?, ?, ?, ?, ?) RETURNING id");
    q.bind(1, blob).bind(2, std::int64_t(m.size())).bind(3, m.mail_from).bind(4, m.dsn)
        .bind(5, m.sender_account).bind(6, m.requiretls ? 1 : 0).bind(7, now);
    if (!q.step()) return q.fail();
    id = q.int64(0);
    if (auto st = q.done(); !st) return st;
  }
  for (const auto& r : m.outbound) {
    const auto at = r.rcpt.rfind('@');
    Stmt ins(writer_,
             "INSERT INTO queue_rcpts(queue_id, rcpt, domain, dsn, next_attempt) VALUES(?, ?, ?, ?, ?)");
    ins.bind(1, id).bind(2, r.rcpt).bind(3, at == std::string::npos ? "" : to_lower(r.rcpt.substr(at + 1)))
        .bind(4, r.dsn).bind(5, now);
    if (auto st = ins.done(); !st) return st;
  }
  return {};
}

Result<std::vector<QueuedMessage>> SqliteStore::select_queue(std::string_view where, std::int64_t arg) {
  std::lock_guard lock(mu_);
  return select_queue_locked(where, arg);
}

Result<std::vector<QueuedMessage>> SqliteStore::select_queue_locked(std::string_view where, std::int64_t arg,
                                                                    std::string_view rcpt_where) {
  std::vector<QueuedMessage> out;
  {
    Stmt q(db_, fmt::format("SELECT id, blob, size, mail_from, dsn, sender_account, requiretls, "
                                     "created, delay_notified FROM queue WHERE {} ORDER BY id",
                                     where));
    q.bind(1, arg);
    while (q.step()) {
      QueuedMessage m;
      m.id = q.int64(0);
      m.blob = q.text(1);
      m.size = std::uint64_t(q.int64(2));
      m.mail_from = q.text(3);
      m.dsn = q.text(4);
      m.sender_account = q.int64(5);
      m.requiretls = q.int64(6) != 0;
      m.created = q.int64(7);
      m.delay_notified = q.int64(8) != 0;
      out.push_back(std::move(m));
    }
    if (q.failed()) return q.fail();
  }
  for (auto& m : out) {
    // INDEXED BY: without it SQLite may pick the (state, next_attempt) index for the extra
    // conditions and scan every due recipient of the queue for each message (O(n^2) claims).
    Stmt r(db_, fmt::format("SELECT id, rcpt, domain, dsn, state, attempts, next_attempt, last_error "
                                     "FROM queue_rcpts INDEXED BY queue_rcpts_message WHERE queue_id = ?1 AND ({}) "
                                     "ORDER BY id",
                                     rcpt_where));
    r.bind(1, m.id);
    while (r.step()) {
      QueueRcpt q;
      q.id = r.int64(0);
      q.rcpt = r.text(1);
      q.domain = r.text(2);
      q.dsn = r.text(3);
      q.state = state_of(r.text(4));
      q.attempts = int(r.int64(5));
      q.next_attempt = r.int64(6);
      q.last_error = r.text(7);
      m.rcpts.push_back(std::move(q));
    }
    if (r.failed()) return r.fail();
  }
  return out;
}

Result<std::vector<QueuedMessage>> SqliteStore::list_queue() { return select_queue("?1 = ?1", 0); }

Result<QueueStats> SqliteStore::queue_stats() {
  std::lock_guard lock(mu_);
  QueueStats st;
  // The (state, next_attempt) index finds the waiting recipients without a scan of the rest.
  Stmt q(db_,
         "SELECT r.state, count(*), count(DISTINCT r.queue_id), min(m.created) FROM queue_rcpts r "
         "JOIN queue m ON m.id = r.queue_id WHERE r.state IN ('queued', 'held') GROUP BY r.state");
  std::int64_t messages = 0;
  while (q.step()) {
    const std::int64_t n = q.int64(1);
    (q.text(0) == "held" ? st.held_recipients : st.recipients) = n;
    messages += q.int64(2);  // a message with both kinds counts twice: corrected below
    // Held mail waits for a person, not for delivery: it is not what makes the queue old.
    if (q.text(0) == "queued") st.oldest = q.int64(3);
  }
  if (q.failed()) return q.fail();
  if (st.recipients > 0 && st.held_recipients > 0) {
    Stmt c(db_, "SELECT count(DISTINCT queue_id) FROM queue_rcpts WHERE state IN ('queued', 'held')");
    if (!c.step()) return c.fail();
    messages = c.int64(0);
  }
  st.messages = messages;
  return st;
}

Result<std::optional<QueuedMessage>> SqliteStore::queued_message(std::int64_t id) {
  auto r = select_queue("id = ?1", id);
  if (!r) return r.error();
  if (r->empty()) return std::optional<QueuedMessage>();
  return std::optional<QueuedMessage>(std::move(r->front()));
}

Result<std::string> SqliteStore::read_queued(const QueuedMessage& m) { return blobs_.read(m.blob); }

namespace {

// One message's recipients; the caller holds the lock and the transaction. Returns how many
// recipients changed; a dropped message's blob goes to `dropped_blobs`.
Result<std::size_t> act_on(Db& db, std::int64_t id, QueueAction action, std::vector<std::string>& dropped_blobs) {
  std::string blob;
  {
    Stmt q(db, "SELECT blob FROM queue WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return error(Errc::not_found, fmt::format("no queued message {}", id));
    blob = q.text(0);
  }
  const char* sql = nullptr;
  switch (action) {
    case QueueAction::hold:
      sql = "UPDATE queue_rcpts SET state = 'held' WHERE queue_id = ?1 AND state = 'queued'";
      break;
    case QueueAction::release:
      sql = "UPDATE queue_rcpts SET state = 'queued', next_attempt = ?2 WHERE queue_id = ?1 AND state = 'held'";
      break;
    case QueueAction::retry:
      sql = "UPDATE queue_rcpts SET next_attempt = ?2 WHERE queue_id = ?1 AND state = 'queued'";
      break;
    case QueueAction::drop:
      sql = "DELETE FROM queue_rcpts WHERE queue_id = ?1 AND state IN ('queued', 'held') AND ?2 = ?2";
      break;
  }
  Stmt u(db, sql);
  u.bind(1, id).bind(2, std::int64_t(std::time(nullptr)));
  if (auto st = u.done(); !st) return st.error();
  const auto changed = std::size_t(db.changes());
  if (action == QueueAction::drop) {
    Stmt d(db, "DELETE FROM queue WHERE id = ?");
    d.bind(1, id);
    if (auto st = d.done(); !st) return st.error();
    dropped_blobs.push_back(std::move(blob));
  }
  return changed;
}

}  // namespace

Result<std::size_t> SqliteStore::queue_action(std::int64_t id, QueueAction action) {
  std::vector<std::string> blobs;
  std::size_t changed = 0;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st.error();
    auto r = act_on(db_, id, action, blobs);
    if (!r) return r.error();
    changed = *r;
    if (auto st = t.commit(); !st) return st.error();
  }
  if (!blobs.empty())
    if (auto st = remove_unreferenced(blobs); !st) return st.error();
  return changed;
}

Result<std::size_t> SqliteStore::account_queue_action(std::int64_t account_id, QueueAction action) {
  std::vector<std::string> blobs;
  std::size_t messages = 0;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st.error();
    std::vector<std::int64_t> ids;
    {
      Stmt q(db_,
             "SELECT DISTINCT q.id FROM queue q JOIN queue_rcpts r ON r.queue_id = q.id "
             "WHERE q.sender_account = ? AND r.state = ?");
      q.bind(1, account_id).bind(2, std::string(action == QueueAction::hold || action == QueueAction::retry ? "queued" : "held"));
      while (q.step()) ids.push_back(q.int64(0));
      if (q.failed()) return q.fail();
    }
    for (auto id : ids) {
      auto r = act_on(db_, id, action, blobs);
      if (!r) return r.error();
      if (*r > 0) ++messages;
    }
    if (auto st = t.commit(); !st) return st.error();
  }
  if (!blobs.empty())
    if (auto st = remove_unreferenced(blobs); !st) return st.error();
  return messages;
}

Result<std::vector<QueuedMessage>> SqliteStore::claim_due(std::int64_t now, std::int64_t lease_until,
                                                          std::size_t limit) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st.error();
  // The due recipients' messages, oldest first; only the due recipients are listed.
  std::vector<QueuedMessage> out;
  {
    // Walks the (state, next_attempt) index, longest-waiting first, and stops at the limit:
    // a claim costs what it returns, not the size of the queue.
    auto r = select_queue_locked(fmt::format("id IN (SELECT DISTINCT queue_id FROM queue_rcpts INDEXED BY queue_rcpts_due "
                                             "WHERE state = 'queued' AND next_attempt <= ?1 ORDER BY next_attempt LIMIT {})",
                                             limit),
                                 now, fmt::format("state = 'queued' AND next_attempt <= {}", now));
    if (!r) return r.error();
    out = std::move(*r);
  }
  for (const auto& m : out) {
    for (const auto& rc : m.rcpts) {
      Stmt u(db_, "UPDATE queue_rcpts SET next_attempt = ? WHERE id = ?");
      u.bind(1, lease_until).bind(2, rc.id);
      if (auto st = u.done(); !st) return st.error();
    }
  }
  if (auto st = t.commit(); !st) return st.error();
  return out;
}

Status SqliteStore::record_attempts(const std::vector<AttemptRecord>& records,
                                    const std::vector<std::int64_t>& finished) {
  std::vector<std::string> blobs;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st;
    for (const auto& r : records) {
      // A recipient held while its attempt was in flight stays held when the attempt only
      // deferred it (containment must not be undone by a 4xx); delivered or bounced is final.
      Stmt u(db_, "UPDATE queue_rcpts SET state = CASE WHEN ?1 = 'queued' AND state = 'held' THEN 'held' "
                           "ELSE ?1 END, attempts = attempts + 1, next_attempt = ?2, last_error = ?3 WHERE id = ?4");
      u.bind(1, std::string(to_string(r.state))).bind(2, r.next_attempt).bind(3, r.error).bind(4, r.rcpt_id);
      if (auto st = u.done(); !st) return st;
    }
    for (auto id : finished) {
      {
        Stmt q(db_, "SELECT 1 FROM queue_rcpts INDEXED BY queue_rcpts_message WHERE queue_id = ? "
                             "AND state IN ('queued', 'held') LIMIT 1");
        q.bind(1, id);
        if (q.step()) continue;  // some recipients still wait
      }
      Stmt d(db_, "DELETE FROM queue WHERE id = ? RETURNING blob");
      d.bind(1, id);
      if (d.step()) blobs.push_back(d.text(0));
      if (auto st = d.done(); !st) return st;
    }
    if (auto st = t.commit(); !st) return st;
  }
  return blobs.empty() ? Status() : remove_unreferenced(blobs);
}

Status SqliteStore::reschedule(const std::vector<std::int64_t>& rcpt_ids, std::int64_t next_attempt) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st;
  for (auto id : rcpt_ids) {
    Stmt u(db_, "UPDATE queue_rcpts SET next_attempt = ? WHERE id = ? AND state = 'queued'");
    u.bind(1, next_attempt).bind(2, id);
    if (auto st = u.done(); !st) return st;
  }
  return t.commit();
}

Status SqliteStore::set_delay_notified(std::int64_t queue_id) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE queue SET delay_notified = 1 WHERE id = ?");
  u.bind(1, queue_id);
  return u.done();
}

Result<std::optional<std::int64_t>> SqliteStore::next_due() {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT min(next_attempt) FROM queue_rcpts WHERE state = 'queued'");
  if (!q.step() || q.is_null(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q.int64(0));
}

Status SqliteStore::add_tls_result(const TlsResult& r) {
  std::lock_guard lock(mu_);
  Stmt u(db_,
         "INSERT INTO tls_results(period, policy_domain, policy_type, policy_string, mx_pattern, result_type, "
         "mx_host, ip, count) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(period, policy_domain, policy_type, "
         "result_type, mx_host, ip) DO UPDATE SET count = count + excluded.count, policy_string = excluded.policy_string, "
         "mx_pattern = excluded.mx_pattern");
  u.bind(1, r.period).bind(2, to_lower(r.policy_domain)).bind(3, r.policy_type).bind(4, r.policy_string)
      .bind(5, r.mx_pattern).bind(6, r.result_type).bind(7, r.mx_host).bind(8, r.ip).bind(9, r.count);
  return u.done();
}

Result<std::vector<TlsResult>> SqliteStore::tls_results_before(std::int64_t period_start) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT period, policy_domain, policy_type, policy_string, mx_pattern, result_type, mx_host, "
                       "ip, count FROM tls_results WHERE period < ? ORDER BY period, policy_domain, policy_type");
  q.bind(1, period_start);
  std::vector<TlsResult> out;
  while (q.step())
    out.push_back(TlsResult{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7),
                            q.int64(8)});
  if (q.failed()) return q.fail();
  return out;
}

Status SqliteStore::delete_tls_results(std::int64_t period) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM tls_results WHERE period = ?");
  d.bind(1, period);
  return d.done();
}

Result<std::optional<StsRecord>> SqliteStore::sts_policy(std::string_view domain) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT domain, id, mode, mx, max_age, fetched FROM mta_sts WHERE domain = ?");
  q.bind(1, to_lower(domain));
  if (!q.step()) {
    if (q.failed()) return q.fail();
    return std::optional<StsRecord>();
  }
  return std::optional<StsRecord>(StsRecord{q.text(0), q.text(1), q.text(2), q.text(3), q.int64(4), q.int64(5)});
}

Status SqliteStore::put_sts_policy(const StsRecord& p) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "INSERT OR REPLACE INTO mta_sts(domain, id, mode, mx, max_age, fetched) VALUES(?, ?, ?, ?, ?, ?)");
  u.bind(1, to_lower(p.domain)).bind(2, p.id).bind(3, p.mode).bind(4, p.mx).bind(5, p.max_age).bind(6, p.fetched);
  return u.done();
}

// ---- DKIM keys ----

Status SqliteStore::add_dkim_key(const DkimKey& k) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO dkim_keys(domain, selector, algorithm, private_key, public_key, state, created) "
         "VALUES(?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, to_lower(k.domain)).bind(2, k.selector).bind(3, k.algorithm).bind(4, k.private_pem)
      .bind(5, k.public_b64).bind(6, k.state).bind(7, k.created ? k.created : std::int64_t(std::time(nullptr)));
  if (s.step(), s.duplicate())
    return error(Errc::already_exists, fmt::format("DKIM selector {} already exists for {}", k.selector, k.domain));
  if (s.failed()) return s.fail();
  return {};
}

Result<std::vector<DkimKey>> SqliteStore::dkim_keys(std::string_view domain) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT domain, selector, algorithm, private_key, public_key, state, created FROM dkim_keys "
         "WHERE domain = ? ORDER BY created, selector");
  s.bind(1, to_lower(domain));
  std::vector<DkimKey> out;
  while (s.step())
    out.push_back(DkimKey{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.int64(6)});
  if (s.failed()) return s.fail();
  return out;
}

Status SqliteStore::activate_next_dkim_keys(std::string_view domain) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st;
  const std::string d = to_lower(domain);
  {
    Stmt q(db_, "SELECT 1 FROM dkim_keys WHERE domain = ? AND state = 'next'");
    q.bind(1, d);
    if (!q.step()) return error(Errc::not_found, fmt::format("{} has no new DKIM keys to activate; make them with `mailkeep domain dkim rotate {}`", d, d));
  }
  for (const char* sql : {"DELETE FROM dkim_keys WHERE domain = ? AND state = 'retired'",
                          "UPDATE dkim_keys SET state = 'retired' WHERE domain = ? AND state = 'active'",
                          "UPDATE dkim_keys SET state = 'active' WHERE domain = ? AND state = 'next'"}) {
    Stmt u(db_, sql);
    u.bind(1, d);
    if (auto st = u.done(); !st) return st;
  }
  return t.commit();
}

}  // namespace sqlite
}  // namespace mk::store
