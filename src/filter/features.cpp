#include "filter/features.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/links.hpp"
#include "message/mime.hpp"

namespace mk::filter {
namespace {

constexpr std::size_t kMaxWord = 32;   // longer words are hashed on this prefix and marked long
constexpr int kWindow = 4;             // OSB: pairs with each of the next kWindow - 1 words
constexpr std::size_t kGramBytes = 1000;  // byte 4-grams of the start of a plain first text part
// Text written without spaces (Chinese, Japanese, Korean): a word of at least this many
// bytes is also cut into character pairs (see Sink::dense), at most kMaxDense of them per
// message.
constexpr std::size_t kDenseRun = 6;
constexpr std::size_t kMaxDense = 4096;
// A word with a digit in it, at most kMaxShaped bytes long, is also read as its shape (see
// shape()), in which a run of one class of byte counts up to kShapeRun.
constexpr std::size_t kMaxShaped = 24;
constexpr int kShapeRun = 4;
// A word of more than kStem bytes (and fewer than kMaxWord) with an ASCII letter in it and no
// digit also counts as its first kStem bytes, lower-cased: a crude stem. "unsubscribe",
// "unsubscribed" and "unsubscribing", "investor" and "investment", "mortgage" and "mortgages"
// share it, and so do "www.a.example" and "www.b.example", "$$$$cash" and "$$$$save"; a
// word's other forms are what an unseen sender writes. A word of kStem bytes or fewer is not
// stemmed: "mail" and "mails" share nothing. Bytes, not letters: in a word that mixes Latin
// and other letters (a Cyrillic word with one Latin look-alike) the stem is two letters or
// fewer; pure Cyrillic, Greek or CJK words get none. Chosen on the training split of
// bench/spam (the test split not read), prefixes of 3 to 8 bytes tried: 4 did best by source
// (cv.py --by-source 1-ROCA 0.527 -> 0.485%, FN at FP <= 0.1% 14.2 -> 12.6%) and by name (FN
// 11.6 -> 10.8%, 1-ROCA 0.015 -> 0.014%), the validation set's MX trained 1-ROCA 0.040 ->
// 0.037%. Stemming only words whose first four bytes are letters did a little worse on the
// same data (by source 1-ROCA 0.502%, by name FN 10.2% but FN at FP <= 0.1% 2.8% against
// 2.0%).
constexpr std::size_t kStem = 4;

std::uint32_t fnv(std::uint32_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}
std::uint32_t fnv(std::string_view s) { return fnv(2166136261u, s); }

// Mixes two hashes into one (the MurmurHash3 finalizer over both).
std::uint32_t combine(std::uint32_t a, std::uint32_t b) {
  std::uint64_t x = (std::uint64_t(a) << 32) | b;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return std::uint32_t(x);
}

// ASCII classes without the C library's locale lookups (this is the hot loop).
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }
char lower(unsigned char c) { return char(is_upper(c) ? c + 32 : c); }
bool word_byte(unsigned char c) { return is_alpha(c) || is_digit(c) || c >= 0x80 || c == '$' || c == '\''; }
// Joins two word runs: "e-mail", "3.50", "a@b.example", "don't".
bool joiner(unsigned char c) { return c == '-' || c == '.' || c == '@' || c == '_' || c == '/' || c == ':'; }

// The hash of a word's shape: each digit 9, each letter a or A, each non-ASCII byte x, the
// rest as they are, a run of one class cut to kShapeRun. A price, a phone number, a version
// or a tracking code is a word seldom seen twice, but its shape recurs: "9.99" for "3.50"
// and "7.95", "9-999-999-9999" for every North American number. Chosen on the training
// split of bench/spam (the test split not read): cv.py by name, 1-ROCA 0.016 -> 0.015%, by
// source 0.568 -> 0.527% and FN at FP <= 0.1% 14.8 -> 14.2%.
std::uint32_t shape(std::string_view word) {
  std::uint32_t h = 2166136261u;
  char prev = 0;
  int run = 0;
  for (unsigned char c : word) {
    const char cls = is_digit(c) ? '9' : is_lower(c) ? 'a' : is_upper(c) ? 'A' : c >= 0x80 ? 'x' : char(c);
    run = cls == prev ? run + 1 : 1;
    prev = cls;
    if (run <= kShapeRun) h = (h ^ static_cast<unsigned char>(cls)) * 16777619u;
  }
  return h;
}

class Sink {
 public:
  std::vector<std::uint32_t> out;
  std::size_t dense_given = 0;  // windows given by dense() so far

