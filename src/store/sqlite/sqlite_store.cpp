#include "store/sqlite/sqlite_store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "message/header.hpp"

namespace mk::store::sqlite {
namespace {

// Each entry migrates the schema from version i to i+1. Append only.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE domains(name TEXT PRIMARY KEY, created INTEGER NOT NULL);
CREATE TABLE accounts(
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  quota_bytes INTEGER NOT NULL DEFAULT 0,
  used_bytes INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL);
CREATE TABLE aliases(
  address TEXT NOT NULL,
  target TEXT NOT NULL,
  PRIMARY KEY(address, target));
CREATE TABLE mailboxes(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  special_use TEXT NOT NULL DEFAULT '',
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 1,
  highestmodseq INTEGER NOT NULL DEFAULT 1,
  subscribed INTEGER NOT NULL DEFAULT 1,
  UNIQUE(account_id, name));
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  blob TEXT NOT NULL,
  size INTEGER NOT NULL,
  internaldate INTEGER NOT NULL,
  flags TEXT NOT NULL DEFAULT '',
  mail_from TEXT NOT NULL DEFAULT '',
  rcpt_to TEXT NOT NULL DEFAULT '',
  dsn TEXT NOT NULL DEFAULT '',
  UNIQUE(mailbox_id, uid));
CREATE INDEX messages_blob ON messages(blob);
)sql",
    R"sql(
CREATE TABLE expunged(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL);
CREATE INDEX expunged_mailbox ON expunged(mailbox_id, modseq);
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
)sql",
    // Existing mail is not \Recent after the upgrade.
    R"sql(
ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET recent_uid = uidnext - 1;
)sql",
    R"sql(
CREATE TABLE queue(
  id INTEGER PRIMARY KEY,
  blob TEXT NOT NULL,
  size INTEGER NOT NULL,
  mail_from TEXT NOT NULL,
  dsn TEXT NOT NULL DEFAULT '',
  sender_account INTEGER NOT NULL DEFAULT 0,
  requiretls INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL);
CREATE INDEX queue_blob ON queue(blob);
CREATE TABLE queue_rcpts(
  id INTEGER PRIMARY KEY,
  queue_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
  rcpt TEXT NOT NULL,
  domain TEXT NOT NULL,
  dsn TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX queue_rcpts_due ON queue_rcpts(state, next_attempt);
CREATE INDEX queue_rcpts_message ON queue_rcpts(queue_id);
)sql",
    R"sql(
ALTER TABLE accounts ADD COLUMN scram TEXT NOT NULL DEFAULT '';
)sql",
    R"sql(
CREATE TABLE dkim_keys(
  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  private_key TEXT NOT NULL,
  public_key TEXT NOT NULL,
  state TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY(domain, selector));
)sql",
    R"sql(
ALTER TABLE queue ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
CREATE TABLE mta_sts(
  domain TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  mode TEXT NOT NULL,
  mx TEXT NOT NULL,
  max_age INTEGER NOT NULL,
  fetched INTEGER NOT NULL);
)sql",
    R"sql(
CREATE TABLE tls_results(
  period INTEGER NOT NULL,
  policy_domain TEXT NOT NULL,
  policy_type TEXT NOT NULL,
  policy_string TEXT NOT NULL,
  mx_pattern TEXT NOT NULL,
  result_type TEXT NOT NULL,
  mx_host TEXT NOT NULL,
  ip TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY(period, policy_domain, policy_type, result_type, mx_host, ip));
)sql",
    R"sql(
CREATE TABLE dmarc_results(
  period INTEGER NOT NULL,
  policy_domain TEXT NOT NULL,
  policy TEXT NOT NULL,
  source_ip TEXT NOT NULL,
  header_from TEXT NOT NULL,
  envelope_from TEXT NOT NULL,
  disposition TEXT NOT NULL,
  dkim TEXT NOT NULL,
  spf TEXT NOT NULL,
  reason TEXT NOT NULL,
  auth TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY(period, policy_domain, source_ip, header_from, envelope_from, disposition, dkim, spf, reason, auth));
