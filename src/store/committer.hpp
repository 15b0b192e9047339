// store/committer.hpp: group commit.
//
// Deliveries handed in from any thread queue up while the previous batch is being made
// durable; the worker thread then takes everything queued (up to max_batch) and processes
// it as one batch: one file-system sync and one database commit for all of them. Under
// load the batch grows by itself, so the fsync cost per message falls as concurrency rises,
// while a lone message still commits immediately (no timer, no added latency).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace mk::store {

// One or more messages committed together: all of them or none (IMAP MULTIAPPEND).
struct CommitJob {
  std::vector<NewMessage> msgs;
  DeliverCallback done;
  // Instead of messages: a small write run inside the batch's transaction, on the
  // committer's own connection, so that it never waits for the database's write lock
  // against a batch being made durable. Durable with the batch; a batch of such writes
  // alone commits without an fsync of its own (the next batch with mail syncs it too).
  std::function<Status()> write;
};

class Committer {
 public:
  using Process = std::function<void(std::vector<CommitJob>&)>;
  Committer(Process process, std::size_t max_batch);
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void submit(CommitJob job);
  // Finishes every job already submitted, then joins the worker. Later submits fail.
  void stop();

 private:
  void run();

  Process process_;
  std::size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CommitJob> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace mk::store
