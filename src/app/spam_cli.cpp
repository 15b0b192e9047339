// mailkeep spam train|eval: bulk training of the global spam model, and measuring the
// classifier on a labelled corpus (filter/).
//
// One writer per model file: `spam train` alone writes DATA/spam.model (adding to it, never
// replacing what it learned before); the running server alone writes DATA/spam-learned.model,
// what it learnt from its users and trusted mail as a correction over spam.model
// (filter/learning.hpp). Verdicts use their sum, so bulk training while the server runs loses
// nothing on either side: the server re-reads spam.model and keeps its own correction.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "app/app.hpp"
#include "base/read_file.hpp"
#include "filter/evaluate.hpp"
#include "filter/features.hpp"
#include "filter/model.hpp"
#include "filter/verdict.hpp"
#include "message/parsed.hpp"

namespace mk::app {
namespace {

namespace fs = std::filesystem;

// The message files of the directories (every regular file, recursively, sorted by path).
Result<std::vector<std::string>> files_in(const std::vector<std::string>& dirs) {
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) return err(fmt::format("{}: not a directory of message files", d));
    for (auto it = fs::recursive_directory_iterator(d, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file() && !it->path().filename().string().starts_with(".")) out.push_back(it->path());
    if (ec) return err(fmt::format("{}: {}", d, ec.message()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

constexpr std::size_t kMaxMessageFile = 64 << 20;

constexpr int kFirstEpochs = 3;  // a first training; more training adds one pass

Result<std::size_t> load_labelled(const std::vector<std::string>& dirs, bool spam, std::vector<filter::Labelled>& out) {
  auto files = files_in(dirs);
  if (!files) return files.error();
  for (const auto& f : *files) {
    auto text = read_file(f, kMaxMessageFile);
    if (!text) return text.error();
    out.push_back({filter::classifier_features(message::Parsed(std::move(*text))), spam});
  }
  return files->size();
}

}  // namespace

std::string spam_model_path(const std::string& data_dir) { return data_dir + "/spam.model"; }
std::string spam_learned_model_path(const std::string& data_dir) { return data_dir + "/spam-learned.model"; }
std::string spam_learning_state_path(const std::string& data_dir) { return data_dir + "/spam/learning.state"; }

int cmd_spam_train(const std::string& config_path, const std::vector<std::string>& spam,
                   const std::vector<std::string>& ham) {
  if (spam.empty() && ham.empty()) return fail(err("give --spam DIR and/or --ham DIR"), kExitUsage);
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  const std::string path = spam_model_path(o.config.data_dir);
  // Adds to the model there is; a first training makes several passes, later ones one.
  filter::Model model;
  const bool existing = fs::exists(path);
  if (existing) {
    auto m = filter::Model::load(path);
    if (!m) return fail(m.error());
    model = std::move(*m);
  }
  std::vector<filter::Labelled> set;
  auto ns = load_labelled(spam, true, set);
  if (!ns) return fail(ns.error(), kExitUsage);
  auto nh = load_labelled(ham, false, set);
  if (!nh) return fail(nh.error(), kExitUsage);
  filter::train(model, set, existing ? 1 : kFirstEpochs);
  if (auto st = model.save(path); !st) return fail(st.error());
  std::printf("trained on %zu spam and %zu ham; the model (%s) has learned %llu spam and %llu ham in all\n", *ns, *nh,
              path.c_str(), static_cast<unsigned long long>(model.spam_trained()),
              static_cast<unsigned long long>(model.ham_trained()));
  return kExitOk;
}

int cmd_spam_eval(const SpamEvalOptions& o) {
  using Clock = std::chrono::steady_clock;
  std::vector<filter::Labelled> train_set;
  const auto t0 = Clock::now();
  auto ns = load_labelled(o.train_spam, true, train_set);
  if (!ns) return fail(ns.error(), kExitUsage);
  auto nh = load_labelled(o.train_ham, false, train_set);
  if (!nh) return fail(nh.error(), kExitUsage);
  if (!o.rules && train_set.empty()) return fail(err("give --train-spam and --train-ham (or --rules)"), kExitUsage);
  filter::Model model;
  filter::train(model, train_set, kFirstEpochs);
  filter::Inputs chain;  // --rules: what a message's verdict knows offline
  chain.model = &model;
  chain.rule_weight = filter::hand_rule_weight(&model);
  const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<double> spam_scores, ham_scores;
  double classify_s = 0;
  for (const auto& [dirs, spam] : {std::pair{o.test_spam, true}, std::pair{o.test_ham, false}}) {
    auto files = files_in(dirs);
    if (!files) return fail(files.error(), kExitUsage);
    for (const auto& f : *files) {
      // Timed per message: reading the file, extracting the features, scoring.
      const auto start = Clock::now();
      auto text = read_file(f, kMaxMessageFile);
      if (!text) return fail(text.error());
      std::string signals;
      double s = 0;
      if (o.rules) {
        const auto v = filter::judge(message::Parsed(std::move(*text)), chain);
        s = v.score;
        if (o.verbose) signals = " " + v.summary();
      } else {
        s = model.score(filter::classifier_features(message::Parsed(std::move(*text))));
      }
      classify_s += std::chrono::duration<double>(Clock::now() - start).count();
      (spam ? spam_scores : ham_scores).push_back(s);
      if (o.verbose) std::printf("%s %s %.4f%s\n", spam ? "spam" : "ham", f.c_str(), s, signals.c_str());
    }
  }
  if (spam_scores.empty() || ham_scores.empty()) return fail(err("the test set needs spam and ham"), kExitUsage);
  const auto e = filter::evaluate(spam_scores, ham_scores, o.threshold);
  const std::size_t tested = e.spam + e.ham;
  std::printf("trained on %zu spam and %zu ham in %.1f s\n", *ns, *nh, train_s);
  std::printf("tested on %zu spam and %zu ham\n", e.spam, e.ham);
  std::printf("threshold %.2f: false positives %zu (%.2f%% of ham), false negatives %zu (%.2f%% of spam)\n",
              o.threshold, e.false_positives, e.fp_percent, e.false_negatives, e.fn_percent);
  std::printf("1-ROCA%%: %.4f\n", e.one_minus_roca_percent);
  std::printf("false negatives at <= 0.1%% false positives: %.2f%% (threshold %.2f)\n", e.fn_percent_at_fp_bound,
              e.threshold_at_fp_bound);
  std::printf("classification: %.0f messages/second (%zu messages in %.2f s, one thread)\n",
              double(tested) / classify_s, tested, classify_s);
  return kExitOk;
}

}  // namespace mk::app