CREATE TABLE dmarc_feedback(
  reporter TEXT NOT NULL,
  report_id TEXT NOT NULL,
  row INTEGER NOT NULL,
  domain TEXT NOT NULL,
  begin INTEGER NOT NULL,
  end INTEGER NOT NULL,
  source_ip TEXT NOT NULL,
  header_from TEXT NOT NULL,
  disposition TEXT NOT NULL,
  dkim TEXT NOT NULL,
  spf TEXT NOT NULL,
  count INTEGER NOT NULL,
  received INTEGER NOT NULL,
  PRIMARY KEY(reporter, report_id, row));
CREATE INDEX dmarc_feedback_received ON dmarc_feedback(received);
)sql",
    R"sql(
ALTER TABLE accounts ADD COLUMN password_breached INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
CREATE TABLE bans(
  key TEXT PRIMARY KEY,
  until INTEGER NOT NULL,
  count INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created INTEGER NOT NULL);
)sql",
    R"sql(
CREATE TABLE login_history(
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  service TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY(address, network, service));
)sql",
    R"sql(
ALTER TABLE accounts ADD COLUMN require_app_passwords INTEGER NOT NULL DEFAULT 0;
CREATE TABLE app_passwords(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0,
  last_ip TEXT NOT NULL DEFAULT '',
  UNIQUE(account_id, name));
)sql",
    R"sql(
ALTER TABLE accounts ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
ALTER TABLE accounts ADD COLUMN outbound_hold TEXT NOT NULL DEFAULT '';
CREATE TABLE correspondents(
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  first_sent INTEGER NOT NULL,
  PRIMARY KEY(account_id, address)) WITHOUT ROWID;
)sql",
    // Anomaly detection: Message-IDs (replies to old threads) and hourly sending history.
    // Messages stored before this version have no msgid.
    R"sql(
ALTER TABLE messages ADD COLUMN msgid TEXT;
CREATE INDEX messages_msgid ON messages(msgid) WHERE msgid IS NOT NULL;
CREATE TABLE send_history(
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  hour INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  new_recipients INTEGER NOT NULL,
  PRIMARY KEY(account_id, hour)) WITHOUT ROWID;
)sql",
    R"sql(
CREATE TABLE login_clients(
  address TEXT NOT NULL,
  client TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY(address, client)) WITHOUT ROWID;
)sql",
    "CREATE INDEX queue_sender ON queue(sender_account) WHERE sender_account != 0;",
    // The spam filter: the names correspondents go by (learned from their authenticated
    // mail), for telling a contact from someone using their name.
    R"sql(
ALTER TABLE correspondents ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE INDEX correspondents_name ON correspondents(account_id, name) WHERE name != '';
)sql",
    // Per-account spam thresholds ("tag junk reject"; empty: the instance's).
    "ALTER TABLE accounts ADD COLUMN spam_thresholds TEXT NOT NULL DEFAULT '';",
    // What each user taught about each sender (moves into and out of Junk).
    R"sql(
CREATE TABLE sender_verdicts(
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  spam INTEGER NOT NULL DEFAULT 0,
  ham INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(account_id, address)) WITHOUT ROWID;
)sql",
    // The highest UIDVALIDITY ever given: max() over the mailboxes forgets a deleted one.
    "INSERT OR REPLACE INTO meta(key, value) SELECT 'uidvalidity', coalesce(max(uidvalidity), 0) FROM mailboxes;",
    // Message summaries (NewMessage::summary), one per message row, in a table of their own
    // so that the rows of `messages` stay narrow and listing a mailbox reads no more pages
    // than before. Keyed by the row (not by the shared file) so that a FETCH range is one
    // scan in UID order; a copy gets a copy of the bytes. Older messages have none.
    R"sql(
