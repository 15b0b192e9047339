// The SQLite backend's group commit (store/sqlite/sqlite_commit.cpp): the small writes other
// modules queue into the committer's batches (CommitJob::write) beside the mail.
#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

#include "store/sqlite/sqlite_store.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::store {
namespace {

constexpr std::int64_t kT = 1764547200;

class SqliteCommit : public StoreTest {};

// The SQLite backend's small writes in the committer's batches: a write that throws fails
// alone (the committer's thread lives on); a batch of such writes alone commits with
// synchronous=NORMAL, and one that carries mail with FULL (read inside the batch's
// transaction, on the committer's own connection).
TEST_F(SqliteCommit, BatchedWritesFailAloneAndMailStaysDurable) {
  auto* sq = dynamic_cast<sqlite::SqliteStore*>(store_.get());
  ASSERT_NE(sq, nullptr);
  const std::int64_t id = account_with_domain("me@example.org");
  auto synchronous = [](sqlite::Db& db) {
    sqlite::Stmt q(db, "PRAGMA synchronous");
    return q.step() ? q.int64(0) : std::int64_t(-1);
  };
  // 1. A write alone, holding the committer until the next batch is queued behind it.
  std::promise<void> started, gate;
  auto gate_open = gate.get_future();
  std::int64_t alone = -1, with_mail = -1;
  sq->queue_batched(
      [&](sqlite::Db& db) -> Status {
        alone = synchronous(db);
        started.set_value();
        gate_open.wait();
        return {};
      },
      [](Status) {});
  started.get_future().wait();
  // 2. Queued meanwhile, so taken as one batch: a write that throws, a probe, and mail.
  std::promise<Status> thrown;
  sq->queue_batched([](sqlite::Db&) -> Status { throw std::runtime_error("no memory"); },
                    [&thrown](Status st) { thrown.set_value(std::move(st)); });
  sq->queue_batched([&](sqlite::Db& db) -> Status {
    with_mail = synchronous(db);
    return {};
  }, [](Status) {});
  std::promise<DeliverResult> delivered;
  store_->deliver_all({message("in the same batch\r\n", id)},
                      [&delivered](DeliverResult r) { delivered.set_value(std::move(r)); });
  gate.set_value();
  EXPECT_TRUE(delivered.get_future().get().ok());
  EXPECT_EQ(alone, 1);      // NORMAL: nothing in it needs its own fsync
  EXPECT_EQ(with_mail, 2);  // FULL: the mail's commit is durable when it returns
  const Status st = thrown.get_future().get();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no memory"), std::string::npos) << st.error().message;
  // The store works on.
  ASSERT_TRUE(store_->add_link_domains({"after.example"}, kT).ok());
  EXPECT_EQ(*store_->link_domains_seen({"after.example"}), std::vector<std::int64_t>{kT});
}

}  // namespace
}  // namespace mk::store
