// Content rules: what bulk mail, scams and conversations give away in their text, for the
// verdict a fresh install gives before its classifier has learnt anything (and, with it,
// as evidence the classifier cannot learn from one mailbox: prior knowledge).
//
// Each rule is a phrase family or a construction that the spam-filtering literature and
// SpamAssassin's rule names document (removal instructions, "this is not spam", guarantee
// and urgency claims, advance-fee wording, padded subjects, numeric link hosts, freemail
// replies to commercial offers). Scores are log-odds (filter/verdict.hpp). They were set on
// the training split of the SpamAssassin corpus only, judged on its validation part (bench/
// spam --validate: train minus validation -> validation), never on the test split: a rule's
// score is about its precision there, rounded to a quarter and kept small when its hits in
// ham are newsletters or lists (which modern senders mark with List-Unsubscribe, RFC 2369 /
// RFC 8058; bulk senders must since 2024, so a bulk-mail phrase without that field counts
// more). The conversation rules count against spam: a reply that quotes the message it
// answers is what people write and bulk mailers do not.
// SECURITY: untrusted input; bounded work (kContentBytes per part, kContentParts parts).
#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "filter/verdict.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::filter {
namespace {

constexpr std::size_t kContentBytes = 64 * 1024;  // decoded text read per part
constexpr std::size_t kContentParts = 4;          // text parts read
constexpr std::size_t kContentDepth = 8;
constexpr std::size_t kMaxEntity = 10;  // "&#x1F600;": an entity is short

// The message's text as the rules read it: lower-case, whitespace runs as one space, HTML
// reduced to its words (tags removed, the common entities decoded); the raw HTML (lower
// case) kept for the markup rules.
struct Text {
  std::string words = " ";  // a phrase may start at a word: " dear friend"
  std::string html;  // lower-case markup of the HTML parts
  bool plain = false, has_html = false;
  std::string plain_raw;  // the first plain part, decoded (for quoted lines)
};

void append_words(std::string& out, std::string_view text) {
  bool space = !out.empty() && out.back() == ' ';
  for (unsigned char c : text) {
    if (std::isspace(c) || c == 0xa0) {
      if (!space) out += ' ';
      space = true;
    } else {
      out += char(std::tolower(c));
      space = false;
    }
  }
  if (!space) out += ' ';
}

// Words of an HTML text: tags dropped (a tag is a word break), entities for spaces and the
// few characters phrases contain decoded.
std::string html_words(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  bool tag = false;
  for (std::size_t i = 0; i < html.size(); ++i) {
    const char c = html[i];
    if (tag) {
      if (c == '>') {
        tag = false;
        out += ' ';
      }
      continue;
    }
    if (c == '<') {
      tag = true;
      continue;
    }
    if (c == '&') {
      const auto near = html.substr(i, kMaxEntity);  // bounded: never a scan of the rest
      const auto semi_off = near.find(';');
      if (semi_off != std::string_view::npos) {
        const auto semi = i + semi_off;
        const std::string_view e = html.substr(i + 1, semi - i - 1);
        out += e == "amp" ? "&" : e == "quot" ? "\"" : e == "#36" ? "$" : e == "#37" ? "%" : " ";
        i = semi;
        continue;
      }
    }
    out += c;
  }
  return out;
}

void collect(std::string_view msg, const message::Part& part, Text& t, std::size_t& parts, std::size_t depth) {
  if (part.is_multipart() || part.is_message()) {
    if (depth >= kContentDepth) return;
    for (const auto& c : part.children) collect(msg, c, t, parts, depth + 1);
    return;
  }
  if (parts >= kContentParts || part.type != "text" || part.disposition == "attachment") return;
  if (part.subtype != "plain" && part.subtype != "html") return;
  ++parts;
  const std::string body = message::decode_transfer(part.body(msg).substr(0, kContentBytes * 2), part.encoding);
  const std::string_view text = std::string_view(body).substr(0, kContentBytes);
  if (part.subtype == "html") {
    t.has_html = true;
    t.html += to_lower(text);
    append_words(t.words, html_words(text));
  } else {
    if (!t.plain) t.plain_raw = std::string(text);
    t.plain = true;
    append_words(t.words, text);
  }
}

// Which 3-byte sequences a text holds, hashed into a set of 2^kTrigramBits bits: a phrase one of
// whose trigrams the text lacks is not in it, and is not searched for. A message's text holds few
// of the 200-odd phrases the rules look for, and a search for each was most of the rules' time
// (bench/spam: a quarter of the MX verdict's CPU). Hash collisions only let a phrase through
// to the search: no phrase that is there is missed.
class Trigrams {
 public:
  explicit Trigrams(std::string_view text) {
    each(text, [this](std::size_t s) {
      bits_.set(s);
      return true;
    });
  }
  // False: `phrase` is surely not in the text.
  bool may_contain(std::string_view phrase) const {
    return each(phrase, [this](std::size_t s) { return bits_.test(s); });
  }

