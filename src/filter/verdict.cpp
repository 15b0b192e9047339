#include "filter/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "filter/features.hpp"
#include "message/parsed.hpp"

namespace mk::filter {

std::string_view action_name(Action a) {
  switch (a) {
    case Action::deliver: return "no";
    case Action::tag: return "yes";
    case Action::junk: return "junk";
    case Action::reject: return "reject";
  }
  return "no";
}

std::optional<Thresholds> parse_thresholds(std::string_view text) {
  double v[3];
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (n == 3) return std::nullopt;
    const std::string word(text.substr(i, j - i));
    char* end = nullptr;
    v[n] = std::strtod(word.c_str(), &end);
    if (end != word.c_str() + word.size() || !std::isfinite(v[n]) || v[n] < -100 || v[n] > 1000) return std::nullopt;
    ++n;
    i = j;
  }
  if (n != 3 || !(v[0] <= v[1] && v[1] <= v[2])) return std::nullopt;
  return Thresholds{v[0], v[1], v[2]};
}

std::string format_thresholds(const Thresholds& t) { return fmt::format("{} {} {}", t.tag, t.junk, t.reject); }

Verdict judge(std::string_view message, const Inputs& in) { return judge(message::Parsed(std::string(message)), in); }

namespace {

void add_rule_features(const std::vector<Signal>& rules, std::vector<std::uint32_t>& features) {
  for (const auto& s : rules) features.push_back(rule_feature(s.name));
}

}  // namespace

double hand_rule_weight(const Model* model) {
  if (!model || !model->knows_rules()) return 1;
  const double learnt = double(std::min(model->spam_trained(), model->ham_trained()));
  return 1 - (1 - kRuleWeightLearnt) * std::min(1.0, learnt / kRulesLearntAfter);
}

const std::vector<Signal>& MessageAnalysis::rules(bool thread_found) {
  auto& r = rules_[thread_found ? 1 : 0];
  if (!r) {
    r.emplace();
    header_rules(msg_.mime(), msg_.authors().mailboxes, *r);
    forgery_rules(msg_, *r);
    content_rules(msg_, thread_found, *r);
  }
  return *r;
}

const std::vector<std::uint32_t>& MessageAnalysis::features() {
  if (!features_) {
    features_ = extract_features(msg_.text(), msg_.mime());
    add_rule_features(rules(false), *features_);
  }
  return *features_;
}

std::vector<std::uint32_t> classifier_features(const message::Parsed& msg) { return MessageAnalysis(msg).features(); }

Verdict judge(const message::Parsed& msg, const Inputs& in, MessageAnalysis* analysis) {
  Verdict v;
  const std::string_view message = msg.text();
  const message::Part& root = msg.mime();
  const auto& from = msg.authors().mailboxes;
  gtube_rule(message, v.signals);
  std::optional<MessageAnalysis> own;
  if (!analysis || &analysis->message() != &msg) analysis = &own.emplace(msg);
  const std::vector<Signal>& heuristics = analysis->rules(in.thread_found);
  const auto trained = [](const Model* m) { return m && (m->spam_trained() > 0 || m->ham_trained() > 0); };
  const bool classify = trained(in.model) || trained(in.user_model);
  // The header and content rules are the classifier's features too: once the global model
  // has learnt enough of both kinds, most of what a rule is worth is what it learnt (on this
  // server's mail) and its hand-set score fades to a quarter; counting both in full counts
  // the same evidence twice (bench/spam: rules + classifier junked 14x the ham the
  // classifier did).
  const double weight = classify ? std::clamp(in.rule_weight, 0.0, 1.0) : 1;
  for (const auto& s : heuristics) {
    v.signals.push_back(s);
    if (weight < 1) {
      v.signals.back().score *= weight;
      v.signals.back().why += weight > 0 ? fmt::format(" (counted {:.0f}%, the classifier weighs the rest)", 100 * weight)
                                         : " (weighed by the classifier)";
    }
  }
  phishing_rules(message, root, from, in, v.signals);
  impersonation_rules(root, from, in, !msg.links().empty(), in.thread_found && payment_talk(msg), v.signals);
  if (classify) {
    // The classifier's log-odds (the global model plus the user's corrections), bounded so
    // that it cannot outvote every rule by itself.
    // The features the model learnt from know no thread (classifier_features): the same for
    // a reply to a thread the recipient has, whose rules fire differently.
    const std::vector<std::uint32_t>& features = analysis->features();
    double raw = 0;
    if (trained(in.model)) raw += in.model->score(features);
    if (trained(in.user_model)) raw += in.user_model->score(features);
    const double s = std::clamp(raw, -10.0, 10.0);
    v.signals.push_back({"CLASSIFIER", s, fmt::format("statistical text classifier: {:.0f}% spam",
                                                      100 * Model::probability(s))});
  }
  if (in.auth) auth_rules(*in.auth, v.signals);
  reputation_rules(in, v.signals);
  v.signals.insert(v.signals.end(), in.extra.begin(), in.extra.end());
  for (const auto& s : v.signals) v.score += s.score;
  const auto& t = in.thresholds;
  v.action = v.score >= t.reject ? Action::reject
             : v.score >= t.junk ? Action::junk
             : v.score >= t.tag  ? Action::tag
                                 : Action::deliver;
  return v;
}

std::string Verdict::summary() const {
  std::string out;
  for (const auto& s : signals) out += fmt::format("{}{}={:.2f}", out.empty() ? "" : " ", s.name, s.score);
  return out;
}

std::string Verdict::header() const {
  std::string out = fmt::format("X-Mailkeep-Spam: {}; score={:.2f}", action_name(action), score);
  std::size_t line = out.size();
  for (const auto& s : signals) {
    const std::string word = fmt::format(" {}={:.2f}", s.name, s.score);
    if (line + word.size() > 76) {
      out += "\r\n\t";
      line = 8;
    }
    out += word;
    line += word.size();
  }
  return out + "\r\n";
}

}  // namespace mk::filter
