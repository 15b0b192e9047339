// SqliteStore: the mailbox and message operations IMAP needs (mailbox management, flag
// changes with MODSEQ, expunge with the VANISHED record, copy/move with COPYUID data).
// Each operation is one transaction; messages share their file, which is removed only when
// no row refers to it any more.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace mk::store::sqlite {
namespace {

constexpr const char* kMessageCols =
    "id, mailbox_id, uid, modseq, blob, size, internaldate, flags, mail_from, rcpt_to, dsn";
// What listings return: everything but the envelope fields, which IMAP never needs and
// which would cost three string allocations per message in a 1:* sweep.
constexpr const char* kIndexCols =
    "id, mailbox_id, uid, modseq, blob, size, internaldate, flags, '', '', ''";

MessageInfo read_message_row(Stmt& s) {
  MessageInfo m;
  m.id = s.int64(0);
  m.mailbox_id = s.int64(1);
  m.uid = std::uint32_t(s.int64(2));
  m.modseq = std::uint64_t(s.int64(3));
  m.blob = s.text(4);
  m.size = std::uint64_t(s.int64(5));
  m.internaldate = s.int64(6);
  m.flags = s.text(7);
  m.mail_from = s.text(8);
  m.rcpt_to = s.text(9);
  m.dsn = s.text(10);
  return m;
}

Mailbox read_mailbox_row(Stmt& s) {
  Mailbox m;
  m.id = s.int64(0);
  m.account_id = s.int64(1);
  m.name = s.text(2);
  m.special_use = s.text(3);
  m.uidvalidity = std::uint32_t(s.int64(4));
  m.uidnext = std::uint32_t(s.int64(5));
  m.highestmodseq = std::uint64_t(s.int64(6));
  m.subscribed = s.int64(7) != 0;
  m.recent_uid = std::uint32_t(s.int64(8));
  return m;
}

constexpr const char* kMailboxCols =
    "id, account_id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed, recent_uid";

// Flags as stored: unique, sorted, space-separated; \Recent is session state, never stored.
std::string canonical_flags(std::set<std::string> flags) {
  flags.erase("\\Recent");
  std::string out;
  for (const auto& f : flags) out += (out.empty() ? "" : " ") + f;
  return out;
}

std::set<std::string> flag_set(std::string_view s) {
  std::set<std::string> out;
  for (auto f : split(s, ' '))
    if (!f.empty()) out.emplace(f);
  return out;
}

// Bumps the mailbox's HIGHESTMODSEQ and returns the new value.
Result<std::uint64_t> next_modseq(Db& db, std::int64_t mailbox_id) {
  Stmt u(db,
         "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq");
  u.bind(1, mailbox_id);
  if (!u.step()) return error(Errc::not_found, u.failed() ? u.error() : "no such mailbox");
  const auto v = std::uint64_t(u.int64(0));
  if (auto st = u.done(); !st) return st.error();
  return v;
}

// read_summaries scans a UID range rather than naming the UIDs when the range holds at most
// about twice as many UIDs as were asked for (plus this many, for small sets).
constexpr std::uint64_t kDenseSlack = 64;

std::string uid_list(const std::vector<std::uint32_t>& uids) {
  std::string out;
  for (auto u : uids) out += (out.empty() ? "" : ",") + std::to_string(u);
  return out;
}

}  // namespace

Result<std::vector<Mailbox>> SqliteStore::list_mailboxes(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM mailboxes WHERE account_id = ? ORDER BY name", kMailboxCols));
  s.bind(1, account_id);
  std::vector<Mailbox> out;
  while (s.step()) out.push_back(read_mailbox_row(s));
  if (s.failed()) return s.fail();
  return out;
}

Result<std::optional<Mailbox>> SqliteStore::find_mailbox(std::int64_t account_id, std::string_view name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM mailboxes WHERE account_id = ? AND name = ?", kMailboxCols));
  s.bind(1, account_id).bind(2, name);
  if (s.step()) return std::optional<Mailbox>(read_mailbox_row(s));
  if (s.failed()) return s.fail();
  return std::optional<Mailbox>();
}

Result<Mailbox> SqliteStore::mailbox_by_id(std::int64_t mailbox_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM mailboxes WHERE id = ?", kMailboxCols));
  s.bind(1, mailbox_id);
  if (s.step()) return read_mailbox_row(s);
  if (s.failed()) return s.fail();
  return error(Errc::not_found, "no such mailbox");
}