 private:
  static constexpr unsigned kTrigramBits = 16;  // 8 KiB
  // Calls f with the slot of each trigram of `s` while it returns true; whether it always did.
  template <typename F>
  static bool each(std::string_view s, F f) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      v = (v << 8 | std::uint8_t(s[i])) & 0xffffffu;
      if (i >= 2 && !f(std::size_t((v * 0x9e3779b1u) >> (32 - kTrigramBits)))) return false;
    }
    return true;
  }
  std::bitset<std::size_t(1) << kTrigramBits> bits_;
};

// Whether a phrase occurs starting at a word ("act now" is not in "contact now"); `grams`: the
// text's trigrams, when it is searched for many phrases.
bool contains_any(std::string_view text, std::initializer_list<std::string_view> phrases,
                  std::string_view* which, const Trigrams* grams = nullptr) {
  for (auto p : phrases) {
    if (grams && !grams->may_contain(p)) continue;
    for (auto at = text.find(p); at != std::string_view::npos; at = text.find(p, at + 1)) {
      if (at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1])) && std::isalnum(static_cast<unsigned char>(p[0])))
        continue;
      if (which) *which = p;
      return true;
    }
  }
  return false;
}

// A phrase family: the rule fires once, naming the first phrase found.
struct Family {
  const char* name;
  double score;
  const char* why;  // "{}" is the phrase found
  std::initializer_list<std::string_view> phrases;
};

// The families that are written the same way by any sender who uses them, so a hit is
// evidence whoever sends it. The bulk-mail ones (removal and opt-in notices) are below.
const std::array<Family, 13>& families() {
  static const std::array<Family, 13> kFamilies{{
      {"NOT_SPAM_CLAIM", 2, "the text claims not to be spam (\"{}\")",
       {"this is not spam", "this e-mail is not spam", "this email is not spam", "this message is not spam",
        "is not unsolicited", "not a spam", "s.1618", "s. 1618", "bill 1618", "section 301. per section"}},
      {"GUARANTEE_CLAIM", 1.25, "a sales guarantee (\"{}\")",
       {"100% guaranteed", "100% free", "100% satisf", "100% legal", "100% risk", "money back", "money-back",
        "risk free", "risk-free", "no obligation", "no strings attached", "satisfaction guaranteed",
        "no cost to you", "absolutely free"}},
      {"URGENCY_CLAIM", 0.5, "pressure to act (\"{}\")",
       {"act now", "order now", "order today", "limited time", "call now", "call today", "don't delay",
        "dont delay", "don't miss out", "while supplies last", "offer expires", "respond now",
        "once in a lifetime"}},
      {"MONEY_MAKING", 1.25, "a money-making offer (\"{}\")",
       {"make money", "earn $", "extra income", "extra cash", "financial freedom", "be your own boss",
        "work from home", "work at home", "home based business", "home-based business", "million dollars",
        "residual income", "income opportunity", "business opportunity", "multi-level marketing",
        "network marketing", "get paid to"}},
      {"ADVANCE_FEE", 1.25, "the wording of an advance-fee fraud (\"{}\")",
       {"next of kin", "transfer of the sum", "transfer the sum", "transfer of the fund", "transfer the fund",
        "urgent business", "late husband", "late father", "deceased client",
        "foreign partner", "foreign account", "bank account details", "barrister",
        "beneficiary of", "confidential business proposal", "mutually benefit"}},
      {"GENERIC_GREETING", 1, "a greeting for a stranger (\"{}\")",
       {" dear friend", " dear sir", " dear madam", " dear sir/madam", " dear valued", " dear homeowner",
        " dear business owner", " dear webmaster", " dear e-mail user", " dear email user"}},
      {"BULK_LIST_SALE", 1, "selling addresses or bulk mailing (\"{}\")",
       {"bulk email", "bulk e-mail", "mass email", "mass e-mail", "targeted email", "million email addresses",
        "e-mail addresses for", "fax numbers", "million email", "million e-mail", "fresh email"}},
      {"CREDIT_OFFER", 0.5, "a debt or credit offer (\"{}\")",
       {"lower your interest", "reduce your debt", "consolidate your debt", "debt consolidation", "refinance",
        "bad credit", "no credit check", "credit rating", "mortgage rates", "lower your monthly payment"}},
      {"DRUG_DIET", 0.5, "a pills or diet offer (\"{}\")",
       {"viagra", "cialis", "lose weight", "weight loss", "diet pill", "growth hormone", "penis enlarg",
        "online pharmacy", "no prescription", "anti-aging", "burn fat"}},
      {"SALES_PITCH", 0.25, "a sales pitch (\"{}\")",
       {"free gift", "free trial", "special offer", "special promotion", "exclusive offer", "lowest price",
        "best price", "for only $", "for just $", "save up to", "order online", "as seen on",
        "free info", "free quote", "free consultation", "wholesale price"}},
      {"CALL_TO_ACTION", 1, "a bulk offer's call to action (\"{}\")",
       {"click below", "call toll free", "call toll-free", "call us toll free", "call us toll-free",
        "toll free number", "toll-free number"}},
      {"FREE_OFFER", 1, "something offered for free (\"{}\")",
       {"free membership", "free access", "free sample", "free samples", "free report"}},
      {"ADULT_OFFER", 1.25, "an adult-content offer (\"{}\")",
       {"horny", "naughty", "hot girls", "live sex", "free porn", "hardcore", "sex movies", "webcam girls",
        "adult entertainment", "adult site"}},
  }};
  return kFamilies;
}