  void add(std::string_view zone, std::string_view token) { out.push_back(fnv(fnv(zone) * 31u, token)); }

  // Words of `text` under `zone`: unigrams, all-caps forms, and with `pairs` the OSB pairs.
  // `join`: joiners between word bytes keep a word whole ("e-mail", "remove.html"); without,
  // each run of word bytes is a word of its own.
  void words(std::string_view zone, std::string_view text, bool pairs, bool join = true) {
    const std::uint32_t z = fnv(zone);
    std::array<std::uint32_t, kWindow> recent{};
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && !word_byte(static_cast<unsigned char>(text[i]))) {
        if (text[i] == '!' && i + 1 < text.size() && text[i + 1] == '!') add(zone, "!!");
        ++i;
      }
      if (i >= text.size()) break;
      const std::size_t start = i;
      // The word's hash is computed as it is read, lower-cased, over its first kMaxWord bytes;
      // `stem` is what it was after the first kStem.
      std::uint32_t h = 2166136261u, stem = 0;
      std::size_t len = 0;
      bool upper = true, letters = false, digits = false;
      while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (word_byte(c)) {
          if (is_alpha(c)) {
            letters = true;
            if (is_lower(c)) upper = false;
          }
          digits = digits || is_digit(c);
        } else if (!(join && joiner(c) && i + 1 < text.size() &&
                     word_byte(static_cast<unsigned char>(text[i + 1])) && len > 0)) {
          break;
        }
        // A joiner is its own lower case.
        if (len < kMaxWord) h = (h ^ static_cast<unsigned char>(lower(c))) * 16777619u;
        ++len;
        ++i;
        if (len == kStem) stem = h;
      }
      if (len >= kMaxWord) h ^= 0x5bd1e995u;
      const std::string_view word = text.substr(start, i - start);
      if (digits && len <= kMaxShaped) out.push_back(combine(z ^ 0x7f4a7c15u, shape(word)));
      if (letters && !digits && len > kStem && len < kMaxWord) out.push_back(combine(z ^ 0x165667b1u, stem));
      if (len >= kDenseRun) dense(z, word);
      out.push_back(combine(z, h));
      if (upper && letters && len >= 3) out.push_back(combine(z ^ 0x9e3779b9u, h));
      if (pairs) {
        for (std::size_t back = 1; back < kWindow && back <= count; ++back)
          out.push_back(combine(z + std::uint32_t(back), recent[(count - back) % kWindow] * 0x9e3779b1u ^ h));
        recent[count % kWindow] = h;
      }
      ++count;
    }
  }

  // Chinese, Japanese and Korean have no spaces between words, so the loop above reads a
  // whole sentence as one word that no other message has. Such a word also gives its pairs
  // of characters (what CJK search indexes use: Lucene's CJK bigrams), without decoding a
  // charset: in UTF-8, runs of the 3-byte characters whose lead byte is E3-ED or EF (kana,
  // CJK ideographs, Hangul, full-width forms; not Cyrillic, Greek, Hebrew or Arabic, which
  // are 2-byte and spaced). Text in a double-byte charset (GB2312, Big5, EUC-KR, Shift_JIS,
  // ...) is converted to UTF-8 before it comes here; only when iconv cannot read it (`dbcs`)
  // is each run of its non-ASCII bytes cut, two bytes a character.
  bool dbcs = false;
  void dense(std::uint32_t zone, std::string_view word) {
    const std::uint32_t z = zone ^ 0x85ebca6bu;
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(word[k]); };
    auto pair = [&](std::size_t at, std::size_t len) {
      out.push_back(combine(z, fnv(word.substr(at, len))));
      ++dense_given;
    };
    for (std::size_t a = 0; a < word.size() && dense_given < kMaxDense;) {
      std::size_t e = a, step = 0;
      if (dbcs) {
        step = 2;
        while (e < word.size() && byte(e) >= 0x80) ++e;
      } else {
        step = 3;
        auto cjk = [&](std::size_t k) {
          const unsigned char lead = byte(k);
          return ((lead >= 0xe3 && lead <= 0xed) || lead == 0xef) && (byte(k + 1) & 0xc0) == 0x80 &&
                 (byte(k + 2) & 0xc0) == 0x80;
        };
        while (e + 3 <= word.size() && cjk(e)) e += 3;
      }
      if (e == a) {
        ++a;
        continue;
      }
      for (std::size_t b = a; b + 2 * step <= e && dense_given < kMaxDense; b += step) pair(b, 2 * step);
      a = e;
    }
  }

  // Overlapping 4-byte sequences (lower-cased): survive the misspellings and spacing tricks
  // that make every word new.
  void grams(std::string_view zone, std::string_view text, std::size_t limit) {
    const std::uint32_t z = fnv(zone) ^ 0x27d4eb2fu;
    std::uint32_t g = 0;
    std::size_t n = 0;
    for (unsigned char c : text.substr(0, limit)) {
      g = (g << 8) | std::uint8_t(lower(c));
      if (++n >= 4) out.push_back(combine(z, g));
    }
  }

  void link(std::string_view url) {
    const auto u = message::split_url(url);
    if (!u) return;
    if (u->userinfo) add("url", "userinfo");
    const std::string h = to_lower(u->host);
    if (h.empty()) return;
    if (std::all_of(h.begin(), h.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)) || c == '.'; })) {
      add("url", "ip-literal");
      return;
    }
    add("urlhost", h);
    const auto last = h.rfind('.');
    if (last != std::string::npos && last > 0) {
      const auto prev = h.rfind('.', last - 1);
      add("urldomain", prev == std::string::npos ? h : h.substr(prev + 1));
      add("urltld", h.substr(last + 1));
    }
    // The path (and query) as written ("/cgi-bin/remove.pl") is the sender's own; its pieces
    // ("cgi", "bin", "remove", "pl") are what the links of senders never seen share. Chosen on the
    // training split of bench/spam (the test split not read), whole path and pieces against the
    // whole path alone: cv.py --by-source, rules and classifier, 1-ROCA 0.492 -> 0.423%, FN at FP
    // <= 0.1% 12.8 -> 11.4%; by name 1-ROCA 0.014 -> 0.013%, FN at the Junk score 10.6 -> 11.2%
    // (three spam); the validation set's MX trained FN at FP <= 0.1% 4.72 -> 3.77%. The pieces
    // in place of the whole path did less by source (1-ROCA 0.456%).
    const std::string_view path = u->rest.substr(0, 200);
    words("urlpath", path, false);
    words("urlpiece", path, /*pairs=*/false, /*join=*/false);
  }

  // Links in plain text: found by their "://" (rarer in text than an "h" to start from).
  void links_in(std::string_view text) {
    std::size_t n = 0;
    for (std::size_t p = text.find("://"); p != std::string_view::npos && n < 50; p = text.find("://", p + 3)) {
      std::size_t b;
      if (p >= 4 && text.compare(p - 4, 4, "http") == 0) b = p - 4;
      else if (p >= 5 && text.compare(p - 5, 5, "https") == 0) b = p - 5;
      else continue;
      std::size_t e = p + 3;
      while (e < text.size() && static_cast<unsigned char>(text[e]) > 0x20 && text[e] != '"' && text[e] != '<' &&
             text[e] != '>' && text[e] != '\'')
        ++e;
      link(text.substr(b, e - b));
      ++n;
    }
  }
};

