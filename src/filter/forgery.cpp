// Forgery rules: how bulk-mail software gives itself away in the fields a mail program writes
// for itself. Ratware copies the look of a popular program (Outlook's Message-ID, its
// X-MSMail-Priority field, its X-Mailer) without being it, sets a Date: of its own making,
// flags its mail urgent, and base64-encodes plain Western text that a mail program would
// send as it is, so that a glance at the raw message (or a phrase rule) reads nothing.
//
// These are the header forensics spam-filtering literature documents (SpamAssassin names
// them FORGED_MUA_OUTLOOK, MSGID_OUTLOOK_INVALID, DATE_IN_FUTURE, DATE_IN_PAST, X_PRIORITY_HIGH,
// MIME_BASE64_TEXT). They look at no word of the text, so they work on mail in any language
// and on offers written without marketing vocabulary. Rates on bench/spam's training split
// (spam / ham of 2,625; the test split is not read) are given with each; a rule whose hits in
// ham could be a person's mail counts little.
// SECURITY: untrusted input; fields are read once, bounded by the header's limits.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "filter/verdict.hpp"
#include "message/date.hpp"
#include "message/header.hpp"

namespace mk::filter {
namespace {

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return hex_value(c) >= 0; });
}

// "<000801c25c0f$3b5f5a80$0201a8c0@pc>": the Message-ID Outlook and Outlook Express for
// Windows make (12 hex digits, '$', 8, '$', 8, '@' and a host).
bool outlook_message_id(std::string_view id) {
  id = trim(id);
  if (id.size() < 34 || id.front() != '<' || id.back() != '>') return false;
  const std::string_view v = id.substr(1, id.size() - 2);
  return v.size() > 31 && v[12] == '$' && v[21] == '$' && v[30] == '@' && all_hex(v.substr(0, 12)) &&
         all_hex(v.substr(13, 8)) && all_hex(v.substr(22, 8)) && v.find_first_of("<>@", 31) == std::string_view::npos;
}

// When Outlook made a Message-ID of outlook_message_id's form (only such an ID: its length and
// digits are not checked again): its 5th to 12th hex digits are the upper 32 bits of the
// Windows FILETIME of that moment (100 ns ticks since 1601-01-01 UTC), so one unit is
// 2^32 / 10^7 s, about 7 minutes ("01c25c0f": September 2002). Seconds since the Unix epoch,
// to within that unit.
double outlook_id_time(std::string_view id) {
  const std::string_view digits = trim(id).substr(1 + 4, 8);
  std::uint32_t high = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), high, 16);
  constexpr double kTicksPerSecond = 1e7, kEpochOffset = 11644473600;  // 1601-01-01 to 1970-01-01
  return double(high) * 4294967296.0 / kTicksPerSecond - kEpochOffset;
}