// "To be removed from our list, reply with REMOVE": a bulk sender's notice. Senders who mean
// it give the List-Unsubscribe field instead (or as well).
const std::initializer_list<std::string_view> kRemovalNotice = {
    "to be removed", "remove yourself", "remove your email", "remove your e-mail", "remove your address",
    "removal instructions", "with remove in the subject", "with \"remove\" in the subject",
    "type remove in the subject", "subject line remove", "reply remove", "send a blank email",
    "to unsubscribe", "opt-out", "opt out", "no longer wish to receive", "do not wish to receive",
    "wish to be removed", "remove me from"};
const std::initializer_list<std::string_view> kOptInClaim = {
    "you are receiving this", "you received this email because", "you received this e-mail because",
    "you received this message because", "you were sent this", "your email address was obtained",
    "your address was obtained", "your email address has been submitted", "opted in", "opt-in list",
    "double opt", "you have previously"};

constexpr std::string_view kFreemail[] = {"hotmail.", "yahoo.",   "aol.",      "msn.",     "excite.",
                                          "lycos.",   "netscape.", "juno.com", "mail.com", "email.com",
                                          "usa.net",  "netzero.", "gmail.",   "outlook.", "live.",
                                          "gmx.",     "mail.ru",  "yandex.",  "163.com",  "qq.com"};

bool freemail(std::string_view domain) {
  for (auto f : kFreemail) {
    const auto p = domain.find(f);
    if (p != std::string_view::npos && (p == 0 || domain[p - 1] == '.')) return true;
  }
  return false;
}

// A quoted line ("> ...") in a plain text that also has text of its own: a reply that
// answers what it quotes.
bool quotes(std::string_view text) {
  std::size_t quoted = 0, own = 0;
  for (std::size_t i = 0; i < text.size() && i < kContentBytes;) {
    auto end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(i, end - i));
    if (line.starts_with(">")) ++quoted;
    else if (line.size() > 2) ++own;
    i = end + 1;
  }
  return quoted >= 1 && own >= 1;
}

// A word of 10 or more characters mixing upper- and lower-case letters and digits
// ("7099ocYT9-261UccU3485gGCz0"): a bulk mailer's per-recipient tracking token. Ticket and
// order numbers are digits, or letters of one case.
bool random_token(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i, upper = 0, lower = 0, digits = 0;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) {
      const auto c = static_cast<unsigned char>(s[j]);
      upper += std::isupper(c) != 0;
      lower += std::islower(c) != 0;
      digits += std::isdigit(c) != 0;
      ++j;
    }
    const std::string_view word = s.substr(i, j - i);
    const bool file_name = word.find_first_of("._") != std::string_view::npos;  // IMG_2023.jpg, Invoice2023Q4.pdf
    if (!file_name && j - i >= 10 && upper >= 2 && lower >= 2 && digits >= 2 && upper + lower + digits + 4 >= j - i)
      return true;
    i = j;
  }
  return false;
}

