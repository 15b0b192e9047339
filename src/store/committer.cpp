#include "store/committer.hpp"

namespace mk::store {

Committer::Committer(Process process, std::size_t max_batch)
    : process_(std::move(process)), max_batch_(max_batch), worker_([this] { run(); }) {}

Committer::~Committer() { stop(); }

void Committer::submit(CommitJob job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  job.done(err("store is shutting down"));
}

void Committer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (worker_.joinable()) worker_.join();
}

void Committer::run() {
  for (;;) {
    std::vector<CommitJob> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    process_(batch);
  }
}

}  // namespace mk::store