CREATE TABLE summaries(
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  data BLOB NOT NULL);
)sql",
    // Containment from the first message (guard/trust.hpp): who wrote to each account through
    // the MX (authenticated: the last time sender authentication vouched for the author, 0
    // never), which received message a reply may answer to whom, and when the server first
    // saw each link domain. Kept apart from `messages`, which IMAP APPEND also fills: what
    // a client uploads must not make anyone a correspondent.
    R"sql(
CREATE TABLE writers(
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  authenticated INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(account_id, address)) WITHOUT ROWID;
CREATE INDEX writers_seen ON writers(account_id, last_seen);
CREATE TABLE received(
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  msgid TEXT NOT NULL,
  address TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY(account_id, msgid, address)) WITHOUT ROWID;
CREATE INDEX received_time ON received(account_id, time);
CREATE TABLE link_domains(
  domain TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL) WITHOUT ROWID;
)sql",
    // The hours of sending that led to a hold (Reputation::hold_send_history): kept, but no
    // longer the account's history.
    "ALTER TABLE send_history ADD COLUMN held INTEGER NOT NULL DEFAULT 0;",
    // Counters' daily totals for the monthly security report (Reports::add_daily_counts).
    R"sql(
CREATE TABLE daily_counts(
  day INTEGER NOT NULL,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY(day, name, labels)) WITHOUT ROWID;
)sql",
    // The web pages' sessions and the API's tokens (store/web.hpp): hashes of their secrets.
    R"sql(
CREATE TABLE web_sessions(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL UNIQUE,
  csrf TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  ip TEXT NOT NULL,
  agent TEXT NOT NULL);
CREATE INDEX web_sessions_account ON web_sessions(account_id);
CREATE TABLE api_tokens(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0,
  last_ip TEXT NOT NULL DEFAULT '',
  UNIQUE(account_id, name));
)sql",
    // An account's own forwarding (store::Account::forward_to).
    R"sql(
ALTER TABLE accounts ADD COLUMN forward_to TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN forward_keep INTEGER NOT NULL DEFAULT 1;
)sql",
    // When the account's correspondents last gained an address
    // (Reputation::correspondents_version). Accounts that have correspondents already get a
    // version too: 0 means none, and an account that reuses a deleted one's id must not meet
    // the number the deleted one's list was kept under.
    R"sql(
ALTER TABLE accounts ADD COLUMN correspondents_version INTEGER NOT NULL DEFAULT 0;
INSERT OR IGNORE INTO meta(key, value) VALUES('correspondents_version', '1');
UPDATE accounts SET correspondents_version = 1 WHERE id IN (SELECT account_id FROM correspondents);
)sql",
};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Account read_account(Stmt& s) {
  Account a;
  a.id = s.int64(0);
  a.address = s.text(1);
  a.password_hash = s.text(2);
  a.quota_bytes = std::uint64_t(s.int64(3));
  a.used_bytes = std::uint64_t(s.int64(4));
  a.disabled = s.int64(5) != 0;
  a.created = s.int64(6);
  a.scram = s.text(7);
  a.password_breached = s.int64(8) != 0;
  a.require_app_passwords = s.int64(9) != 0;
  a.totp_secret = s.text(10);
  a.totp_last_step = s.int64(11);
  a.outbound_hold = s.text(12);
  a.spam_thresholds = s.text(13);
  a.forward_to = s.text(14);
  a.forward_keep = s.int64(15) != 0;
  return a;
}

constexpr const char* kAccountCols =
    "id, address, password_hash, quota_bytes, used_bytes, disabled, created, scram, password_breached, require_app_passwords, totp_secret, totp_last_step, outbound_hold, "
    "spam_thresholds, forward_to, forward_keep";

}  // namespace

SqliteStore::SqliteStore(StoreConfig opts)
    : opts_(std::move(opts)), blobs_(opts_.data_dir + "/blobs") {}

SqliteStore::~SqliteStore() { close(); }