// Link hosts that are IPv4 addresses, or whose link hides a user part before the host
// ("http://www.bank.example@evil.example/"): ways to keep a link's real target out of sight.
void link_rules(std::string_view words, std::string_view html, std::vector<Signal>& out) {
  bool numeric = false, userinfo = false;
  for (std::string_view text : {words, html}) {
    for (auto p = text.find("://"); p != std::string_view::npos && !(numeric && userinfo);
         p = text.find("://", p + 3)) {
      if (p < 4 || (text.substr(p - 4, 4) != "http" && (p < 5 || text.substr(p - 5, 5) != "https"))) continue;
      std::size_t e = p + 3;
      while (e < text.size() && e - p < 300 && !std::isspace(static_cast<unsigned char>(text[e])) &&
             text[e] != '/' && text[e] != '"' && text[e] != '\'' && text[e] != '>' && text[e] != '?')
        ++e;
      const std::string_view authority = text.substr(p + 3, e - p - 3);
      if (authority.find('@') != std::string_view::npos) userinfo = true;
      const std::string_view host = authority.substr(authority.rfind('@') == std::string_view::npos
                                                         ? 0
                                                         : authority.rfind('@') + 1);
      std::size_t dots = 0, digits = 0;
      for (char c : host.substr(0, host.find(':'))) {
        dots += c == '.';
        digits += std::isdigit(static_cast<unsigned char>(c)) != 0;
      }
      if (dots == 3 && digits + dots == host.substr(0, host.find(':')).size()) numeric = true;
    }
  }
  if (numeric) out.push_back({"LINK_NUMERIC_HOST", 2, "a link points at a bare IP address"});
  if (userinfo) out.push_back({"LINK_HIDDEN_HOST", 1.5, "a link hides its real host behind a user name (user@host)"});
}

}  // namespace

bool payment_talk(const message::Parsed& msg) {
  Text t;
  std::size_t parts = 0;
  collect(msg.text(), msg.mime(), t, parts, 0);
  return contains_any(t.words, {"bank account", "account details", "account number", "wire transfer", "invoice",
                                "payment", "iban", "routing number", "remittance", "pay to"},
                      nullptr);
}