// HTML to text: tags become spaces (their names and link targets become features), comments
// disappear without a space (spammers hide words by splitting them with comments), script
// and style content is skipped, a few entities are decoded.
std::string html_text(std::string_view html, Sink& sink) {
  std::string text;
  text.reserve(html.size() / 2);
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (html.compare(i, 4, "<!--") == 0) {
        const auto e = html.find("-->", i + 4);
        sink.add("html", "comment");
        i = e == std::string_view::npos ? html.size() : e + 3;
        continue;
      }
      const auto e = html.find('>', i + 1);
      if (e == std::string_view::npos) break;
      std::string_view tag = html.substr(i + 1, e - i - 1);
      i = e + 1;
      const bool closing = !tag.empty() && tag[0] == '/';
      if (closing) tag.remove_prefix(1);
      std::size_t n = 0;
      while (n < tag.size() && (is_alpha(static_cast<unsigned char>(tag[n])) || is_digit(static_cast<unsigned char>(tag[n]))))
        ++n;
      const std::string name = to_lower(tag.substr(0, n));
      if (name.empty()) continue;
      text += ' ';
      if (closing) continue;
      sink.add("tag", name);
      const std::string attrs = to_lower(tag.substr(n, 400));
      for (const char* a : {"href=", "src=", "action="}) {
        auto p = attrs.find(a);
        if (p == std::string::npos) continue;
        p += std::char_traits<char>::length(a);
        if (p < attrs.size() && (attrs[p] == '"' || attrs[p] == '\'')) ++p;
        const auto q = attrs.find_first_of("\"' >", p);
        sink.link(attrs.substr(p, q == std::string::npos ? std::string::npos : q - p));
        sink.add("attr", name + "." + std::string(a));
      }
      for (const char* a : {"color=", "bgcolor=", "size=", "width=", "height=", "style=", "display:none"})
        if (attrs.find(a) != std::string::npos) sink.add("attr", name + "." + a);
      if (name == "script" || name == "style") {
        const auto end = to_lower(html.substr(i, 200000)).find("</" + name);
        i = end == std::string::npos ? html.size() : i + end;
      }
      continue;
    }
    if (c == '&') {
      const auto semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 8) {
        const std::string_view ent = html.substr(i + 1, semi - i - 1);
        if (ent == "nbsp") text += ' ';
        else if (ent == "amp") text += '&';
        else if (ent == "lt") text += '<';
        else if (ent == "gt") text += '>';
        else if (ent == "quot") text += '"';
        else sink.add("html", "entity");
        i = semi + 1;
        continue;
      }
    }
    text += c;
    ++i;
  }
  return text;
}

