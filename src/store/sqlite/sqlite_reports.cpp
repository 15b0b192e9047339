// Report and security data in SQLite: DMARC results we will report, reports we received,
// login bans.
#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {
namespace sqlite {

Status SqliteStore::add_dmarc_result(const DmarcResult& r) {
  std::lock_guard lock(mu_);
  Stmt u(db_,
         "INSERT INTO dmarc_results(period, policy_domain, policy, source_ip, header_from, envelope_from, disposition, "
         "dkim, spf, reason, auth, count) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(period, policy_domain, "
         "source_ip, header_from, envelope_from, disposition, dkim, spf, reason, auth) DO UPDATE SET "
         "count = count + excluded.count, policy = excluded.policy");
  u.bind(1, r.period).bind(2, to_lower(r.policy_domain)).bind(3, r.policy).bind(4, r.source_ip).bind(5, r.header_from)
      .bind(6, r.envelope_from).bind(7, r.disposition).bind(8, r.dkim).bind(9, r.spf).bind(10, r.reason)
      .bind(11, r.auth).bind(12, r.count);
  return u.done();
}

Result<std::vector<DmarcResult>> SqliteStore::dmarc_results_before(std::int64_t period_start) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT period, policy_domain, policy, source_ip, header_from, envelope_from, disposition, "
                       "dkim, spf, reason, auth, count FROM dmarc_results WHERE period < ? "
                       "ORDER BY period, policy_domain, source_ip");
  q.bind(1, period_start);
  std::vector<DmarcResult> out;
  while (q.step())
    out.push_back(DmarcResult{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7),
                              q.text(8), q.text(9), q.text(10), q.int64(11)});
  if (q.failed()) return q.fail();
  return out;
}

Status SqliteStore::delete_dmarc_results(std::int64_t period) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM dmarc_results WHERE period = ?");
  d.bind(1, period);
  return d.done();
}

Status SqliteStore::add_dmarc_feedback(const std::vector<DmarcFeedback>& rows) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto s = t.begin(); !s) return s;
  for (const auto& r : rows) {
    Stmt u(db_,
           "INSERT OR IGNORE INTO dmarc_feedback(reporter, report_id, row, domain, begin, end, source_ip, header_from, "
           "disposition, dkim, spf, count, received) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    u.bind(1, r.reporter).bind(2, r.report_id).bind(3, r.row).bind(4, to_lower(r.domain)).bind(5, r.begin)
        .bind(6, r.end).bind(7, r.source_ip).bind(8, r.header_from).bind(9, r.disposition).bind(10, r.dkim)
        .bind(11, r.spf).bind(12, r.count).bind(13, r.received);
    if (auto s = u.done(); !s) return s;
  }
  return t.commit();
}

Status SqliteStore::add_daily_counts(const std::vector<DailyCount>& rows) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto s = t.begin(); !s) return s;
  for (const auto& r : rows) {
    Stmt u(db_, "INSERT INTO daily_counts(day, name, labels, value) VALUES(?, ?, ?, ?) "
                "ON CONFLICT(day, name, labels) DO UPDATE SET value = value + excluded.value");
    u.bind(1, r.day).bind(2, r.name).bind(3, r.labels).bind(4, r.value);
    if (auto s = u.done(); !s) return s;
  }
  return t.commit();
}

Result<std::vector<DailyCount>> SqliteStore::daily_counts(std::int64_t from_day, std::int64_t to_day) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT day, name, labels, value FROM daily_counts WHERE day >= ? AND day < ? ORDER BY day, name, labels");
  q.bind(1, from_day).bind(2, to_day);
  std::vector<DailyCount> out;
  while (q.step()) out.push_back(DailyCount{q.int64(0), q.text(1), q.text(2), q.int64(3)});
  if (q.failed()) return q.fail();
  return out;
}

