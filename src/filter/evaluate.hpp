// filter/evaluate.hpp: how well a classifier separates spam from ham, in the measures the
// spam-filtering literature uses (TREC spam track): false positive and false negative rates
// at a threshold, 1-ROCA% (the area above the ROC curve, in percent: 0 is perfect and
// threshold-free), and the false negative rate at the best threshold whose false positive
// rate stays within a bound.
#pragma once

#include <cstddef>
#include <vector>

namespace mk::filter {

struct Evaluation {
  std::size_t spam = 0, ham = 0;
  std::size_t false_positives = 0;  // ham scored above the threshold
  std::size_t false_negatives = 0;  // spam scored at or below it
  double fp_percent = 0, fn_percent = 0;
  double one_minus_roca_percent = 0;
  double fn_percent_at_fp_bound = 0;  // the bound is evaluate()'s fp_bound_percent
  double threshold_at_fp_bound = 0;
};

// Scores: higher means more likely spam.
Evaluation evaluate(const std::vector<double>& spam_scores, const std::vector<double>& ham_scores, double threshold,
                    double fp_bound_percent = 0.1);

}  // namespace mk::filter
