// The fixed rules: GTUBE and what sender authentication found. Scores are log-odds
// (filter/verdict.hpp): SPF and DMARC failures are weak evidence on their own (forwarding
// breaks SPF; many lists break DKIM), so together they tag a message (2.5) but never send
// it to Junk (3) without other evidence; an aligned DKIM signature is weak evidence of ham
// (spammers sign too, but with their own domains, and then the author is accountable).
#include <algorithm>

#include <fmt/format.h>

#include "filter/verdict.hpp"

namespace mk::filter {

// GTUBE, the Generic Test for Unsolicited Bulk Email (SpamAssassin): a message carrying it
// is spam by definition, so that a filter can be tested end to end.
void gtube_rule(std::string_view message, std::vector<Signal>& out) {
  static constexpr std::string_view kGtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
  if (message.find(kGtube) != std::string_view::npos)
    out.push_back({"GTUBE", 100, "the GTUBE test string (a message that must be treated as spam)"});
}

void auth_rules(const mailauth::Assessment& a, std::vector<Signal>& out) {
  switch (a.spf.result) {
    case spf::Outcome::fail:
      out.push_back({"SPF_FAIL", 1, fmt::format("SPF fail for {}", a.spf.domain)});
      break;
    case spf::Outcome::softfail:
      out.push_back({"SPF_SOFTFAIL", 0.5, fmt::format("SPF softfail for {}", a.spf.domain)});
      break;
    default:
      break;
  }
  if (a.dmarc.result == dmarc::Outcome::fail)
    out.push_back({"DMARC_FAIL", 1, fmt::format("DMARC fail for {} (policy {})", a.dmarc.from_domain,
                                                 dmarc::policy_name(a.dmarc.policy))});
  if (a.dmarc.dkim_aligned)
    out.push_back({"DKIM_ALIGNED", -1, fmt::format("valid DKIM signature of the author domain {}",
                                                   a.dmarc.dkim_domain)});
  if (a.iprev != mailauth::Iprev::pass && a.iprev != mailauth::Iprev::temperror)
    out.push_back({"NO_RDNS", 0.5, "the sending host has no forward-confirmed reverse DNS"});
}

// Mail from someone the user writes to is rarely spam; the author must be authenticated
// (DMARC pass), or a forged From: of a known contact (phishing) would earn the bonus.
void reputation_rules(const Inputs& in, std::vector<Signal>& out) {
  if (!in.known_sender.empty())
    out.push_back({"KNOWN_SENDER", -3, fmt::format("the recipient has written to {} (authenticated by DMARC)",
                                                   in.known_sender)});
  // What the recipient taught about this author. Rescues count only for an authenticated
  // author (anyone can put a rescued sender's address in From:).
  if (in.author_junked > in.author_rescued)
    out.push_back({"SENDER_JUNKED", 2, fmt::format("the recipient moved {} message(s) from this sender to Junk",
                                                   in.author_junked)});
  else if (in.author_rescued > in.author_junked && !in.authenticated_domain.empty())
    out.push_back({"SENDER_RESCUED", -2, fmt::format("the recipient moved {} message(s) from this sender out of Junk",
                                                     in.author_rescued)});
  // Someone new at an organisation the recipient writes to: weaker, a domain is many people.
  const std::string& d = in.authenticated_domain;
  if (in.known_sender.empty() && !d.empty()) {
    const std::string reg = in.orgs ? in.orgs->organizational(d) : d;
    if (std::find(in.known_domains.begin(), in.known_domains.end(), reg) != in.known_domains.end())
      out.push_back({"KNOWN_DOMAIN", -1.5, fmt::format("the recipient writes to people at {} (authenticated by DMARC)", reg)});
  }
}

}  // namespace mk::filter