Status SqliteStore::open() {
  if (opts_.read_only) return open_read_only();
  if (::mkdir(opts_.data_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return error(Errc::unavailable, fmt::format("cannot create data directory {}: {}", opts_.data_dir, std::strerror(errno)));
  if (auto s = blobs_.init(); !s) return s;
  const std::string path = opts_.data_dir + "/index.sqlite";
  if (auto s = db_.open(path); !s) return s;
  if (auto s = migrate(); !s) return s;
  if (auto s = writer_.open(path); !s) return s;
  committer_ = std::make_unique<Committer>(
      [this](std::vector<CommitJob>& batch) { commit_batch(batch); }, opts_.max_batch);
  return {};
}

Status SqliteStore::open_read_only() {
  const std::string path = opts_.data_dir + "/index.sqlite";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return error(Errc::not_found, fmt::format("no store in {} (no index.sqlite)", opts_.data_dir));
  if (auto s = db_.open(path, true); !s) return s;
  std::lock_guard lock(mu_);
  int version = 0;
  {
    Stmt q(db_, "PRAGMA user_version");
    if (q.step()) version = int(q.int64(0));
  }
  constexpr int kLatest = int(std::size(kMigrations));
  if (version != kLatest)
    return error(Errc::invalid, fmt::format("the store in {} has schema version {}, this mailkeep reads {}: use the "
                                            "mailkeep the server runs",
                                            opts_.data_dir, version, kLatest));
  return {};  // no writer, no committer: deliveries fail
}

Status SqliteStore::migrate() {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto s = t.begin(); !s) return s;
  int version = 0;
  {
    Stmt q(db_, "PRAGMA user_version");
    if (q.step()) version = int(q.int64(0));
  }
  constexpr int kLatest = int(std::size(kMigrations));
  if (version > kLatest)
    return error(Errc::corrupt, fmt::format("database schema version {} is newer than this mailkeep ({}); upgrade mailkeep",
                           version, kLatest));
  for (int v = version; v < kLatest; ++v) {
    if (auto s = db_.exec(kMigrations[v]); !s) return s;
  }
  if (version != kLatest) {
    if (auto s = db_.exec(fmt::format("PRAGMA user_version = {}", kLatest)); !s) return s;
  }
  return t.commit();
}

void SqliteStore::close() {
  if (committer_) {
    committer_->stop();
    committer_.reset();
  }
}

// ---- domains ----

Status SqliteStore::add_domain(std::string_view name) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st;
  {
    Stmt s(db_, "INSERT INTO domains(name, created) VALUES(?, ?)");
    s.bind(1, to_lower(name)).bind(2, unix_now());
    if (s.step(), s.duplicate())
      return error(Errc::already_exists, fmt::format("domain {} already exists", name));
    if (s.failed()) return s.fail();
  }
  // Directory::domains_version.
  if (auto v = next_in_sequence(db_, "domains_version"); !v) return v.error();
  return t.commit();
}

Status SqliteStore::remove_domain(std::string_view name) {
  std::lock_guard lock(mu_);
  const std::string d = to_lower(name);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st;
  {
    Stmt q(db_, "SELECT count(*) FROM accounts WHERE address LIKE '%@' || ?");
    q.bind(1, d);
    const bool has_accounts = q.step() && q.int64(0) > 0;
    if (q.failed()) return q.fail();
    if (has_accounts) return error(Errc::conflict, fmt::format("domain {} still has accounts; remove them first", d));
  }
  {
    Stmt s(db_, "DELETE FROM domains WHERE name = ?");
    s.bind(1, d);
    if (auto st = s.done(); !st) return st;
    if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such domain: {}", d));
  }
  if (auto v = next_in_sequence(db_, "domains_version"); !v) return v.error();
  return t.commit();
}

Result<std::vector<std::string>> SqliteStore::list_domains() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT name FROM domains ORDER BY name");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  if (s.failed()) return s.fail();
  return out;
}

Result<std::int64_t> SqliteStore::domains_version() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'domains_version'");
  const std::int64_t v = s.step() ? s.int64(0) : 0;
  if (s.failed()) return s.fail();
  return v;
}

