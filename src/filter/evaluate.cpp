#include "filter/evaluate.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace mk::filter {

Evaluation evaluate(const std::vector<double>& spam_scores, const std::vector<double>& ham_scores, double threshold,
                    double fp_bound_percent) {
  Evaluation e;
  e.spam = spam_scores.size();
  e.ham = ham_scores.size();
  for (double s : ham_scores) e.false_positives += s > threshold;
  for (double s : spam_scores) e.false_negatives += s <= threshold;
  if (e.ham) e.fp_percent = 100.0 * double(e.false_positives) / double(e.ham);
  if (e.spam) e.fn_percent = 100.0 * double(e.false_negatives) / double(e.spam);
  if (e.spam == 0 || e.ham == 0) return e;
  // ROC area = P(a random spam scores above a random ham), ties counting half
  // (Mann-Whitney), from the ranks of all scores sorted together.
  std::vector<std::pair<double, bool>> all;
  all.reserve(e.spam + e.ham);
  for (double s : spam_scores) all.emplace_back(s, true);
  for (double s : ham_scores) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double spam_rank_sum = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    std::size_t spam_here = 0;
    while (j < all.size() && all[j].first == all[i].first) spam_here += all[j++].second;
    const double mid_rank = (double(i) + double(j - 1)) / 2.0 + 1.0;  // 1-based average rank of the tie
    spam_rank_sum += mid_rank * double(spam_here);
    i = j;
  }
  const double ns = double(e.spam), nh = double(e.ham);
  const double auc = (spam_rank_sum - ns * (ns + 1) / 2.0) / (ns * nh);
  e.one_minus_roca_percent = 100.0 * (1.0 - auc);
  // The lowest threshold that lets at most fp_bound_percent of ham through: the k+1-th
  // highest ham score, with k the ham allowed above it.
  std::vector<double> ham = ham_scores;
  std::sort(ham.begin(), ham.end(), std::greater<>());
  const auto allowed = std::size_t(double(e.ham) * fp_bound_percent / 100.0);
  e.threshold_at_fp_bound = ham[std::min(allowed, ham.size() - 1)];
  std::size_t missed = 0;
  for (double s : spam_scores) missed += s <= e.threshold_at_fp_bound;
  e.fn_percent_at_fp_bound = 100.0 * double(missed) / ns;
  return e;
}

}  // namespace mk::filter