// Header fields whose words are features; the others only count as present.
constexpr std::string_view kWordFields[] = {"from", "to", "cc", "reply-to", "subject", "return-path", "sender",
                                            "content-type", "x-mailer", "user-agent", "organization", "x-priority"};

bool ignored_field(const std::string& name) {
  return name.starts_with("x-spam") || name.starts_with("x-mailkeep") || name == "authentication-results" ||
         name.starts_with("arc-") || name == "received-spf" || name == "delivered-to" || name == "x-original-to";
}

// Fields a mailing list adds say which list delivered the message, not whether its author
// is a spammer: spam reaches lists too, and learning them made list-borne spam look like
// ham (measured: 1-ROCA 1.02% -> 0.92%).
bool list_field(const std::string& name) {
  return name.starts_with("list-") || name == "sender" || name == "errors-to" || name == "precedence" ||
         name.starts_with("x-beenthere") || name.starts_with("x-mailman");
}

std::string size_bucket(std::size_t n) {
  int b = 0;
  while (n > 1 && b < 40) n >>= 1, ++b;
  return std::to_string(b);
}

// The 7-bit charsets that shift between character sets with escape sequences: ISO-2022-JP
// (still the usual charset of Japanese mail), its kin for Korean and Chinese (to_utf8 reads
// these by message::iso2022_charset), and UTF-7. Read as it is, their text is pairs of ASCII
// letters between escapes, a sentence one long "word" that no other message shares; converted
// to UTF-8 it gives the CJK pairs (Sink::dense) that the same text in UTF-8 or a double-byte
// charset gives.
bool escaped_charset(std::string_view charset) {
  return message::iso2022_charset(charset) || iequals(charset, "utf-7") || iequals(charset, "utf7");
}

// Whether `text` is UTF-8 but perhaps for its last character, which cutting the text to its
// budget may have split: UTF-8 text under a double-byte label is mislabelled, and a split
// character must not make a long body of it look like GB18030 or CP932.
bool utf8_but_its_end(std::string_view text) {
  std::size_t tail = 0;  // continuation bytes at the end
  while (tail < 3 && tail < text.size() && (static_cast<unsigned char>(text[text.size() - 1 - tail]) & 0xc0) == 0x80)
    ++tail;
  if (tail < text.size() && static_cast<unsigned char>(text[text.size() - 1 - tail]) >= 0xc0)
    text.remove_suffix(tail + 1);
  return message::valid_utf8(text);
}