Result<bool> SqliteStore::has_domain(std::string_view name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT 1 FROM domains WHERE name = ?");
  s.bind(1, to_lower(name));
  bool found = s.step();
  if (s.failed()) return s.fail();
  return found;
}

// ---- accounts ----

Result<std::int64_t> SqliteStore::create_mailbox_locked(Db& db, std::int64_t account_id,
                                                        std::string_view name, std::string_view special_use,
                                                        std::uint32_t uidvalidity_floor) {
  // Above every UIDVALIDITY given before (Mail::create_mailbox has the rule).
  std::int64_t uidvalidity = uidvalidity_floor;
  {
    Stmt q(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'uidvalidity'");
    if (q.step() && q.int64(0) >= uidvalidity) uidvalidity = q.int64(0) + 1;
    if (q.failed()) return q.fail();
  }
  if (uidvalidity > 0xffffffff) return error(Errc::conflict, "UIDVALIDITY values are used up");
  {
    Stmt u(db, "INSERT OR REPLACE INTO meta(key, value) VALUES('uidvalidity', ?)");
    u.bind(1, uidvalidity);
    if (auto st = u.done(); !st) return st.error();
  }
  Stmt s(db,
         "INSERT INTO mailboxes(account_id, name, special_use, uidvalidity) VALUES(?, ?, ?, ?)");
  s.bind(1, account_id).bind(2, name).bind(3, special_use).bind(4, uidvalidity);
  if (s.step(), s.duplicate()) return error(Errc::already_exists, fmt::format("mailbox {} already exists", name));
  if (s.failed()) return s.fail();
  return db.last_insert_id();
}

Result<std::int64_t> SqliteStore::insert_account(const std::string& addr, std::string_view hash,
                                                 const std::vector<NewMailbox>& mailboxes) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto s = t.begin(); !s) return s.error();
  Stmt s(db_, "INSERT INTO accounts(address, password_hash, created) VALUES(?, ?, ?)");
  s.bind(1, addr).bind(2, hash).bind(3, unix_now());
  if (s.step(), s.duplicate()) return error(Errc::already_exists, fmt::format("account {} already exists", addr));
  if (s.failed()) return s.fail();
  const std::int64_t id = db_.last_insert_id();
  for (const auto& mb : mailboxes) {
    auto r = create_mailbox_locked(db_, id, mb.name, mb.special_use, mb.uidvalidity_floor);
    if (!r) return r.error();
  }
  if (auto c = t.commit(); !c) return c.error();
  return id;
}

Result<std::optional<Account>> SqliteStore::find_account(std::string_view address) {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM accounts WHERE address = ?", kAccountCols));
  s.bind(1, to_lower(address));
  if (s.step()) return std::optional<Account>(read_account(s));
  if (s.failed()) return s.fail();
  return std::optional<Account>();
}

Result<std::optional<Account>> SqliteStore::account_by_id(std::int64_t id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountCols));
  s.bind(1, id);
  if (s.step()) return std::optional<Account>(read_account(s));
  if (s.failed()) return s.fail();
  return std::optional<Account>();
}

Result<Directory::AccountCounts> SqliteStore::account_counts() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT count(*), coalesce(sum(outbound_hold != ''), 0) FROM accounts");
  if (!s.step()) return s.fail();
  return AccountCounts{s.int64(0), s.int64(1)};
}

Result<std::vector<Account>> SqliteStore::list_accounts() {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM accounts ORDER BY address", kAccountCols));
  std::vector<Account> out;
  while (s.step()) out.push_back(read_account(s));
  if (s.failed()) return s.fail();
  return out;
}

Status SqliteStore::set_password(std::string_view address, std::string_view hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET password_hash = ?, scram = '', password_breached = 0 WHERE address = ?");
  s.bind(1, hash).bind(2, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
  return {};
}

Status SqliteStore::set_password_breached(std::string_view address) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET password_breached = 1 WHERE address = ?");
  s.bind(1, to_lower(address));
  return s.done();
}

