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

Verdict judge(const message::Parsed& msg, const Inputs& in) {
  Verdict v;
  const std::string_view message = msg.text();
  const message::Part& root = msg.mime();
  const auto& from = msg.authors().mailboxes;
  gtube_rule(message, v.signals);
  header_rules(root, from, v.signals);
  content_rules(msg, in.thread_found, v.signals);
  phishing_rules(message, root, from, in, v.signals);
  impersonation_rules(root, from, in, !msg.links().empty(), in.thread_found && payment_talk(msg), v.signals);
  const auto trained = [](const Model* m) { return m && (m->spam_trained() > 0 || m->ham_trained() > 0); };
  if (trained(in.model) || trained(in.user_model)) {
    // The classifier's log-odds (the global model plus the user's corrections), bounded so
    // that it cannot outvote every rule by itself.
    const auto features = extract_features(message, root);
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