Result<std::vector<DmarcFeedback>> SqliteStore::dmarc_feedback_since(std::int64_t since) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT reporter, report_id, row, domain, begin, end, source_ip, header_from, disposition, dkim, "
                       "spf, count, received FROM dmarc_feedback WHERE received >= ? ORDER BY domain, source_ip");
  q.bind(1, since);
  std::vector<DmarcFeedback> out;
  while (q.step())
    out.push_back(DmarcFeedback{q.text(0), q.text(1), q.int64(2), q.text(3), q.int64(4), q.int64(5), q.text(6),
                                q.text(7), q.text(8), q.text(9), q.text(10), q.int64(11), q.int64(12)});
  if (q.failed()) return q.fail();
  return out;
}

Status SqliteStore::put_ban(const Ban& b) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "INSERT INTO bans(key, until, count, reason, created) VALUES(?, ?, ?, ?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET until = excluded.until, count = excluded.count, "
                       "reason = excluded.reason, created = excluded.created");
  u.bind(1, b.key).bind(2, b.until).bind(3, b.count).bind(4, b.reason).bind(5, b.created);
  return u.done();
}

Result<std::vector<Ban>> SqliteStore::list_bans() {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT key, until, count, reason, created FROM bans ORDER BY until DESC");
  std::vector<Ban> out;
  while (q.step()) out.push_back(Ban{q.text(0), q.int64(1), q.int64(2), q.text(3), q.int64(4)});
  if (q.failed()) return q.fail();
  return out;
}

Result<std::int64_t> SqliteStore::active_ban_count(std::int64_t now) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT count(*) FROM bans WHERE until > ?");
  q.bind(1, now);
  if (!q.step()) return q.fail();
  return q.int64(0);
}

Result<bool> SqliteStore::lift_ban(std::string_view key) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM bans WHERE key = ?");
  d.bind(1, key);
  if (auto s = d.done(); !s) return s.error();
  return db_.changes() > 0;
}

Result<Store::LoginSeen> SqliteStore::note_login(std::string_view address, std::string_view network,
                                                 std::string_view service, std::int64_t now) {
  std::lock_guard lock(mu_);
  LoginSeen seen;
  const std::string addr = to_lower(address);
  {
    Stmt q(db_, "SELECT count(*), sum(network = ?) FROM login_history WHERE address = ?");
    q.bind(1, network).bind(2, addr);
    if (!q.step()) return q.fail();
    seen.first_login = q.int64(0) == 0;
    seen.new_network = !seen.first_login && q.int64(1) == 0;
  }
  Stmt u(db_, "INSERT INTO login_history(address, network, service, first_seen, last_seen, count) "
                       "VALUES(?, ?, ?, ?, ?, 1) ON CONFLICT(address, network, service) DO UPDATE SET "
                       "last_seen = excluded.last_seen, count = count + 1");
  u.bind(1, addr).bind(2, network).bind(3, service).bind(4, now).bind(5, now);
  if (auto s = u.done(); !s) return s.error();
  return seen;
}

Result<Store::ClientSeen> SqliteStore::note_client(std::string_view address, std::string_view client,
                                                   std::int64_t now) {
  std::lock_guard lock(mu_);
  ClientSeen seen;
  const std::string addr = to_lower(address);
  {
    Stmt q(db_, "SELECT count(*), sum(client = ?) FROM login_clients WHERE address = ?");
    q.bind(1, client).bind(2, addr);
    if (!q.step()) return q.fail();
    seen.first_client = q.int64(0) == 0;
    seen.new_client = q.int64(1) == 0;
  }
  Stmt u(db_, "INSERT INTO login_clients(address, client, first_seen, last_seen) VALUES(?, ?, ?, ?) "
                       "ON CONFLICT(address, client) DO UPDATE SET last_seen = excluded.last_seen");
  u.bind(1, addr).bind(2, client).bind(3, now).bind(4, now);
  if (auto s = u.done(); !s) return s.error();
  return seen;
}