void content_rules(const message::Parsed& msg, bool thread_found, std::vector<Signal>& out) {
  const message::Part& root = msg.mime();
  Text t;
  std::size_t parts = 0;
  collect(msg.text(), root, t, parts, 0);
  const bool unsubscribe_field = msg.field("List-Unsubscribe").has_value();
  // A reply to a message the recipient has: In-Reply-To alone is the sender's word.
  const bool reply = !msg.thread_ids().empty() && thread_found;
  const bool claims_reply = !msg.thread_ids().empty();

  std::string_view which;
  const Trigrams grams(t.words);
  for (const auto& f : families())
    if (contains_any(t.words, f.phrases, &which, &grams))
      out.push_back({f.name, f.score, fmt::format(fmt::runtime(f.why), which)});
  // Lists add List-Unsubscribe to whatever they carry, spam included: the field makes a
  // removal notice weaker evidence, and is itself only a little.
  if (contains_any(t.words, kRemovalNotice, &which, &grams))
    out.push_back({"REMOVAL_NOTICE", unsubscribe_field ? 0.5 : 1.5,
                   fmt::format("bulk-mail removal instructions (\"{}\"){}", which,
                               unsubscribe_field ? "" : " without a List-Unsubscribe field")});
  if (!unsubscribe_field && contains_any(t.words, kOptInClaim, &which, &grams))
    out.push_back({"OPT_IN_CLAIM", 1.25, fmt::format("a claim that the recipient asked for it (\"{}\")", which)});
  if (unsubscribe_field) out.push_back({"LIST_UNSUBSCRIBE", -0.5, "it can be unsubscribed from (List-Unsubscribe, RFC 2369)"});

  // Markup: big type is how offers shout; an HTML-only message is how most bulk mail is made.
  if (t.has_html) {
    if (!t.plain)
      out.push_back({"HTML_ONLY", unsubscribe_field ? 0.25 : 0.5, "HTML without a plain-text version"});
    const std::string_view h = t.html;
    bool big = false;
    for (auto p = h.find("size="); p != std::string_view::npos && !big; p = h.find("size=", p + 5)) {
      std::size_t v = p + 5;
      while (v < h.size() && (h[v] == '"' || h[v] == '\'' || h[v] == '+')) ++v;
      big = v < h.size() && h[v] >= '4' && h[v] <= '7' && (v + 1 == h.size() || !std::isdigit(static_cast<unsigned char>(h[v + 1])));
    }
    if (big) out.push_back({"HTML_BIG_FONT", 1, "large type (<font size=4..7>)"});
  }
  link_rules(t.words, t.html, out);

  // Plain text with two runs of "!!".
  std::size_t bangs = 0;
  for (auto p = t.words.find("!!"); p != std::string::npos && bangs < 2; p = t.words.find("!!", p + 2)) {
    ++bangs;
    while (p + 2 < t.words.size() && t.words[p + 2] == '!') ++p;
  }
  if (bangs >= 2) out.push_back({"TEXT_EXCLAIMS", 0.5, "repeated \"!!\" in the text"});

  // Subjects: padded with spaces before a tracking code, "ADV:" (the label some laws require
  // on advertising), prices and percentages, exclamation.
  if (const auto subject = message::header_value_as_read(msg.header(), "Subject")) {
    const std::string s = message::decode_words(*subject);
    const std::string lower = to_lower(s);
    // Three or more spaces and then one last word: the tracking code pushed out of sight.
    const auto pad = s.rfind("   ");
    const std::string_view tail = pad == std::string::npos ? std::string_view() : trim(std::string_view(s).substr(pad));
    if (!tail.empty() && tail.find(' ') == std::string_view::npos && pad > 0)
      out.push_back({"SUBJECT_PADDED", 2, "the subject is padded with spaces before a last word (a tracking code)"});
    if (random_token(s))
      out.push_back({"SUBJECT_RANDOM_TOKEN", 1.5, "the subject carries a generated token (letters of both cases and digits)"});
    const std::string_view ls = trim(lower);
    if (ls.starts_with("adv:") || ls.starts_with("adv ") || ls.starts_with("[adv]"))
      out.push_back({"SUBJECT_ADV", 1, "the subject is labelled as advertising (ADV:)"});
    bool money = false;
    for (std::size_t i = 0; i + 1 < lower.size() && !money; ++i)
      money = (lower[i] == '$' && std::isdigit(static_cast<unsigned char>(lower[i + 1]))) ||
              (std::isdigit(static_cast<unsigned char>(lower[i])) && lower[i + 1] == '%');
    if (money || contains_any(lower, {"free!", "for free", "cash", "money", "mortgage", "viagra", "save $", "save up to"}, nullptr))
      out.push_back({"SUBJECT_MONEY", 0.5, "the subject talks money (price, percentage, free, cash, credit)"});
    if (s.find('!') != std::string::npos && !reply) out.push_back({"SUBJECT_EXCLAIMS", 0.25, "an exclamation mark in the subject"});
  }

  // Freemail: scams ask for replies at a free mailbox; bulk offers come from one.
  const message::Address* author = msg.authors().single();
  const std::string from_domain = author ? to_lower(author->domain) : std::string();
  if (const auto rt = msg.field("Reply-To")) {
    const auto list = message::parse_address_list(*rt, 5);
    if (list.size() == 1 && freemail(to_lower(list[0].domain)) && to_lower(list[0].domain) != from_domain)
      out.push_back({"REPLY_TO_FREEMAIL", 1.25, fmt::format("replies go to a free mailbox at {} instead of the sender", list[0].domain)});
  }
  if (author && freemail(from_domain) && !reply && (t.has_html || msg.links().size() >= 1) &&
      std::any_of(out.begin(), out.end(), [](const Signal& s) { return s.score > 0; }))
    out.push_back({"FREEMAIL_OFFER", 1.5, fmt::format("an offer sent from a free mailbox at {}", from_domain)});

  // A reply that quotes what it answers: a conversation.
  if (claims_reply && t.plain && quotes(t.plain_raw))
    out.push_back({"QUOTED_REPLY", reply ? -1.5 : -0.5,
                   reply ? "a reply quoting the message it answers" : "a reply quoting a message (one the recipient does not have)"});
}

}  // namespace mk::filter
