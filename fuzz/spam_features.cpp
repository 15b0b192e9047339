// Fuzzes the spam classifier's feature extraction (header words, HTML reduction, links,
// MIME structure), scoring and the verdict's rules: no crash, each feature once, finite scores.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "filter/features.hpp"
#include "filter/model.hpp"
#include "filter/verdict.hpp"
#include "message/parsed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Trained a little, so that verdicts run the classifier too.
  static const mk::filter::Model model = [] {
    mk::filter::Model m(12);
    m.learn({1, 2, 3}, true);
    m.learn({4, 5, 6}, false);
    return m;
  }();
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  const auto f = mk::filter::extract_features(msg);
  auto sorted = f;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) std::abort();  // each feature once
  if (!std::isfinite(model.score(f))) std::abort();
  // The whole verdict: rules (GTUBE, the phishing scanners; the look-alike, impersonation
  // and thread rules against known domains, whose Punycode the From: domain may carry) and
  // the header.
  mk::filter::Inputs in;
  in.model = &model;
  in.own_domains = std::make_shared<const mk::filter::KnownDomains>(
      std::vector<std::string>{"ourcompany.example"});
  in.known_domains = std::make_shared<const mk::filter::KnownDomains>(
      std::vector<std::string>{"partner.example", "xn--pypal-4ve.example"});
  in.namesakes = {"alice@partner.example"};
  in.thread_found = true;
  (void)mk::filter::add_thread_participants(msg, in.thread_participants);
  const mk::message::Parsed parsed{std::string(msg)};
  mk::filter::MessageAnalysis analysis(parsed);
  const auto v = mk::filter::judge(parsed, in, &analysis);
  if (!std::isfinite(v.score) || v.header().find("X-Mailkeep-Spam: ") != 0) std::abort();
  // Another recipient, without the thread, judged with the same analysis: as if alone.
  mk::filter::Inputs other = in;
  other.thread_found = false;
  if (mk::filter::judge(parsed, other, &analysis).summary() != mk::filter::judge(parsed, other).summary()) std::abort();
  // What verdicts score is what the model learns from.
  if (analysis.features() != mk::filter::classifier_features(parsed)) std::abort();
  // The phishing warning keeps the original body byte for byte.
  const std::string warned = mk::filter::warn_phishing(msg, v.signals);
  const auto split = msg.find("\r\n\r\n");
  if (split != std::string_view::npos && msg.find("\n\n") > split &&
      warned.find(msg.substr(split + 4)) == std::string::npos)
    std::abort();
  return 0;
}