Status SqliteStore::delete_mailbox(std::int64_t account_id, std::string_view name) {
  std::vector<std::string> blobs;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st;
    std::int64_t id = 0, size = 0;
    {
      Stmt q(db_,
             "SELECT b.id, coalesce(sum(m.size), 0) FROM mailboxes b LEFT JOIN messages m "
             "ON m.mailbox_id = b.id WHERE b.account_id = ? AND b.name = ? GROUP BY b.id");
      q.bind(1, account_id).bind(2, name);
      if (!q.step()) return error(Errc::not_found, fmt::format("no mailbox {}", name));
      id = q.int64(0);
      size = q.int64(1);
    }
    {
      Stmt q(db_, "SELECT DISTINCT blob FROM messages WHERE mailbox_id = ?");
      q.bind(1, id);
      while (q.step()) blobs.push_back(q.text(0));
      if (q.failed()) return q.fail();
    }
    Stmt d(db_, "DELETE FROM mailboxes WHERE id = ?");
    d.bind(1, id);
    if (auto st = d.done(); !st) return st;
    Stmt a(db_, "UPDATE accounts SET used_bytes = max(0, used_bytes - ?) WHERE id = ?");
    a.bind(1, size).bind(2, account_id);
    if (auto st = a.done(); !st) return st;
    if (auto st = t.commit(); !st) return st;
  }
  return remove_unreferenced(blobs);
}

Status SqliteStore::rename_tree(std::int64_t account_id, std::string_view from, std::string_view to) {
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st;
  {
    Stmt q(db_, "SELECT 1 FROM mailboxes WHERE account_id = ? AND (name = ?2 OR name LIKE ?3 ESCAPE '\\')");
    std::string like;
    for (char c : to) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    q.bind(1, account_id).bind(2, to).bind(3, like + "/%");
    if (q.step()) return error(Errc::already_exists, fmt::format("mailbox {} already exists", to));
  }
  Stmt u(db_,
         "UPDATE mailboxes SET name = ?3 || substr(name, length(?2) + 1) "
         "WHERE account_id = ?1 AND (name = ?2 OR substr(name, 1, length(?2) + 1) = ?2 || '/')");
  u.bind(1, account_id).bind(2, from).bind(3, to);
  if (auto st = u.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no mailbox {}", from));
  return t.commit();
}

Status SqliteStore::set_subscribed(std::int64_t account_id, std::string_view name, bool on) {
  std::lock_guard lock(mu_);
  Stmt u(db_, "UPDATE mailboxes SET subscribed = ? WHERE account_id = ? AND name = ?");
  u.bind(1, on ? 1 : 0).bind(2, account_id).bind(3, name);
  if (auto st = u.done(); !st) return st;
  if (db_.changes() == 0) return error(Errc::not_found, fmt::format("no mailbox {}", name));
  return {};
}

Result<std::uint32_t> SqliteStore::claim_recent(std::int64_t mailbox_id, std::uint32_t up_to) {
  std::lock_guard lock(mu_);
  std::uint32_t previous = 0;
  {
    Stmt q(db_, "SELECT recent_uid FROM mailboxes WHERE id = ?");
    q.bind(1, mailbox_id);
    if (!q.step()) return error(Errc::not_found, fmt::format("no mailbox {}", mailbox_id));
    previous = std::uint32_t(q.int64(0));
  }
  if (previous >= up_to) return previous;  // nothing new: no write
  // Session state, not mailbox state: MODSEQ does not move.
  Stmt u(db_, "UPDATE mailboxes SET recent_uid = ? WHERE id = ?");
  u.bind(1, std::int64_t(up_to)).bind(2, mailbox_id);
  if (auto st = u.done(); !st) return st.error();
  return previous;
}

Result<std::vector<MessageInfo>> SqliteStore::select_messages(std::string_view where, std::int64_t a,
                                                              std::int64_t b) {
  std::lock_guard lock(mu_);
  Stmt s(db_, fmt::format("SELECT {} FROM messages WHERE {} ORDER BY uid", kIndexCols, where));
  s.bind(1, a).bind(2, b);
  std::vector<MessageInfo> out;
  while (s.step()) out.push_back(read_message_row(s));
  if (s.failed()) return s.fail();
  return out;
}

Result<std::vector<MessageInfo>> SqliteStore::thread_messages(std::int64_t account_id, const std::vector<std::string>& ids,
                                                              std::size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<MessageInfo> out;
  for (const auto& id : ids) {
    if (out.size() >= limit) break;
    Stmt s(db_, fmt::format("SELECT {} FROM messages WHERE msgid = ?1 AND mailbox_id IN "
                                     "(SELECT id FROM mailboxes WHERE account_id = ?2) LIMIT ?3",
                                     kIndexCols));
    s.bind(1, id).bind(2, account_id).bind(3, std::int64_t(limit - out.size()));
    while (s.step()) out.push_back(read_message_row(s));
    if (s.failed()) return s.fail();
  }
  return out;
}

Result<std::vector<MessageInfo>> SqliteStore::list_messages(std::int64_t mailbox_id) {
  return select_messages("mailbox_id = ?1 AND ?2 = ?2", mailbox_id, 0);
}

Result<std::vector<MessageInfo>> SqliteStore::messages_by_uid(std::int64_t mailbox_id,
                                                              const std::vector<std::uint32_t>& uids) {
  if (uids.empty()) return std::vector<MessageInfo>();
  return select_messages(fmt::format("mailbox_id = ?1 AND ?2 = ?2 AND uid IN ({})", uid_list(uids)),
                         mailbox_id, 0);
}

Result<bool> SqliteStore::has_blob(std::int64_t mailbox_id, std::string_view blob) {
  std::lock_guard lock(mu_);
  // Named: without statistics SQLite takes messages_modseq (mailbox_id) and reads the whole
  // mailbox.
  Stmt s(db_,
         "SELECT 1 FROM messages INDEXED BY messages_blob WHERE blob = ?1 AND mailbox_id = ?2 "
         "LIMIT 1");
  s.bind(1, blob).bind(2, mailbox_id);
  const bool found = s.step();
  if (s.failed()) return s.fail();
  return found;
}

Result<std::vector<MessageInfo>> SqliteStore::changed_since(std::int64_t mailbox_id, std::uint64_t modseq) {
  return select_messages("mailbox_id = ?1 AND modseq > ?2", mailbox_id, std::int64_t(modseq));
}

Result<std::vector<std::uint32_t>> SqliteStore::expunged_since(std::int64_t mailbox_id,
                                                               std::uint64_t modseq) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
  s.bind(1, mailbox_id).bind(2, std::int64_t(modseq));
  std::vector<std::uint32_t> out;
  while (s.step()) out.push_back(std::uint32_t(s.int64(0)));
  if (s.failed()) return s.fail();
  return out;
}

