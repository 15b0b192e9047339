// filter/model.hpp: the statistical text classifier: logistic regression over the hashed
// binary features of filter/features.hpp, learned online.
//
// Why this model: on spam benchmarks (TREC 2005-2007) online logistic regression over
// binary token features is as accurate as the best Bayesian and Markovian filters, its
// score is a calibrated log-odds that adds to the other signals' scores, and learning from
// one message (a user moving it into or out of Junk) is a few cheap gradient steps.
// Features are folded into a table of 2^bits weights (the hashing trick); each present
// feature has the value n^-1/4 (n: the message's feature count), so long messages do not
// drown short ones and short ones do not drown long ones (see norm() in model.cpp).
//
// File format: "MKSPAM01", u32 bits, u32 reserved, u64 messages trained (spam, ham), f32
// bias, then 2^bits f32 weights, little-endian; written to a temporary file, fsynced and
// renamed into place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace mk::filter {

class Model {
 public:
  static constexpr unsigned kDefaultBits = 22;  // 4M weights, 16 MiB
  explicit Model(unsigned bits = kDefaultBits);

  // Log-odds that the message is spam (> 0: more likely spam than not).
  double score(const std::vector<std::uint32_t>& features) const;
  static double probability(double score);

  // One gradient step towards the right answer, at learning rate `rate`. `offset`: a score
  // another model adds to this one's (see learn_over).
  void step(const std::vector<std::uint32_t>& features, bool spam, double rate, double offset = 0);
  // Learns one message the way a user's correction is learned: steps until the model
  // agrees with a margin (|score| >= kMargin on the right side), at most kMaxSteps.
  // `count`: add it to the trained totals (not on a further pass over the same messages).
  void learn(const std::vector<std::uint32_t>& features, bool spam, bool count = true);
  // A per-user model is a correction to the global one: the message's score is
  // base.score() + score(), and learning steps this model until that sum agrees.
  void learn_over(const Model& base, const std::vector<std::uint32_t>& features, bool spam);
  static constexpr unsigned kUserBits = 18;  // 256K weights, 1 MiB per user
  static constexpr double kRate = 0.5;
  static constexpr double kMargin = 2.0;
  static constexpr int kMaxSteps = 8;

  std::uint64_t spam_trained() const { return spam_; }
  std::uint64_t ham_trained() const { return ham_; }
  unsigned bits() const { return bits_; }

  Status save(const std::string& path) const;
  static Result<Model> load(const std::string& path);

 private:
  std::uint32_t slot(std::uint32_t feature) const { return feature & mask_; }
  unsigned bits_;
  std::uint32_t mask_;
  std::vector<float> w_;
  float bias_ = 0;
  std::uint64_t spam_ = 0, ham_ = 0;
};

}  // namespace mk::filter