Status SqliteStore::set_scram(std::string_view address, std::string_view scram) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET scram = ? WHERE address = ?");
  s.bind(1, scram).bind(2, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
  return {};
}

Status SqliteStore::set_quota(std::string_view address, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE accounts SET quota_bytes = ? WHERE address = ?");
  s.bind(1, std::int64_t(bytes)).bind(2, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
  return {};
}

Status SqliteStore::remove_account(std::string_view address) {
  std::vector<std::string> blobs;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto s = t.begin(); !s) return s;
    {
      Stmt q(db_,
             "SELECT DISTINCT m.blob FROM messages m JOIN mailboxes b ON m.mailbox_id = b.id "
             "JOIN accounts a ON b.account_id = a.id WHERE a.address = ?");
      q.bind(1, to_lower(address));
      while (q.step()) blobs.push_back(q.text(0));
      if (q.failed()) return q.fail();
    }
    Stmt s(db_, "DELETE FROM accounts WHERE address = ?");
    s.bind(1, to_lower(address));
    if (auto st = s.done(); !st) return st;
    if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such account: {}", address));
    if (auto c = t.commit(); !c) return c;
    // Files still referenced by another account's copy stay.
    for (const auto& b : blobs) {
      Stmt q(db_, "SELECT 1 FROM messages WHERE blob = ? LIMIT 1");
      q.bind(1, b);
      if (!q.step()) blobs_.remove(b);
    }
  }
  return {};
}

// ---- aliases ----

Status SqliteStore::add_alias(std::string_view address, std::string_view target) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO aliases(address, target) VALUES(?, ?)");
  s.bind(1, to_lower(address)).bind(2, to_lower(target));
  if (s.step(), s.duplicate()) return error(Errc::already_exists, "alias already exists");
  if (s.failed()) return s.fail();
  return {};
}

Status SqliteStore::remove_alias(std::string_view address) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM aliases WHERE address = ?");
  s.bind(1, to_lower(address));
  if (auto st = s.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no such alias: {}", address));
  return {};
}

Result<std::vector<std::string>> SqliteStore::alias_targets(std::string_view address) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT target FROM aliases WHERE address = ? ORDER BY target");
  s.bind(1, to_lower(address));
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  if (s.failed()) return s.fail();
  return out;
}

Result<std::vector<Alias>> SqliteStore::list_aliases() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT address, target FROM aliases ORDER BY address, target");
  std::vector<Alias> out;
  while (s.step()) out.push_back({s.text(0), s.text(1)});
  if (s.failed()) return s.fail();
  return out;
}

// ---- mailboxes ----

Result<std::int64_t> SqliteStore::insert_mailbox(std::int64_t account_id, std::string_view name,
                                                 std::string_view special_use, std::uint32_t uidvalidity_floor) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto s = t.begin(); !s) return s.error();
  auto r = create_mailbox_locked(db_, account_id, name, special_use, uidvalidity_floor);
  if (!r) return r;
  if (auto c = t.commit(); !c) return c.error();
  return r;
}

// ---- messages ----

Result<std::string> SqliteStore::read_message(const MessageInfo& info) { return blobs_.read(info.blob); }

Result<std::string> SqliteStore::read_message_start(const MessageInfo& info, std::size_t max_bytes) {
  return blobs_.read(info.blob, max_bytes);
}

Result<std::size_t> SqliteStore::recover() {
  std::set<std::string> referenced;
  {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT DISTINCT blob FROM messages UNION SELECT blob FROM queue");
    while (s.step()) referenced.insert(s.text(0));
    if (s.failed()) return s.fail();
  }
  std::size_t removed = 0;
  for (const auto& name : blobs_.list()) {
    if (!referenced.count(name)) {
      blobs_.remove(name);
      ++removed;
    }
  }
  return removed;
}

}  // namespace mk::store::sqlite