Result<FlagResult> SqliteStore::update_flags(std::int64_t mailbox_id,
                                             const std::vector<std::uint32_t>& uids,
                                             const FlagUpdate& update) {
  FlagResult out;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st.error();
    std::optional<std::uint64_t> modseq;
    Stmt q(db_,
           fmt::format("SELECT uid, flags, modseq FROM messages WHERE mailbox_id = ? AND uid IN ({}) ORDER BY uid",
                       uid_list(uids)));
    q.bind(1, mailbox_id);
    struct Row {
      std::uint32_t uid;
      std::string flags;
      std::uint64_t modseq;
    };
    std::vector<Row> rows;
    while (q.step()) rows.push_back({std::uint32_t(q.int64(0)), q.text(1), std::uint64_t(q.int64(2))});
    if (q.failed()) return q.fail();
    for (auto& r : rows) {
      if (update.unchanged_since && r.modseq > *update.unchanged_since) {
        out.failed.push_back(r.uid);
        continue;
      }
      auto set = flag_set(r.flags);
      const std::set<std::string> given(update.flags.begin(), update.flags.end());
      switch (update.op) {
        case FlagUpdate::Op::add: set.insert(given.begin(), given.end()); break;
        case FlagUpdate::Op::remove:
          for (const auto& f : given) set.erase(f);
          break;
        case FlagUpdate::Op::replace: set = given; break;
      }
      std::string now = canonical_flags(std::move(set));
      if (now == r.flags && !update.unchanged_since) continue;  // nothing changed
      if (!modseq) {
        auto m = next_modseq(db_, mailbox_id);
        if (!m) return m.error();
        modseq = *m;
      }
      Stmt u(db_, "UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?");
      u.bind(1, now).bind(2, std::int64_t(*modseq)).bind(3, mailbox_id).bind(4, r.uid);
      if (auto st = u.done(); !st) return st.error();
      out.changed.push_back({r.uid, now, *modseq});
    }
    if (auto st = t.commit(); !st) return st.error();
  }
  if (on_commit_ && !out.changed.empty()) on_commit_(mailbox_id);
  return out;
}