// Whether `text` is what an escaped charset can be: 7-bit. Text labelled with one but holding
// 8-bit bytes is something else mislabelled (UTF-8, Latin-1), and converting it would turn
// every such byte into U+FFFD and lose its words; it is read as it is.
bool seven_bit(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Whether 7-bit text carries ISO-2022-JP's escapes into JIS X 0208 (ESC $ B, ESC $ @).
bool jis_escapes(std::string_view text) {
  return text.find('\x1b') != std::string_view::npos &&
         (text.find("\x1b$B") != std::string_view::npos ||
          text.find("\x1b$@") != std::string_view::npos);
}

// The charset escaped text is to be read in: the declared one when it is an escaped charset;
// else ISO-2022-JP when 7-bit text carries its escapes into JIS X 0208 (ESC $ B, ESC $ @),
// which name the charset by themselves (old Japanese mailers sent it with none declared, or
// "us-ascii"); else none (empty).
// Every text part passes here, so the whole-text scan (seven_bit) runs only for text that
// may be escaped: declared so, or holding an ESC byte.
std::string_view escaped_text_charset(std::string_view text, std::string_view declared) {
  const bool declared_escaped = escaped_charset(declared);
  const bool jis = !declared_escaped && jis_escapes(text);
  if (!(declared_escaped || jis) || !seven_bit(text)) return {};
  return declared_escaped ? declared : "iso-2022-jp";
}

// Escaped text read in `charset` (escaped_text_charset's answer) as UTF-8. A label of the
// family that iconv does not know ("iso-2022-zz") must not keep text that carries
// ISO-2022-JP's escapes from being read as it.
std::optional<std::string> escaped_to_utf8(std::string_view text, std::string_view charset) {
  if (auto u = message::to_utf8(text, charset)) return u;
  if (!iequals(charset, "iso-2022-jp") && jis_escapes(text))
    return message::to_utf8(text, "iso-2022-jp");
  return std::nullopt;
}

// `charset`: what raw 8-bit header text that is not UTF-8 is read in (the message's own,
// message_charset), so that a Subject its mailer wrote unencoded in GB2312 or windows-1251
// gives the words (and CJK pairs) an RFC 2047-encoded one gives; empty: left as it is.
void header_features(const std::vector<message::HeaderField>& fields, Sink& sink, std::string_view charset) {
  for (const auto& f : fields) {
    const std::string name = to_lower(f.name);
    if (ignored_field(name)) continue;
    sink.add("hn", name);
    if (list_field(name)) continue;
    // Received fields describe the route to this mailbox more than the sender: learning
    // their words made ham from a new list look like spam (measured: 1-ROCA 1.24% -> 1.02%).
    if (name == "received") continue;
    if (name == "message-id") {
      const auto ids = message::msg_ids(f.value, 1);
      if (!ids.empty()) {
        const auto at = ids[0].rfind('@');
        sink.add("midhost", at == std::string::npos ? "none" : to_lower(ids[0].substr(at + 1)));
      } else {
        sink.add("mid", "malformed");
      }
      continue;
    }
    if (std::find(std::begin(kWordFields), std::end(kWordFields), name) == std::end(kWordFields)) continue;
    // Converted before the encoded words are decoded (they are ASCII, which the charsets a
    // header is written in keep), and judged UTF-8 or not whole, not as cut.
    const std::string unfolded = message::unfold(f.value);
    std::string raw = unfolded.substr(0, 1000);
    // Text in an escaped charset is ASCII, so valid UTF-8; its escapes give it away.
    const std::string_view escaped =
        unfolded.find('\x1b') != std::string::npos ? escaped_text_charset(unfolded, charset) : std::string_view();
    if (!escaped.empty()) {
      if (auto u = escaped_to_utf8(raw, escaped)) raw = std::move(*u);
    } else if (!charset.empty() && !escaped_charset(charset) && !message::valid_utf8(unfolded)) {
      if (auto u = message::to_utf8(raw, charset)) raw = std::move(*u);
    }
    const std::string value = message::decode_words(raw);
    sink.words(name, value, name == "subject");
    if (name == "subject") sink.grams(name, value, 400);
    if (name == "from" || name == "to" || name == "cc" || name == "reply-to") {
      for (const auto& a : message::parse_address_list(f.value, 20)) {
        if (a.domain.empty()) continue;
        sink.add(name + "dom", to_lower(a.domain));
        if (!a.name.empty()) sink.add(name, "has-display-name");
      }
    }
  }
}

// Shape of a string: the number of changes between upper case, lower case and digits
// (generated names and tracking codes change often), bucketed.
int changes(std::string_view s) {
  int cls = -1, n = 0;
  for (unsigned char c : s) {
    const int k = is_upper(c) ? 0 : is_lower(c) ? 1 : is_digit(c) ? 2 : 3;
    if (k != cls) n += cls >= 0, cls = k;
  }
  return std::min(n, 6);
}

// How the header is put together, the way bulk-mail software gives itself away: names that
// look generated, a Subject padded with a tracking code, "Re:" without a thread, missing or
// odd Date and Message-ID fields, no real name, recipients hidden.
void header_shape(const std::vector<message::HeaderField>& fields, Sink& sink) {
  const message::HeaderField* got[6] = {};
  constexpr std::string_view kNames[6] = {"from", "to", "subject", "date", "message-id", "in-reply-to"};
  bool references = false, mime_version = false;
  for (const auto& f : fields) {
    for (int k = 0; k < 6; ++k)
      if (!got[k] && iequals(f.name, kNames[k])) got[k] = &f;
    if (iequals(f.name, "references")) references = true;
    if (iequals(f.name, "mime-version")) mime_version = true;
  }
  for (int k = 0; k < 6; ++k)
    if (!got[k]) sink.add("missing", kNames[k]);
  if (!mime_version) sink.add("missing", "mime-version");
  if (got[0]) {
    const auto from = message::parse_address_list(got[0]->value, 2);
    if (from.empty()) {
      sink.add("from", "unparsable");
    } else {
      const auto& a = from[0];
      if (a.name.empty()) sink.add("from", "no-real-name");
      if (!a.local.empty() && is_digit(static_cast<unsigned char>(a.local.back()))) sink.add("from", "ends-in-digits");
      sink.add("from-local-shape", std::to_string(changes(a.local)));
      if (got[1]) {
        const auto to = message::parse_address_list(got[1]->value, 2);
        if (!to.empty() && iequals(to[0].local, a.local) && iequals(to[0].domain, a.domain)) sink.add("to", "is-from");
      }
    }
  }
  if (got[1]) {
    const auto to = message::parse_address_list(got[1]->value, 100);
    sink.add("to-count", std::to_string(std::min<std::size_t>(to.size(), 5)));
    if (to.empty()) sink.add("to", "no-address");
  }
  if (got[2]) {
    const std::string subject = message::unfold_as_read(got[2]->value);
    const std::string_view sv = trim(subject);
    if (sv.size() >= 2 && sv.size() > sv.find_last_not_of("0123456789") + 1 && subject.find("  ") != std::string::npos)
      sink.add("subject", "padded-code");
    std::size_t i = sv.size();
    while (i > 0 && sv[i - 1] != ' ') --i;
    if (sv.size() - i >= 6) sink.add("subject-last-shape", std::to_string(changes(sv.substr(i))));
    std::size_t letters = 0, upper = 0;
    for (unsigned char c : sv) letters += is_alpha(c), upper += is_upper(c);
    if (letters >= 10 && upper * 10 >= letters * 9) sink.add("subject", "shouting");
    if (istarts_with(sv, "re:") && !got[5] && !references) sink.add("subject", "re-without-thread");
  }
  if (got[3]) {
    const std::string date = message::unfold(got[3]->value);
    const auto sp = date.find_last_of(' ');
    const std::string_view zone = trim(std::string_view(date).substr(sp == std::string::npos ? 0 : sp + 1));
    sink.add("date-zone", zone.size() > 8 ? std::string("long") : std::string(zone));
    if (date.find(',') == std::string::npos) sink.add("date", "no-weekday");
  }
  if (got[4]) {
    const auto ids = message::msg_ids(got[4]->value, 1);
    if (!ids.empty()) sink.add("mid-local-shape", std::to_string(changes(ids[0].substr(0, ids[0].rfind('@')))));
  }
}

struct BodyState {
  std::size_t text_bytes = 0;
  std::size_t parts = 0;
  bool plain = false, html = false;
  std::size_t letters = 0, upper = 0, html_bytes = 0, html_text = 0, bangs = 0, dollars = 0;
};

void count_text(std::string_view text, BodyState& st) {
  for (unsigned char c : text) {
    st.letters += is_alpha(c);
    st.upper += is_upper(c);
    st.bangs += c == '!';
    st.dollars += c == '$';
  }
}

// The part's charset parameter, else `inherited`.
std::string_view declared_charset(const message::Part& part, std::string_view inherited) {
  for (const auto& [k, v] : part.type_params)
    if (k == "charset") return v;
  return inherited;
}

// The charset the message's text is declared in: on the top-level part, else on its first
// text part (depth-first, at most kMaxFeatureDepth deep; the parser bounds the parts);
// empty: none declared.
std::string_view message_charset(const message::Part& part, std::size_t depth = 0) {
  if (auto c = declared_charset(part, {}); !c.empty()) return c;
  if (depth >= kMaxFeatureDepth) return {};
  for (const auto& child : part.children) {
    if (!child.is_multipart() && child.type != "text") continue;
    if (auto c = message_charset(child, depth + 1); !c.empty()) return c;
  }
  return {};
}

// `charset`: the one declared on an enclosing part (a CJK mailer often declares it on the
// multipart only).
void body_features(std::string_view msg, const message::Part& part, Sink& sink, BodyState& st, std::size_t depth,
                   std::string_view charset = {}) {
  if (st.parts >= kMaxFeatureParts) return;
  ++st.parts;
  sink.add("mime", part.type + "/" + part.subtype);
  if (part.is_multipart() || part.is_message()) {
    if (depth < kMaxFeatureDepth)
      for (const auto& c : part.children) body_features(msg, c, sink, st, depth + 1, declared_charset(part, charset));
    return;
  }
  sink.add("cte", part.encoding);
  for (const auto& [k, v] : part.type_params)
    if (k == "charset") sink.add("charset", to_lower(v));
  const bool attachment = part.disposition == "attachment" || part.type != "text";
  if (attachment) {
    for (const auto& params : {part.disposition_params, part.type_params})
      for (const auto& [k, v] : params)
        if (k == "filename" || k == "name") {
          const auto dot = v.rfind('.');
          sink.add("attext", dot == std::string::npos ? "none" : to_lower(v.substr(dot + 1, 10)));
        }
    sink.add("attsize", size_bucket(part.body_size));
    return;
  }
  if (st.text_bytes >= kMaxTextBytes) return;
  std::string text = message::decode_transfer(part.body(msg).substr(0, kMaxTextBytes * 2), part.encoding);
  if (text.size() > kMaxTextBytes - st.text_bytes) text.resize(kMaxTextBytes - st.text_bytes);
  const std::string_view part_charset = declared_charset(part, charset);
  // Converted text is longer (two bytes a character become three): cut to the budget again.
  // Text in a double-byte charset that is not valid UTF-8 (which it would be only when
  // mislabelled) is converted too, read as the charset's usual superset
  // (message::charset_reading); if iconv cannot, its raw bytes are cut into pairs (Sink::dense).
  bool dbcs = false;
  if (const std::string_view escaped = escaped_text_charset(text, part_charset); !escaped.empty()) {
    if (auto u = escaped_to_utf8(text, escaped))
      text = cut_utf8(std::move(*u), kMaxTextBytes - st.text_bytes);
  } else if (message::double_byte_charset(part_charset) && !utf8_but_its_end(text)) {
    if (auto u = message::to_utf8(text, part_charset)) text = cut_utf8(std::move(*u), kMaxTextBytes - st.text_bytes);
    else dbcs = true;
  }
  // When the first text part is plain text, its first KiB also gives byte 4-grams, as written
  // (layout included): they survive the misspellings that make every word new. Measured on the
  // corpus split: 1-ROCA 0.69% -> 0.48%; longer or shorter spans, 3- and 5-grams and
  // collapsing white space did no better.
  // Not of HTML source: its 4-grams are a sender's template ("<td ", "bgco", "nt f"), a
  // thousand features that say "this template" and, of a template never seen, "HTML", which
  // in trained mail is mostly spam's. A newsletter from a sender the model never learnt then
  // looked like spam. Measured with bench/spam/cv.py --by-source (each fold judged by a model
  // that never saw its lists and senders; the test split not read), rules and classifier,
  // with this change alone: FP at the Junk score 2.13% -> 0.34%, 1-ROCA 0.755% -> 0.557%, FN
  // at FP <= 0.1% 24.8% -> 14.6% (without the largest source, one publisher's 73 newsletters:
  // 0.313% -> 0.300%, 13.6% -> 10.0%); by name (cv.py): FN at the Junk score 10.0% -> 11.2%,
  // 1-ROCA 0.015% -> 0.016%, FN at FP <= 0.1% 4.8% -> 2.0%; the MX on the validation set
  // (run.py --validate): FN 10.38% -> 8.49%, 1-ROCA 0.048% -> 0.037%, FN at FP <= 0.1% 8.49%
  // -> 3.77%, FP 0 both. (With the escaped charsets below as well: docs/benchmarks.md, fifth
  // session of 2026-12-06.) Of HTML the classifier keeps the words, tag names, attributes and
  // link hosts. Grams of the HTML's text instead did worse (--by-source 1-ROCA 0.607%).
  const bool first = st.text_bytes == 0;
  st.text_bytes += text.size();
  if (first && part.subtype != "html") sink.grams("body", text, kGramBytes);
  if (part.subtype == "html") {
    st.html = true;
    st.html_bytes += text.size();
    text = html_text(text, sink);
    st.html_text += text.size();
  } else {
    st.plain = true;
    sink.links_in(text);
  }
  count_text(text, st);
  sink.dbcs = dbcs;
  sink.words("body", text, true);
  sink.dbcs = false;
}

std::string ratio_bucket(std::size_t part, std::size_t whole) {
  return whole == 0 ? "none" : std::to_string(part * 10 / whole);
}

// Removes repeated features, keeping the first of each (order does not matter to the model):
// an open-addressing set with generation stamps, reused by the thread, instead of a sort.
void dedupe(std::vector<std::uint32_t>& v) {
  struct Slot {
    std::uint32_t key, stamp;
  };
  thread_local std::vector<Slot> slots;  // key and stamp side by side: one cache line per probe
  thread_local std::uint32_t generation = 0;
  std::size_t cap = 1024;
  while (cap < v.size() * 2) cap <<= 1;
  if (slots.size() < cap) {
    slots.assign(cap, Slot{0, 0});
    generation = 0;
  }
  if (++generation == 0) {  // wrapped: forget every old stamp
    for (auto& s : slots) s.stamp = 0;
    generation = 1;
  }
  const std::size_t mask = slots.size() - 1;
  std::size_t kept = 0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    const std::uint32_t x = v[k];
    std::size_t i = x & mask;
    bool seen = false;
    while (slots[i].stamp == generation) {
      if (slots[i].key == x) {
        seen = true;
        break;
      }
      i = (i + 1) & mask;
    }
    if (seen) continue;
    slots[i] = Slot{x, generation};
    v[kept++] = x;
  }
  v.resize(kept);
}

}  // namespace