// The domain of a Message-ID ("<x@mail.hotmail.example>" -> "mail.hotmail.example"), lower-case.
std::string message_id_domain(std::string_view id) {
  const auto at = id.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view rest = id.substr(at + 1);
  rest = rest.substr(0, rest.find('>'));
  std::string d = to_lower(trim(rest));
  while (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

// Whether two domains are one, or one is under the other ("mail.hotmail.example" and
// "hotmail.example"): the author's provider. No public-suffix guess: "a.co.uk" and
// "b.co.uk" are strangers.
bool same_provider(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  if (a.size() < b.size()) std::swap(a, b);
  return a == b || (a.ends_with(b) && a[a.size() - b.size() - 1] == '.');
}

// The Windows versions of Outlook Express (5, 6) and Outlook (2000, XP, 2003: builds 9-11,
// "Microsoft Outlook CWS, Build 9.0.2416", "Microsoft Office Outlook, Build 11.0.5510"), whose
// Message-IDs take outlook_message_id's form. Not Outlook 2000 in "Internet Mail Only" mode
// ("Microsoft Outlook IMO, Build 9.0.2416"), which makes another; the Macintosh editions name
// themselves otherwise ("Microsoft-Outlook-Express-Macintosh-Edition/5.02").
bool claims_windows_outlook(std::string_view mailer) {
  const std::string m = to_lower(mailer);
  if (m.find("microsoft outlook express 5.") != std::string::npos || m.find("microsoft outlook express 6.") != std::string::npos)
    return true;
  if (m.find("outlook") == std::string::npos || m.find(" imo") != std::string::npos) return false;
  for (std::string_view build : {"build 9.", "build 10.", "build 11."})
    if (m.find(build) != std::string::npos) return true;
  return false;
}

// The Western charsets whose text a mail program sends as it is or quoted-printable.
bool western_charset(const message::Part& p) {
  std::string charset = "us-ascii";
  for (const auto& [k, v] : p.type_params)
    if (k == "charset") charset = to_lower(v);
  return charset == "us-ascii" || charset == "iso-8859-1" || charset == "iso-8859-15" || charset == "windows-1252";
}

// A part with a file name is a file, whatever its disposition says.
bool named(const message::Part& p) {
  const auto has = [](const auto& params, std::string_view key) {
    return std::any_of(params.begin(), params.end(), [key](const auto& kv) { return kv.first == key; });
  };
  return p.disposition == "attachment" || has(p.disposition_params, "filename") || has(p.type_params, "name");
}

constexpr std::size_t kMaxDepth = 8;  // multipart nesting read

bool base64_western_text(const message::Part& p, std::size_t depth) {
  if (p.is_multipart()) {
    if (depth >= kMaxDepth) return false;
    return std::any_of(p.children.begin(), p.children.end(),
                       [depth](const message::Part& c) { return base64_western_text(c, depth + 1); });
  }
  return p.type == "text" && (p.subtype == "plain" || p.subtype == "html") && !named(p) && p.encoding == "base64" &&
         western_charset(p);
}

constexpr std::int64_t kHour = 3600;
// How far the Date: may be from the first server's time: clocks are wrong by hours, mail
// waits in an outbox for days.
constexpr std::int64_t kMaxAhead = 12 * kHour, kMaxBehind = 96 * kHour;
// How far the time in Outlook's Message-ID may be from the Date: or the first server's time.
// Outlook takes the Date: and the ID from the same clock, so they agree to minutes (a message
// that waited in the outbox keeps both); the first server's clock is another, and a PC set to
// local time under the wrong zone is up to 26 hours from it. (SpamAssassin allows 250 of the
// ID's units, 29.8 hours.)
constexpr double kMaxIdSkew = 30 * kHour;

}  // namespace

void forgery_rules(const message::Parsed& msg, std::vector<Signal>& out) {
  const auto& fields = msg.header();
  const auto x_mailer = msg.field("X-Mailer");
  std::string mailer = x_mailer ? to_lower(*x_mailer) + " " : "";  // every field in which a mail program names itself
  for (std::string_view name : {"User-Agent", "X-MimeOLE", "X-Newsreader"})
    if (const auto v = msg.field(name)) mailer += to_lower(*v) + " ";
  const bool microsoft = mailer.find("microsoft") != std::string::npos || mailer.find("outlook") != std::string::npos;
  const auto id = msg.field("Message-ID");
  const bool outlook_id = id && outlook_message_id(*id);
  // When the message says it was written, and when the first server that took it says it did:
  // the lowest Received: field (the fields we add are not in the message judged). The latter
  // only for a rule that compares it with something.
  const auto date = msg.field("Date");
  const std::optional<std::int64_t> sent = date ? message::parse_date_time(*date) : std::nullopt;
  std::optional<std::int64_t> first_hop;
  if (sent || (outlook_id && microsoft)) {
    const auto lowest = std::find_if(fields.rbegin(), fields.rend(),
                                     [](const message::HeaderField& f) { return iequals(f.name, "Received"); });
    if (lowest != fields.rend()) first_hop = message::received_time(message::unfold(lowest->value));
  }

  // 21.6% of spam / 0% of ham: Outlook's Message-ID from a program that does not name itself.
  if (outlook_id && !microsoft)
    out.push_back({"MSGID_OUTLOOK_FORGED", 1.5, "the Message-ID is made like Outlook's, but no field names a Microsoft mail program"});
  // 9.6% / 0% (none of the 110 ham with Outlook's Message-ID): a Microsoft program is named and
  // its Message-ID's form copied, but the time in it is neither the Date:'s nor the first
  // server's (by more than kMaxIdSkew): ratware that fills the digits at random
  // (SpamAssassin's MSGID_OUTLOOK_INVALID). Judged only when one of the two times is known.
  if (outlook_id && microsoft && (sent || first_hop)) {
    const double made = outlook_id_time(*id);
    const auto near = [made](std::optional<std::int64_t> t) { return t && std::abs(made - double(*t)) <= kMaxIdSkew; };
    if (!near(sent) && !near(first_hop))
      out.push_back({"MSGID_OUTLOOK_TIME", 1, "the Message-ID is made like Outlook's, but the time written into it is not the message's"});
  }
  // 12.0% / 0%: the X-Mailer says Outlook for Windows, whose Message-ID this is not. A mail
  // service that sets its own Message-ID (webmail sending for Outlook Express) uses the
  // author's domain or one under it, which is left alone.
  if (x_mailer && claims_windows_outlook(*x_mailer) && !outlook_id) {
    const message::Address* author = msg.authors().single();
    if (!author || !id || !same_provider(message_id_domain(*id), to_lower(author->domain)))
      out.push_back({"MAILER_OUTLOOK_FORGED", 1.5,
                     id ? "the X-Mailer claims Outlook for Windows, which does not make this Message-ID"
                        : "the X-Mailer claims Outlook for Windows, which always writes a Message-ID"});
  }
  // 17.2% / 0%: Outlook Express 5 and 6 and Outlook 2000 to 2003 for Windows write an X-MimeOLE
  // field ("Produced By Microsoft MimeOLE V6.00.2600.0000") into every message (so do they when
  // Hotmail sends for them: the 42 such training ham carry it); ratware that copies their
  // X-Mailer leaves it out. Half of these messages also have a Message-ID Outlook does not make
  // (MAILER_OUTLOOK_FORGED): the two are one program's mistakes, so this one counts less.
  if (x_mailer && claims_windows_outlook(*x_mailer) && !msg.field("X-MimeOLE"))
    out.push_back({"MIMEOLE_MISSING", 1, "the X-Mailer claims Outlook for Windows, which always writes an X-MimeOLE field"});
  // 3.0% / 0.15%: Outlook's own priority field, written by something else. Beside Outlook's
  // Message-ID it is Outlook's mail with its X-Mailer taken out (gateways do), counted once.
  if (msg.field("X-MSMail-Priority") && !microsoft && !outlook_id)
    out.push_back({"MSMAIL_PRIORITY_FORGED", 1, "an X-MSMail-Priority field, but no field names a Microsoft mail program"});
  // 6.2% / 0.04%: "urgent" is what bulk mailers set and people rarely do.
  if (const auto p = msg.field("X-Priority")) {
    const std::string_view v = trim(*p);
    const bool one = v.starts_with("1") && (v.size() == 1 || !is_digit(v[1]));  // "1 (Highest)", not "10"
    if (one || istarts_with(v, "high") || istarts_with(v, "urgent"))
      out.push_back({"PRIORITY_HIGH", 0.5, "marked as of the highest priority (X-Priority)"});
  }
  // The Date: against the first hop that took the message; when the first hop's date cannot be
  // read, nothing is judged (a later hop's date would make a message that waited, say in a
  // list's moderation queue, look old). 6.0% / 0.15% ahead by more than 12 hours, 1.0% / 0%
  // behind by more than 4 days: a date the sender made up (to sort at the top of a mailbox) or
  // a message queued for days on a spam host.
  if (first_hop && sent) {
    const std::int64_t ahead = *sent - *first_hop;
    if (ahead > kMaxAhead)
      out.push_back({"DATE_AHEAD", 1.5, fmt::format("the Date: is {} hours after the first server received it", ahead / kHour)});
    else if (ahead < -kMaxBehind)
      out.push_back({"DATE_BEHIND", 1, fmt::format("the Date: is {} days before the first server received it", -ahead / (24 * kHour))});
  }
  // 5.6% / 0%: Western text base64-encoded, which a mail program sends as it is.
  if (base64_western_text(msg.mime(), 0))
    out.push_back({"TEXT_BASE64", 1, "text in a Western charset sent base64-encoded (which hides its words)"});
}

}  // namespace mk::filter
