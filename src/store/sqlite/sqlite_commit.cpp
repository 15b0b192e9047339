// The group commit of the SQLite store (store/committer.hpp): what the committer's thread
// writes on its own connection, a batch at a time: messages (their files synced once, their
// index rows in one transaction, each job all-or-nothing) and the small records queued
// beside them (queue_batched: CommitJob::write).
#include <algorithm>
#include <future>

#include <fmt/format.h>

#include "store/sqlite/sqlite_store.hpp"

namespace mk::store::sqlite {

void SqliteStore::commit(std::vector<NewMessage> msgs, DeliverCallback done) {
  if (!committer_) {
    done(error(Errc::unavailable, "store is closed"));
    return;
  }
  committer_->submit(CommitJob{std::move(msgs), std::move(done), {}});
}

Status SqliteStore::insert_delivery(const NewMessage& m, const std::string& blob,
                                    std::vector<StoredAt>& stored) {
  const std::string msgid = m.message_id.value_or("");
  for (const auto& d : m.deliveries) {
    // The named mailbox, else the fallback the rules chose (Mail::deliver_all).
    std::int64_t mailbox_id = 0;
    std::uint32_t uidvalidity = 0;
    {
      Stmt q(writer_,
             "SELECT id, uidvalidity FROM mailboxes WHERE account_id = ?1 AND name IN (?2, ?3) "
             "ORDER BY name = ?3 LIMIT 1");
      q.bind(1, d.account_id).bind(2, d.mailbox).bind(3, d.fallback.empty() ? d.mailbox : d.fallback);
      if (!q.step()) {
        if (q.failed()) return q.fail();
        return error(Errc::not_found, fmt::format("account {} has no mailbox {}{}", d.account_id, d.mailbox,
                                                  d.fallback.empty() ? "" : " nor " + d.fallback));
      }
      mailbox_id = q.int64(0);
      uidvalidity = std::uint32_t(q.int64(1));
    }
    std::int64_t uid = 0, modseq = 0;
    {
      Stmt u(writer_,
             "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 "
             "WHERE id = ? RETURNING uidnext - 1, highestmodseq");
      u.bind(1, mailbox_id);
      if (!u.step()) return u.fail();
      uid = u.int64(0);
      modseq = u.int64(1);
      if (auto st = u.done(); !st) return st;
    }
    stored.push_back(StoredAt{mailbox_id, uidvalidity, std::uint32_t(uid)});
    Stmt ins(writer_,
             "INSERT INTO messages(mailbox_id, uid, modseq, blob, size, internaldate, flags, "
             "mail_from, rcpt_to, dsn, msgid) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))");
    std::string dsn = m.dsn;
    if (!d.dsn.empty()) dsn += (dsn.empty() ? "" : " ") + d.dsn;
    ins.bind(1, mailbox_id).bind(2, uid).bind(3, modseq).bind(4, blob)
        .bind(5, std::int64_t(m.size())).bind(6, m.internaldate).bind(7, m.flags)
        .bind(8, m.mail_from).bind(9, d.rcpt).bind(10, dsn).bind(11, msgid);
    if (auto st = ins.done(); !st) return st;
    if (m.summary) {
      // REPLACE: a row left by a message deleted without foreign keys (by hand) would
      // otherwise refuse the delivery of a message that is given the same id.
      Stmt sum(writer_, "INSERT OR REPLACE INTO summaries(message_id, data) VALUES(?, ?)");
      sum.bind(1, writer_.last_insert_id()).bind_blob(2, *m.summary);
      if (auto st = sum.done(); !st) return st;
    }
    Stmt acc(writer_, "UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?");
    acc.bind(1, std::int64_t(m.size())).bind(2, d.account_id);
    if (auto st = acc.done(); !st) return st;
  }
  return {};
}

void SqliteStore::commit_batch(std::vector<CommitJob>& batch) {
  std::vector<std::vector<std::string>> names(batch.size());
  std::vector<Status> results(batch.size());
  std::vector<std::vector<StoredAt>> stored(batch.size());
  auto drop_files = [&](std::size_t i) {
    for (const auto& n : names[i]) blobs_.remove(n);
    names[i].clear();
  };
  // 1. Write every message file.
  bool any = false;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    for (const auto& m : batch[i].msgs) {
      auto r = blobs_.write(m.head, *m.data);
      if (!r) {
        results[i] = r.error();
        drop_files(i);
        break;
      }
      names[i].push_back(std::move(r.value()));
      any = true;
    }
  }
  auto fail_all = [&](const Error& e) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      drop_files(i);
      stored[i].clear();
      if (results[i]) results[i] = e;
    }
  };
  // 2. One sync makes all of them durable before the index can refer to them.
  if (any) {
    if (auto s = blobs_.sync(); !s) fail_all(s.error()), any = false;
  }
  // 3. One transaction for every index row of the batch; each job all-or-nothing. Small
  // writes alone need no sync of their own (CommitJob::write).
  const bool writes = std::any_of(batch.begin(), batch.end(), [](const CommitJob& j) { return bool(j.write); });
  if (any || writes) {
    Txn t(writer_, any ? Durability::full : Durability::relaxed);
    if (auto s = t.begin(); !s) {
      fail_all(s.error());
    } else {
      // A job that fails is rolled back to its savepoint alone; when the savepoint machinery
      // itself fails, nothing of the batch can be trusted: all of it fails (and rolls back).
      Status batch_ok;
      for (std::size_t i = 0; i < batch.size() && batch_ok; ++i) {
        if (!results[i]) continue;
        if (batch_ok = writer_.exec("SAVEPOINT job"); !batch_ok) break;
        Status st;
        if (batch[i].write) {
          try {  // the committer's thread must survive any one job
            st = batch[i].write();
          } catch (const std::exception& e) {
            st = err(fmt::format("a record could not be written: {}", e.what()));
          } catch (...) {
            st = err("a record could not be written");
          }
        }
        for (std::size_t k = 0; k < batch[i].msgs.size() && st; ++k) {
          st = insert_delivery(batch[i].msgs[k], names[i][k], stored[i]);
          if (st && !batch[i].msgs[k].outbound.empty()) st = insert_outbound(batch[i].msgs[k], names[i][k]);
        }
        if (!st) {
          if (batch_ok = writer_.exec("ROLLBACK TO job"); !batch_ok) break;
          drop_files(i);
          results[i] = st;
          stored[i].clear();
        }
        batch_ok = writer_.exec("RELEASE job");
      }
      if (!batch_ok) fail_all(batch_ok.error());
      else if (auto c = t.commit(); !c) fail_all(c.error());
    }
  }
  // Tell listeners (IDLE sessions) first, then the senders.
  if (on_commit_) {
    for (const auto& v : stored)
      for (const auto& at : v) on_commit_(at.mailbox_id);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (results[i]) batch[i].done(std::move(stored[i]));
    else batch[i].done(results[i].error());
  }
}

void SqliteStore::queue_batched(std::function<Status(Db&)> write, std::function<void(Status)> done) {
  if (!committer_) {  // no committer (read-only, or not open): on the store's connection
    Status st;
    {
      std::lock_guard lock(mu_);
      Txn t(db_, Durability::relaxed);
      st = t.begin();
      if (st) st = write(db_);
      if (st) st = t.commit();
    }
    done(std::move(st));
    return;
  }
  CommitJob job;
  job.write = [this, write = std::move(write)] { return write(writer_); };
  job.done = [done = std::move(done)](DeliverResult r) { done(r ? Status{} : Status(r.error())); };
  committer_->submit(std::move(job));
}

Status SqliteStore::write_batched(std::function<Status(Db&)> write) {
  std::promise<Status> result;
  auto outcome = result.get_future();
  queue_batched(std::move(write), [&result](Status st) { result.set_value(std::move(st)); });
  return outcome.get();
}

}  // namespace mk::store::sqlite
