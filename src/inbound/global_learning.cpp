#include "inbound/global_learning.hpp"

#include <sys/stat.h>

#include <chrono>
#include <exception>
#include <ctime>
#include <filesystem>

#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/write_file.hpp"
#include "inbound/spam_filter.hpp"

namespace mk::inbound {

namespace {

constexpr std::size_t kMaxStateBytes = 4 << 20;
constexpr std::int64_t kDay = 86400;

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

GlobalLearner::GlobalLearner(std::string model_path, std::string state_path, SpamModel& model, log::Logger log,
                             filter::LearningCaps caps)
    : model_path_(std::move(model_path)), state_path_(std::move(state_path)), spam_model_(model),
      log_(std::move(log)), shared_(filter::Model(filter::kSharedBits), filter::LearningBudget(caps)) {
  filter::Model learned(filter::kSharedBits);
  if (exists(model_path_)) {
    if (auto m = filter::Model::load(model_path_)) {
      learned = std::move(*m);
    } else {
      // Not fatal: the server learns again from nothing, and the file is replaced at the next save.
      log_.error("filter.shared_model_unreadable", {{"error", m.error().message}});
    }
  }
  filter::LearningBudget budget(caps);
  if (exists(state_path_)) {
    auto text = read_file(state_path_, kMaxStateBytes);
    auto parsed = text ? filter::LearningBudget::parse(*text, caps) : std::nullopt;
    if (parsed) budget = std::move(*parsed);
    else log_.warn("filter.shared_state_unreadable", {{"path", state_path_}, {"hint", "today's learning caps start afresh"}});
  }
  shared_ = filter::SharedLearning(learned, std::move(budget));
  spam_model_.set_learned(std::make_shared<const filter::Model>(std::move(learned)));
  thread_ = std::thread([this] { run(); });
}

GlobalLearner::~GlobalLearner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string GlobalLearner::author_domain(std::string_view address) const {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return orgs_.organizational(to_lower(address.substr(at + 1)));
}

std::int64_t GlobalLearner::wall_now() const { return clock_ ? clock_() : std::int64_t(std::time(nullptr)); }

void GlobalLearner::set_clock(std::function<std::int64_t()> now) {
  std::lock_guard lock(learn_mu_);
  clock_ = std::move(now);
}

bool GlobalLearner::would_admit(const filter::Example& ex) const {
  std::lock_guard lock(learn_mu_);
  return shared_.would_admit(ex, wall_now());
}

bool GlobalLearner::offer(filter::Example ex) {
  {
    std::lock_guard lock(mu_);
    if (jobs_.size() >= kMaxQueue) {
      log_.warn("filter.shared_queue_full", {{"account_id", ex.account_id}, {"dropped", filter::evidence_name(ex.evidence)}});
      return false;
    }
    jobs_.push_back(std::move(ex));
  }
  cv_.notify_one();
  return true;
}

void GlobalLearner::drain() {
  std::unique_lock lock(mu_);
  const std::uint64_t wanted = ++flush_wanted_;
  cv_.notify_one();
  idle_.wait(lock, [&] { return flush_done_ >= wanted; });
}

filter::Model GlobalLearner::snapshot() const {
  std::lock_guard lock(learn_mu_);
  return shared_.model();
}

void GlobalLearner::learn(const filter::Example& ex) {
  std::vector<log::Field> fields{{"account_id", ex.account_id},
                                 {"as", ex.spam ? "spam" : "ham"},
                                 {"evidence", filter::evidence_name(ex.evidence)},
                                 {"domain", ex.domain}};
  // spam.model as it is now: what is learnt is a correction to it.
  const auto base = spam_model_.base();
  filter::SharedLearning::Outcome outcome;
  {
    std::lock_guard lock(learn_mu_);
    const std::int64_t now = wall_now();
    outcome = shared_.learn(base.get(), ex, now);
    fields.emplace_back("spam", shared_.model().spam_trained());
    fields.emplace_back("ham", shared_.model().ham_trained());
    if (outcome == filter::SharedLearning::Outcome::capped) {
      // Once per account and day: the cap is working, not failing.
      auto& day = capped_logged_[ex.account_id];
      if (day == now / kDay) return;
      day = now / kDay;
    }
  }
  switch (outcome) {
    case filter::SharedLearning::Outcome::learnt:
    case filter::SharedLearning::Outcome::counted: {
      fields.emplace_back("steps", outcome == filter::SharedLearning::Outcome::learnt);
      log_.info("filter.shared_learned", std::move(fields));
      std::lock_guard lock(mu_);
      unpublished_ = unsaved_ = true;
      break;
    }
    case filter::SharedLearning::Outcome::no_information:
      log_.debug("filter.shared_agrees", std::move(fields));
      break;
    case filter::SharedLearning::Outcome::vetoed:
      log_.info("filter.shared_vetoed", std::move(fields));
      break;
    case filter::SharedLearning::Outcome::capped:
      log_.info("filter.shared_capped", std::move(fields));
      break;
  }
}

void GlobalLearner::flush(bool publish, bool save) {
  std::shared_ptr<const filter::Model> model;
  std::string state;
  {
    std::lock_guard lock(learn_mu_);
    model = std::make_shared<const filter::Model>(shared_.model());
    state = shared_.budget().serialize();
  }
  if (publish) spam_model_.set_learned(model);
  if (!save) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(state_path_).parent_path(), ec);
  Status st = model->save(model_path_);
  if (st) st = write_file_atomic(state_path_, state, 0600);
  if (!st) {
    log_.error("filter.shared_save_failed", {{"error", st.error().message}});
    std::lock_guard lock(mu_);
    unsaved_ = true;  // tried again at the next save
    return;
  }
  log_.info("filter.shared_saved", {{"path", model_path_}, {"spam", model->spam_trained()}, {"ham", model->ham_trained()},
                                    {"in_use", filter::shared_ready(*model)}});
}

void GlobalLearner::run() {
  using Clock = std::chrono::steady_clock;
  const auto publish_every = std::chrono::seconds(kPublishSeconds), save_every = std::chrono::seconds(kSaveSeconds);
  auto last_publish = Clock::now() - publish_every, last_save = Clock::now();
  std::unique_lock lock(mu_);
  for (;;) {
    if (!jobs_.empty()) {
      auto ex = std::move(jobs_.front());
      jobs_.pop_front();
      busy_ = true;
      lock.unlock();
      try {
        learn(ex);
      } catch (const std::exception& e) {  // resource exhaustion: this example is lost, learning goes on
        log_.error("filter.learn_failed", {{"error", e.what()}});
      }
      lock.lock();
      busy_ = false;
      continue;
    }
    // Nothing queued: hand over and write what is due (everything when asked to, or stopping).
    const auto now = Clock::now();
    const bool all = flush_wanted_ != flush_done_ || stop_;
    const bool publish = unpublished_ && !stop_ && (all || now - last_publish >= publish_every);
    const bool save = unsaved_ && (all || now - last_save >= save_every);
    if (publish || save) {
      const std::uint64_t wanted = flush_wanted_;
      if (publish) unpublished_ = false;
      if (save) unsaved_ = false;
      lock.unlock();
      try {
        flush(publish, save);  // a failed save is marked unsaved again, for the next save
      } catch (const std::exception& e) {
        log_.error("filter.learn_failed", {{"error", e.what()}});
      }
      lock.lock();
      if (publish) last_publish = now;
      if (save) last_save = now;
      if (all && jobs_.empty()) {
        flush_done_ = wanted;
        idle_.notify_all();
        if (stop_) return;
      }
      continue;  // examples may have come meanwhile
    }
    if (all) {
      flush_done_ = flush_wanted_;
      idle_.notify_all();
      if (stop_) return;
    }
    auto wake = [this] { return stop_ || !jobs_.empty() || flush_wanted_ != flush_done_; };
    if (unpublished_ || unsaved_) {
      auto until = Clock::time_point::max();
      if (unpublished_) until = std::min(until, last_publish + publish_every);
      if (unsaved_) until = std::min(until, last_save + save_every);
      cv_.wait_until(lock, until, wake);
    } else {
      cv_.wait(lock, wake);
    }
  }
}

}  // namespace mk::inbound