Status SqliteStore::set_spam_thresholds(std::string_view address, std::string_view thresholds) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET spam_thresholds = ? WHERE address = ?");
  s.bind(1, thresholds).bind(2, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
  return {};
}

Status SqliteStore::set_require_app_passwords(std::string_view address, bool on) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET require_app_passwords = ? WHERE address = ?");
  s.bind(1, std::int64_t(on)).bind(2, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
  return {};
}

Status SqliteStore::add_app_password(const AppPassword& p) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO app_passwords(account_id, name, hash, scopes, created) VALUES(?, ?, ?, ?, ?)");
  s.bind(1, p.account_id).bind(2, p.name).bind(3, p.hash).bind(4, p.scopes).bind(5, p.created);
  if (s.step(), s.duplicate()) return error(Errc::already_exists, fmt::format("an app password named \"{}\" exists already", p.name));
  if (s.failed()) return s.fail();
  return {};
}

Result<std::vector<AppPassword>> SqliteStore::app_passwords(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT id, account_id, name, hash, scopes, created, last_used, last_ip FROM app_passwords "
                       "WHERE account_id = ? ORDER BY name");
  q.bind(1, account_id);
  std::vector<AppPassword> out;
  while (q.step())
    out.push_back(AppPassword{q.int64(0), q.int64(1), q.text(2), q.text(3), q.text(4), q.int64(5), q.int64(6), q.text(7)});
  if (q.failed()) return q.fail();
  return out;
}

Result<bool> SqliteStore::revoke_app_password(std::int64_t account_id, std::string_view name) {
  std::lock_guard lock(mu_);
  Stmt d(db_, "DELETE FROM app_passwords WHERE account_id = ? AND name = ?");
  d.bind(1, account_id).bind(2, name);
  if (auto s = d.done(); !s) return s.error();
  return db_.changes() > 0;
}

Status SqliteStore::app_password_used(std::int64_t id, std::int64_t now, std::string_view ip) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE app_passwords SET last_used = ?, last_ip = ? WHERE id = ?");
  u.bind(1, now).bind(2, ip).bind(3, id);
  return u.done();
}

Status SqliteStore::set_totp(std::string_view address, std::string_view secret) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET totp_secret = ?, totp_last_step = 0 WHERE address = ?");
  s.bind(1, secret).bind(2, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
  return {};
}

Result<bool> SqliteStore::totp_used(std::string_view address, std::int64_t step) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET totp_last_step = ? WHERE address = ? AND totp_last_step < ?");
  s.bind(1, step).bind(2, to_lower(address)).bind(3, step);
  if (auto st = s.done(); !st) return st.error();
  return db_.changes() > 0;
}

Status SqliteStore::set_outbound_hold(std::int64_t account_id, std::string_view reason) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET outbound_hold = ? WHERE id = ?");
  s.bind(1, reason).bind(2, account_id);
  return s.done();
}

Status SqliteStore::set_forward(std::int64_t account_id, std::string_view to, bool keep) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET forward_to = ?, forward_keep = ? WHERE id = ?");
  s.bind(1, to).bind(2, std::int64_t(keep)).bind(3, account_id);
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no account with id {}", account_id));
  return {};
}

Result<std::vector<std::string>> SqliteStore::new_correspondents(std::int64_t account_id,
                                                                 const std::vector<std::string>& addresses) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& a : addresses) {
    Stmt q(db_, "SELECT 1 FROM correspondents WHERE account_id = ? AND address = ?");
    q.bind(1, account_id).bind(2, to_lower(a));
    if (!q.step()) {
      if (q.failed()) return q.fail();
      out.push_back(to_lower(a));
    }
  }
  return out;
}

