// inbound/global_learning.hpp: the server's learner of the instance's shared spam model
// (filter/learning.hpp says what it learns and its bounds).
//
// One thread, the only writer of DATA/spam-learned.model and of the day's counts
// (DATA/spam/learning.state, so a restart does not refill the budgets). Examples come from the
// users' trainer (inbound/spam_filter.hpp UserModels: moves, unread deletions, replies) and
// from the MX (auto-learning); offer() queues them and never waits for learning. What it
// learnt reaches the MX's verdicts at once (SpamModel::set_learned, at most every
// kPublishSeconds) and the files at most every kSaveSeconds, after drain() and at shutdown.
// A failure to save is logged and retried at the next save; it never stops mail.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/log.hpp"
#include "dmarc/dmarc.hpp"
#include "filter/learning.hpp"

namespace mk::inbound {

class SpamModel;

class GlobalLearner {
 public:
  // model_path: spam-learned.model; state_path: the budget's counts. Loads both if they exist.
  GlobalLearner(std::string model_path, std::string state_path, SpamModel& model, log::Logger log,
                filter::LearningCaps caps = {});
  ~GlobalLearner();
  GlobalLearner(const GlobalLearner&) = delete;
  GlobalLearner& operator=(const GlobalLearner&) = delete;

  // The registrable domain of an author's address ("" for none), what the budget counts.
  std::string author_domain(std::string_view address) const;
  // Queued for learning; false (dropped, logged) when kMaxQueue examples are waiting.
  bool offer(filter::Example ex);
  // Whether the budget would take such an example now (the MX asks before it extracts features).
  bool would_admit(const filter::Example& ex) const;
  // Waits until every queued example is learnt, published and saved (tests, shutdown).
  void drain();
  // The learnt model as it is now (tests).
  filter::Model snapshot() const;
  // The clock the budget's days and hours follow (unix seconds); tests set their own.
  void set_clock(std::function<std::int64_t()> now);

  static constexpr std::size_t kMaxQueue = 1000;
  static constexpr std::int64_t kPublishSeconds = 1;
  static constexpr std::int64_t kSaveSeconds = 30;

 private:
  void run();
  void learn(const filter::Example& ex);
  // Hands the model to the verdicts and/or writes the files, as due (or all now: `now`).
  void flush(bool publish, bool save);
  std::int64_t wall_now() const;

  std::string model_path_, state_path_;
  SpamModel& spam_model_;
  log::Logger log_;
  dmarc::OrgDomains orgs_;
  mutable std::mutex learn_mu_;  // guards shared_ and clock_
  filter::SharedLearning shared_;
  std::function<std::int64_t()> clock_;
  std::map<std::int64_t, std::int64_t> capped_logged_;  // account -> the day its cap was logged
  std::mutex mu_;  // guards the queue and the flags below
  std::condition_variable cv_, idle_;
  std::deque<filter::Example> jobs_;
  bool busy_ = false, stop_ = false;
  bool unpublished_ = false, unsaved_ = false;
  std::uint64_t flush_wanted_ = 0, flush_done_ = 0;
  std::thread thread_;
};

}  // namespace mk::inbound