std::vector<std::uint32_t> extract_features(std::string_view msg) {
  return extract_features(msg, message::parse_mime(msg));
}

std::uint32_t rule_feature(std::string_view rule_name) { return fnv(fnv("rule") * 31u, rule_name); }

std::vector<std::uint32_t> extract_features(std::string_view msg, const message::Part& root) {
  Sink sink;
  sink.out.reserve(4096);
  header_features(root.headers, sink, message_charset(root));
  header_shape(root.headers, sink);
  BodyState st;
  body_features(msg, root, sink, st, 0);
  sink.add("size", size_bucket(msg.size()));
  sink.add("parts", std::to_string(std::min<std::size_t>(st.parts, 10)));
  if (st.html && !st.plain) sink.add("struct", "html-only");
  if (!st.html && !st.plain) sink.add("struct", "no-text");
  if (st.letters >= 100) sink.add("upper-ratio", ratio_bucket(st.upper * 2, st.letters));
  if (st.html_bytes > 0) sink.add("html-text-ratio", ratio_bucket(st.html_text, st.html_bytes));
  sink.add("bangs", size_bucket(st.bangs));
  sink.add("dollars", size_bucket(st.dollars));
  dedupe(sink.out);
  return std::move(sink.out);
}

}  // namespace mk::filter