Status SqliteStore::add_correspondents(std::int64_t account_id, const std::vector<std::string>& addresses,
                                       std::int64_t now) {
  std::lock_guard lock(mu_);
  // One transaction: the new addresses and the version that says there are new ones. Who
  // wrote to whom may lose its last records in a crash (Durability::relaxed): then these
  // recipients count as new once more, and no cache was told of them.
  Txn t(db_, Durability::relaxed);
  if (auto s = t.begin(); !s) return s;
  bool added = false;
  for (const auto& a : addresses) {
    Stmt u(db_, "INSERT OR IGNORE INTO correspondents(account_id, address, first_sent) VALUES(?, ?, ?)");
    u.bind(1, account_id).bind(2, to_lower(a)).bind(3, now);
    if (auto s = u.done(); !s) return s;
    added = added || db_.changes() > 0;
  }
  if (added) {
    const auto version = next_in_sequence(db_, "correspondents_version");
    if (!version) return version.error();
    Stmt u(db_, "UPDATE accounts SET correspondents_version = ? WHERE id = ?");
    u.bind(1, *version).bind(2, account_id);
    if (auto s = u.done(); !s) return s;
  }
  return t.commit();
}

Result<std::int64_t> SqliteStore::correspondents_version(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT correspondents_version FROM accounts WHERE id = ?");
  q.bind(1, account_id);
  const std::int64_t v = q.step() ? q.int64(0) : 0;
  if (q.failed()) return q.fail();
  return v;
}

Result<std::vector<std::string>> SqliteStore::correspondent_domains(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT DISTINCT substr(address, instr(address, '@') + 1) FROM correspondents WHERE account_id = ? LIMIT 10000");
  q.bind(1, account_id);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  if (q.failed()) return q.fail();
  return out;
}

Status SqliteStore::add_sender_verdict(std::int64_t account_id, std::string_view address, bool spam) {
  std::lock_guard lock(mu_);
  Stmt u(db_, spam ? "INSERT INTO sender_verdicts(account_id, address, spam) VALUES(?1, ?2, 1) "
                              "ON CONFLICT(account_id, address) DO UPDATE SET spam = spam + 1"
                            : "INSERT INTO sender_verdicts(account_id, address, ham) VALUES(?1, ?2, 1) "
                              "ON CONFLICT(account_id, address) DO UPDATE SET ham = ham + 1");
  u.bind(1, account_id).bind(2, to_lower(address));
  return u.done();
}

Result<std::pair<std::int64_t, std::int64_t>> SqliteStore::sender_verdicts(std::int64_t account_id,
                                                                           std::string_view address) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT spam, ham FROM sender_verdicts WHERE account_id = ? AND address = ?");
  q.bind(1, account_id).bind(2, to_lower(address));
  if (q.step()) return std::pair{q.int64(0), q.int64(1)};
  if (q.failed()) return q.fail();
  return std::pair<std::int64_t, std::int64_t>{0, 0};
}

Status SqliteStore::set_correspondent_name(std::int64_t account_id, std::string_view address, std::string_view name) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE correspondents SET name = ? WHERE account_id = ? AND address = ? AND name != ?");
  const std::string n = to_lower(name);
  u.bind(1, n).bind(2, account_id).bind(3, to_lower(address)).bind(4, n);
  return u.done();
}

Result<std::vector<std::string>> SqliteStore::correspondents_named(std::int64_t account_id, std::string_view name) {
  std::lock_guard lock(mu_);
  // "name != ''" lets SQLite use the partial index correspondents_name (a bound name cannot
  // tell it so): without it, each verdict read every correspondent of the account.
  Stmt q(db_,
         "SELECT address FROM correspondents WHERE account_id = ? AND name = ? AND name != '' "
         "LIMIT 20");
  q.bind(1, account_id).bind(2, to_lower(name));
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  if (q.failed()) return q.fail();
  return out;
}

