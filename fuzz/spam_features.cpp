// Fuzzes the spam classifier's feature extraction (header words, HTML reduction, links,
// MIME structure) and scoring: no crash, sorted unique features, a finite score.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filter/features.hpp"
#include "filter/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mk::filter::Model model(12);
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  const auto f = mk::filter::extract_features(msg);
  if (std::adjacent_find(f.begin(), f.end(), [](auto a, auto b) { return a >= b; }) != f.end()) std::abort();
  if (!std::isfinite(model.score(f))) std::abort();
  return 0;
}
