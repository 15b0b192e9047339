// check/finding.hpp: one result of `mailkeep check`, and its two written forms.
//
// Every check (DNS records, DNSSEC, reverse DNS, DNS block lists, the TLS chain of each
// listener, MTA-STS, open relay, AUTH before TLS) reports what it looked at as findings: a
// pass, a failure with its problem and its fix, or "could not check" (the answer needed was
// not obtained after retries, so nothing is claimed either way) with what to do about it.
// Text: one line per finding; JSON: one object with every finding, for scripts.
// SECURITY: the texts quote what the DNS and remote servers said; the text form replaces
// control characters (log_safe) so a hostile answer cannot rewrite the terminal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mk::check {

enum class Outcome { ok, fail, unknown };  // unknown: could not check
std::string_view outcome_name(Outcome o);  // "ok", "fail", "unknown"

struct Finding {
  std::string check;    // which check: "records", "dnssec", "fcrdns", "dnsbl", "tls", "mta-sts", "relay", "auth"
  std::string subject;  // what was looked at: "check.example TXT (SPF)", "smtp 192.0.2.1:25"
  Outcome outcome = Outcome::ok;
  std::string problem;  // empty when ok
  std::string fix;      // empty when ok

  static Finding pass(std::string check, std::string subject) {
    return Finding{std::move(check), std::move(subject), Outcome::ok, {}, {}};
  }
  static Finding failed(std::string check, std::string subject, std::string problem, std::string fix) {
    return Finding{std::move(check), std::move(subject), Outcome::fail, std::move(problem), std::move(fix)};
  }
  static Finding unknown(std::string check, std::string subject, std::string problem, std::string fix) {
    return Finding{std::move(check), std::move(subject), Outcome::unknown, std::move(problem), std::move(fix)};
  }
  bool ok() const { return outcome == Outcome::ok; }
};

// "ok   SUBJECT", "FAIL SUBJECT: PROBLEM — fix: FIX" or "?    SUBJECT: could not check: PROBLEM
// — fix: FIX": one line, control characters replaced.
std::string render_line(const Finding& f);
// Every finding's line, in order, each ended by "\n".
std::string render_text(const std::vector<Finding>& findings);
// {"ok": bool, "findings": [{"check", "subject", "outcome", "problem", "fix"}, ...]}
std::string render_json(const std::vector<Finding>& findings);

// PRODUCT.md: 0 only when every finding passed, else 1.
int exit_code(const std::vector<Finding>& findings);

}  // namespace mk::check