Result<std::vector<std::uint32_t>> SqliteStore::expunge(std::int64_t mailbox_id,
                                                        const std::vector<std::uint32_t>& uids) {
  std::vector<std::uint32_t> removed;
  std::vector<std::string> blobs;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st.error();
    std::int64_t bytes = 0;
    {
      Stmt q(db_, fmt::format("SELECT uid, blob, size FROM messages WHERE mailbox_id = ? AND "
                                       "uid IN ({}) ORDER BY uid", uid_list(uids)));
      q.bind(1, mailbox_id);
      while (q.step()) {
        removed.push_back(std::uint32_t(q.int64(0)));
        blobs.push_back(q.text(1));
        bytes += q.int64(2);
      }
      if (q.failed()) return q.fail();  // not "nothing to expunge"
    }
    if (removed.empty()) return removed;
    auto modseq = next_modseq(db_, mailbox_id);
    if (!modseq) return modseq.error();
    Stmt d(db_, fmt::format("DELETE FROM messages WHERE mailbox_id = ? AND uid IN ({})", uid_list(removed)));
    d.bind(1, mailbox_id);
    if (auto st = d.done(); !st) return st.error();
    for (auto uid : removed) {
      Stmt e(db_, "INSERT INTO expunged(mailbox_id, uid, modseq) VALUES(?, ?, ?)");
      e.bind(1, mailbox_id).bind(2, uid).bind(3, std::int64_t(*modseq));
      if (auto st = e.done(); !st) return st.error();
    }
    Stmt a(db_, "UPDATE accounts SET used_bytes = max(0, used_bytes - ?) WHERE id = "
                         "(SELECT account_id FROM mailboxes WHERE id = ?)");
    a.bind(1, bytes).bind(2, mailbox_id);
    if (auto st = a.done(); !st) return st.error();
    if (auto st = t.commit(); !st) return st.error();
  }
  if (on_commit_) on_commit_(mailbox_id);
  if (auto st = remove_unreferenced(blobs); !st) return st.error();
  return removed;
}