Result<std::optional<std::int64_t>> SqliteStore::newest_in_thread(std::int64_t account_id,
                                                                   const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  std::optional<std::int64_t> newest;
  for (const auto& id : ids) {
    Stmt q(db_,
           "SELECT MAX(m.internaldate) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
           "WHERE m.msgid = ? AND b.account_id = ?");
    q.bind(1, id).bind(2, account_id);
    if (!q.step()) {
      if (q.failed()) return q.fail();
      continue;
    }
    if (q.is_null(0)) continue;
    newest = std::max(newest.value_or(q.int64(0)), q.int64(0));
  }
  return newest;
}

Status SqliteStore::add_send_history(std::int64_t account_id, std::int64_t hour, int messages, int new_recipients) {
  std::lock_guard lock(mu_);
  Stmt u(db_,
         "INSERT INTO send_history(account_id, hour, messages, new_recipients) VALUES(?1, ?2, ?3, ?4) "
         "ON CONFLICT(account_id, hour) DO UPDATE SET messages = CASE held WHEN 0 THEN messages + ?3 ELSE ?3 END, "
         "new_recipients = CASE held WHEN 0 THEN new_recipients + ?4 ELSE ?4 END, held = 0");
  u.bind(1, account_id).bind(2, hour).bind(3, messages).bind(4, new_recipients);
  if (auto s = u.done(); !s) return s;
  Stmt d(db_, "DELETE FROM send_history WHERE account_id = ? AND hour < ?");
  d.bind(1, account_id).bind(2, hour - kSendHistoryHours);
  return d.done();
}

Status SqliteStore::hold_send_history(std::int64_t account_id, std::int64_t from_hour, std::int64_t to_hour) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE send_history SET held = 1 WHERE account_id = ? AND hour >= ? AND hour < ?");
  u.bind(1, account_id).bind(2, from_hour).bind(3, to_hour);
  return u.done();
}

Result<Store::SendBaseline> SqliteStore::send_baseline(std::int64_t account_id, std::int64_t from_hour,
                                                      std::int64_t to_hour) {
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT COUNT(DISTINCT hour / 24), COALESCE(MAX(CASE held WHEN 0 THEN messages END), 0), "
         "COALESCE(MAX(CASE held WHEN 0 THEN new_recipients END), 0) "
         "FROM send_history WHERE account_id = ? AND hour >= ? AND hour < ?");
  q.bind(1, account_id).bind(2, from_hour).bind(3, to_hour);
  if (!q.step()) return q.fail();
  return SendBaseline{int(q.int64(0)), int(q.int64(1)), int(q.int64(2))};
}

Result<std::vector<Store::SendHour>> SqliteStore::send_history(std::int64_t account_id, std::int64_t from_hour,
                                                              std::int64_t to_hour) {
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT hour, messages, new_recipients FROM send_history "
         "WHERE account_id = ? AND hour >= ? AND hour < ? AND held = 0 ORDER BY hour");
  q.bind(1, account_id).bind(2, from_hour).bind(3, to_hour);
  std::vector<SendHour> out;
  while (q.step()) out.push_back({q.int64(0), int(q.int64(1)), int(q.int64(2))});
  if (q.failed()) return q.fail();
  return out;
}

Result<Store::NetworkHistory> SqliteStore::network_history(std::string_view address, std::string_view network) {
  std::lock_guard lock(mu_);
  NetworkHistory h;
  const std::string addr = to_lower(address);
  Stmt q(db_, "SELECT min(first_seen) FROM login_history WHERE address = ? AND network = ?");
  q.bind(1, addr).bind(2, network);
  if (!q.step()) return q.fail();
  if (q.is_null(0)) return h;
  h.first_seen = q.int64(0);
  // At or before: times are in seconds, and a login from home and the attacker's first one
  // may fall within the same second (a strict "<" then missed the attacker).
  Stmt o(db_, "SELECT 1 FROM login_history WHERE address = ? AND network != ? AND first_seen <= ? LIMIT 1");
  o.bind(1, addr).bind(2, network).bind(3, h.first_seen);
  h.other_networks_before = o.step();
  return h;
}

}  // namespace sqlite
}  // namespace mk::store
