// check/finding.cpp: the text and JSON forms of mailkeep check's findings.
#include "check/finding.hpp"

#include <boost/json.hpp>

#include "base/strings.hpp"

namespace mk::check {
namespace {

// Long enough for a DKIM key quoted in a fix; short enough that one line stays one line.
constexpr std::size_t kMaxField = 4096;

}  // namespace

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::fail: return "fail";
    case Outcome::unknown: return "unknown";
  }
  return "unknown";
}

std::string render_line(const Finding& f) {
  const std::string subject = log_safe(f.subject, kMaxField);
  switch (f.outcome) {
    case Outcome::ok: return "ok   " + subject;
    case Outcome::fail:
      return "FAIL " + subject + ": " + log_safe(f.problem, kMaxField) + " \u2014 fix: " + log_safe(f.fix, kMaxField);
    case Outcome::unknown:
      return "?    " + subject + ": could not check: " + log_safe(f.problem, kMaxField) + " \u2014 fix: " +
             log_safe(f.fix, kMaxField);
  }
  return subject;
}

std::string render_text(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += render_line(f) + "\n";
  return out;
}

std::string render_json(const std::vector<Finding>& findings) {
  boost::json::array list;
  for (const auto& f : findings) {
    boost::json::object o;
    o["check"] = f.check;
    o["subject"] = f.subject;
    o["outcome"] = outcome_name(f.outcome);
    o["problem"] = f.problem;
    o["fix"] = f.fix;
    list.emplace_back(std::move(o));
  }
  boost::json::object root;
  root["ok"] = exit_code(findings) == 0;
  root["findings"] = std::move(list);
  return boost::json::serialize(root) + "\n";
}

int exit_code(const std::vector<Finding>& findings) {
  for (const auto& f : findings)
    if (!f.ok()) return 1;
  return 0;
}

}  // namespace mk::check