Result<CopyResult> SqliteStore::copy_messages(std::int64_t from_mailbox,
                                              const std::vector<std::uint32_t>& uids,
                                              std::int64_t to_mailbox, bool move) {
  CopyResult out;
  {
    std::lock_guard lock(mu_);
    Txn t(db_);
    if (auto st = t.begin(); !st) return st.error();
    {
      Stmt q(db_, "SELECT uidvalidity FROM mailboxes WHERE id = ?");
      q.bind(1, to_mailbox);
      if (!q.step()) return q.failed() ? q.fail() : error(Errc::not_found, "no such mailbox");
      out.uidvalidity = std::uint32_t(q.int64(0));
    }
    std::vector<MessageInfo> msgs;
    {
      Stmt q(db_, fmt::format("SELECT {} FROM messages WHERE mailbox_id = ? AND uid IN ({}) ORDER BY uid",
                                       kMessageCols, uid_list(uids)));
      q.bind(1, from_mailbox);
      while (q.step()) msgs.push_back(read_message_row(q));
      if (q.failed()) return q.fail();  // not "nothing to copy"
    }
    if (msgs.empty()) return out;
    auto modseq = next_modseq(db_, to_mailbox);
    if (!modseq) return modseq.error();
    std::int64_t bytes = 0;
    for (const auto& m : msgs) {
      Stmt u(db_, "UPDATE mailboxes SET uidnext = uidnext + 1 WHERE id = ? RETURNING uidnext - 1");
      u.bind(1, to_mailbox);
      if (!u.step()) return u.fail();
      const auto uid = std::uint32_t(u.int64(0));
      if (auto st = u.done(); !st) return st.error();
      Stmt ins(db_,
               "INSERT INTO messages(mailbox_id, uid, modseq, blob, size, internaldate, flags, "
               "mail_from, rcpt_to, dsn, msgid) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
               "(SELECT msgid FROM messages WHERE mailbox_id = ? AND uid = ?))");
      ins.bind(1, to_mailbox).bind(2, uid).bind(3, std::int64_t(*modseq)).bind(4, m.blob)
          .bind(5, std::int64_t(m.size)).bind(6, m.internaldate).bind(7, m.flags)
          .bind(8, m.mail_from).bind(9, m.rcpt_to).bind(10, m.dsn).bind(11, from_mailbox).bind(12, std::int64_t(m.uid));
      if (auto st = ins.done(); !st) return st.error();
      // The copy is a row of its own: it gets its own copy of the summary, if there is one.
      Stmt sum(db_, "INSERT OR REPLACE INTO summaries(message_id, data) "
                             "SELECT ?, data FROM summaries WHERE message_id = ?");
      sum.bind(1, db_.last_insert_id()).bind(2, m.id);
      if (auto st = sum.done(); !st) return st.error();
      out.uids.emplace_back(m.uid, uid);
      bytes += std::int64_t(m.size);
    }
    if (move) {
      auto src_modseq = next_modseq(db_, from_mailbox);
      if (!src_modseq) return src_modseq.error();
      std::vector<std::uint32_t> moved;
      for (const auto& m : msgs) moved.push_back(m.uid);
      Stmt d(db_, fmt::format("DELETE FROM messages WHERE mailbox_id = ? AND uid IN ({})", uid_list(moved)));
      d.bind(1, from_mailbox);
      if (auto st = d.done(); !st) return st.error();
      for (auto uid : moved) {
        Stmt e(db_, "INSERT INTO expunged(mailbox_id, uid, modseq) VALUES(?, ?, ?)");
        e.bind(1, from_mailbox).bind(2, uid).bind(3, std::int64_t(*src_modseq));
        if (auto st = e.done(); !st) return st.error();
      }
    } else {
      Stmt a(db_, "UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = "
                           "(SELECT account_id FROM mailboxes WHERE id = ?)");
      a.bind(1, bytes).bind(2, to_mailbox);
      if (auto st = a.done(); !st) return st.error();
    }
    if (auto st = t.commit(); !st) return st.error();
  }
  if (on_commit_) {
    on_commit_(to_mailbox);
    if (move) on_commit_(from_mailbox);
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> SqliteStore::read_summaries(std::int64_t mailbox_id,
                                                                            std::span<const std::uint32_t> uids) {
  std::vector<std::optional<std::string>> out(uids.size());
  if (uids.empty()) return out;
  const auto [lo, hi] = std::minmax_element(uids.begin(), uids.end());
  // A dense run of UIDs (a FETCH of 1:*) is one range scan of the mailbox in UID order, which
  // reads the summaries in the order they were stored, about three times as fast as looking
  // each up; sparse ones are named.
  const bool dense = std::uint64_t(*hi - *lo) < 2 * uids.size() + kDenseSlack;
  const std::string where = dense ? fmt::format("m.uid BETWEEN {} AND {}", *lo, *hi)
                                  : fmt::format("m.uid IN ({})", uid_list({uids.begin(), uids.end()}));
  std::vector<std::pair<std::uint32_t, std::string>> rows;
  rows.reserve(uids.size());
  {
    std::lock_guard lock(mu_);
    Stmt q(db_, fmt::format("SELECT m.uid, s.data FROM messages m JOIN summaries s ON s.message_id = m.id "
                                     "WHERE m.mailbox_id = ? AND {} ORDER BY m.uid",
                                     where));
    q.bind(1, mailbox_id);
    while (q.step()) rows.emplace_back(std::uint32_t(q.int64(0)), q.blob(1));
    if (q.failed()) return q.fail();
  }
  // Each row is moved to where it was asked for; a UID asked for twice gets a copy.
  std::vector<std::size_t> given(rows.size(), uids.size());
  for (std::size_t i = 0; i < uids.size(); ++i) {
    auto it = std::lower_bound(rows.begin(), rows.end(), uids[i],
                               [](const auto& r, std::uint32_t u) { return r.first < u; });
    if (it == rows.end() || it->first != uids[i]) continue;
    auto& at = given[std::size_t(it - rows.begin())];
    if (at == uids.size()) out[i] = std::move(it->second), at = i;
    else out[i] = out[at];
  }
  return out;
}

Status SqliteStore::save_summaries(std::int64_t mailbox_id,
                                   std::span<const std::pair<std::uint32_t, std::string>> summaries) {
  if (summaries.empty()) return {};
  std::lock_guard lock(mu_);
  Txn t(db_);
  if (auto st = t.begin(); !st) return st;
  // Nothing for a message expunged meanwhile: the SELECT finds no row.
  Stmt u(db_,
         "INSERT OR REPLACE INTO summaries(message_id, data) "
         "SELECT id, ?3 FROM messages WHERE mailbox_id = ?1 AND uid = ?2");
  if (!u.valid()) return u.fail();
  for (const auto& [uid, data] : summaries) {
    u.reset();
    u.bind(1, mailbox_id).bind(2, std::int64_t(uid)).bind_blob(3, data);
    if (auto st = u.done(); !st) return st;
  }
  return t.commit();
}

Status SqliteStore::remove_unreferenced(const std::vector<std::string>& blobs) {
  std::lock_guard lock(mu_);
  for (const auto& b : std::set<std::string>(blobs.begin(), blobs.end())) {
    Stmt q(db_,
           "SELECT 1 FROM messages WHERE blob = ?1 UNION ALL SELECT 1 FROM queue WHERE blob = ?1 LIMIT 1");
    q.bind(1, b);
    if (!q.step()) blobs_.remove(b);
  }
  return {};
}

}  // namespace mk::store::sqlite
