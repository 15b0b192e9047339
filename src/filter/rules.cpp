// The fixed rules: GTUBE and what sender authentication found. Scores are log-odds
// (filter/verdict.hpp): SPF and DMARC failures are weak evidence on their own (forwarding
// breaks SPF; many lists break DKIM), so together they tag a message (2.5) but never send
// it to Junk (3) without other evidence; an aligned DKIM signature is weak evidence of ham
// (spammers sign too, but with their own domains, and then the author is accountable).
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "filter/verdict.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"

namespace mk::filter {

// GTUBE, the Generic Test for Unsolicited Bulk Email (SpamAssassin): a message carrying it
// is spam by definition, so that a filter can be tested end to end.
void gtube_rule(std::string_view message, std::vector<Signal>& out) {
  static constexpr std::string_view kGtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
  if (message.find(kGtube) != std::string_view::npos)
    out.push_back({"GTUBE", 100, "the GTUBE test string (a message that must be treated as spam)"});
}

namespace {

// Whether a Date: field's numeric zone is one no clock on Earth uses: zones run from -1200 to
// +1400 in quarter hours. Named zones ("GMT", "EST") and a missing zone are not judged.
// Returns the zone when it is impossible.
std::optional<std::string> impossible_zone(std::string_view date) {
  const std::string s = message::strip_comments(date);
  const std::string_view t = trim(s);
  const auto sp = t.find_last_of(" \t");
  const std::string_view zone = sp == std::string_view::npos ? t : t.substr(sp + 1);
  if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  if (!std::all_of(zone.begin() + 1, zone.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  const int hours = (zone[1] - '0') * 10 + (zone[2] - '0'), minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
  const int offset = hours * 60 + minutes;
  if (minutes % 15 != 0 || minutes >= 60 || offset > (zone[0] == '-' ? 12 * 60 : 14 * 60)) return std::string(zone);
  return std::nullopt;
}

}  // namespace

// Header heuristics: how bulk-mail software gives itself away. Each was measured on
// bench/spam's training split (spam / easy ham / hard ham: spam-1, easy-ham-1 and the first
// half of hard-ham-1; the test split is not read) and kept only if ham almost never shows
// it; the classifier weighs the rest (HTML-only mail, "click here", big fonts and removal
// instructions are as common in wanted newsletters as in spam).
void header_rules(const message::Part& root, const std::vector<message::Address>& from, std::vector<Signal>& out) {
  if (const auto subject = message::header_value_as_read(root.headers, "Subject")) {
    const std::string s = message::decode_words(*subject);
    // "Great offer       7893vBvF1-278ZKCc8-17": 6.0% / 0% / 0% (a long subject folded with
    // an indent was 0.2% of easy ham until folds were read as one space).
    const auto last_space = s.find_last_of(" \t");
    if (last_space != std::string::npos && last_space >= 2 && s.compare(last_space - 2, 2, "  ") == 0 &&
        s.find_first_of("0123456789", last_space) != std::string::npos)
      out.push_back({"SUBJECT_TRACKING_CODE", 1, "the subject ends in a tracking code set off by spaces"});
    std::size_t letters = 0, upper = 0;
    for (unsigned char c : s) {
      letters += std::isalpha(c) != 0;
      upper += std::isupper(c) != 0;
    }
    // 11.8% / 0% / 0%.
    if (letters >= 10 && upper * 10 >= letters * 9) out.push_back({"SUBJECT_SHOUTING", 1, "the subject is in capitals"});
  }
  // 3.8% / 0.04% / 0%.
  const auto to = message::header_value(root.headers, "To");
  // (Without any To: field it is ham's habit: 5.8% of ham, no spam.)
  if (to && (trim(*to).empty() || istarts_with(trim(*to), "undisclosed")))
    out.push_back({"RECIPIENTS_HIDDEN", 0.5, "an empty or \"undisclosed recipients\" To: (sent to a hidden list)"});
  // "Thu, 26 Sep 2002 19:11:11 -1600": software that works out its own time zone and gets
  // it wrong; no mail program a person uses writes one. 14.2% / 0% / 0%.
  if (const auto date = message::header_value(root.headers, "Date"))
    if (const auto zone = impossible_zone(*date))
      out.push_back({"DATE_IMPOSSIBLE_ZONE", 1.5, fmt::format("the Date: field's time zone {} is on no clock", *zone)});
  // Ten or more addresses at five or more domains shown in To: and Cc:, strangers to each
  // other: a harvested list sent in batches. 8.4% / 0% / 0%. (A person's mail to many people
  // at one or two organisations, or a list's, shows fewer domains.)
  // Distinct addresses only (a group's markers and the pieces of an unquoted "Last, First"
  // name are no address), from the first kMaxShown entries of all the fields.
  constexpr std::size_t kMaxShown = 100;
  std::vector<std::string> shown, domains;
  std::size_t read = 0;
  for (const auto& f : root.headers) {
    if (read >= kMaxShown) break;
    if (!iequals(f.name, "To") && !iequals(f.name, "Cc")) continue;
    const auto entries = message::parse_address_list(f.value, kMaxShown - read);
    read += std::max<std::size_t>(entries.size(), 1);
    for (const auto& a : entries) {
      if (a.local.empty() || a.domain.empty()) continue;
      std::string domain = to_lower(a.domain), address = to_lower(a.local) + "@" + domain;
      if (std::find(shown.begin(), shown.end(), address) != shown.end()) continue;
      shown.push_back(std::move(address));
      if (std::find(domains.begin(), domains.end(), domain) == domains.end()) domains.push_back(std::move(domain));
    }
  }
  if (shown.size() >= 10 && domains.size() >= 5)
    out.push_back({"RECIPIENTS_EXPOSED", 1,
                   fmt::format("{} recipients at {} domains shown to each other", shown.size(), domains.size())});
  // "rdc7y767@...": 12.8% / 0.5% / 0.8%.
  if (from.size() == 1) {
    const std::string& l = from[0].local;
    std::size_t digits = 0;
    while (digits < l.size() && std::isdigit(static_cast<unsigned char>(l[l.size() - 1 - digits]))) ++digits;
    if (digits >= 3 && digits < l.size() && std::isalpha(static_cast<unsigned char>(l[l.size() - 1 - digits])))
      out.push_back({"FROM_GENERATED", 0.5, fmt::format("the sender's address {} looks generated", l + "@" + from[0].domain)});
  }
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
    if (in.known_domains && in.known_domains->contains(reg))
      out.push_back({"KNOWN_DOMAIN", -1.5, fmt::format("the recipient writes to people at {} (authenticated by DMARC)", reg)});
  }
}

}  // namespace mk::filter
