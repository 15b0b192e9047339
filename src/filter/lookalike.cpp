#include "filter/lookalike.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace mk::filter {
namespace {

// RFC 3492 §5 parameters.
constexpr std::uint32_t kBase = 36, kTmin = 1, kTmax = 26, kSkew = 38, kDamp = 700, kInitialBias = 72,
                        kInitialN = 128;

std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
  delta = first ? delta / kDamp : delta / 2;
  delta += delta / points;
  std::uint32_t k = 0;
  while (delta > ((kBase - kTmin) * kTmax) / 2) {
    delta /= kBase - kTmin;
    k += kBase;
  }
  return k + (kBase - kTmin + 1) * delta / (delta + kSkew);
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0' + 26;
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  return -1;
}

// Look-alikes of ASCII letters: Cyrillic, Greek and accented Latin letters that render
// like them in common fonts (a selection of Unicode's confusables, lower case).
std::string fold(char32_t c) {
  if (c < 0x80) return std::string(1, char(c));
  struct Pair {
    char32_t from;
    char to;
  };
  static constexpr Pair kMap[] = {
      // Latin-1 and Latin Extended-A accented letters
      {0xe0, 'a'}, {0xe1, 'a'}, {0xe2, 'a'}, {0xe3, 'a'}, {0xe4, 'a'}, {0xe5, 'a'}, {0xe7, 'c'}, {0xe8, 'e'},
      {0xe9, 'e'}, {0xea, 'e'}, {0xeb, 'e'}, {0xec, 'i'}, {0xed, 'i'}, {0xee, 'i'}, {0xef, 'i'}, {0xf1, 'n'},
      {0xf2, 'o'}, {0xf3, 'o'}, {0xf4, 'o'}, {0xf5, 'o'}, {0xf6, 'o'}, {0xf8, 'o'}, {0xf9, 'u'}, {0xfa, 'u'},
      {0xfb, 'u'}, {0xfc, 'u'}, {0xfd, 'y'}, {0xff, 'y'}, {0x101, 'a'}, {0x103, 'a'}, {0x105, 'a'}, {0x107, 'c'},
      {0x10d, 'c'}, {0x111, 'd'}, {0x113, 'e'}, {0x117, 'e'}, {0x119, 'e'}, {0x11b, 'e'}, {0x123, 'g'},
      {0x12b, 'i'}, {0x12f, 'i'}, {0x131, 'i'}, {0x137, 'k'}, {0x13c, 'l'}, {0x142, 'l'}, {0x144, 'n'},
      {0x146, 'n'}, {0x148, 'n'}, {0x14d, 'o'}, {0x151, 'o'}, {0x155, 'r'}, {0x159, 'r'}, {0x15b, 's'},
      {0x15f, 's'}, {0x161, 's'}, {0x163, 't'}, {0x165, 't'}, {0x16b, 'u'}, {0x16f, 'u'}, {0x171, 'u'},
      {0x173, 'u'}, {0x17a, 'z'}, {0x17c, 'z'}, {0x17e, 'z'}, {0x1ce, 'a'}, {0x1d0, 'i'}, {0x1d2, 'o'},
      {0x1d4, 'u'}, {0x251, 'a'}, {0x261, 'g'}, {0x269, 'i'}, {0x26a, 'i'}, {0x28f, 'y'},
      // Greek
      {0x3b1, 'a'}, {0x3b2, 'b'}, {0x3b5, 'e'}, {0x3b9, 'i'}, {0x3ba, 'k'}, {0x3bd, 'v'}, {0x3bf, 'o'},
      {0x3c1, 'p'}, {0x3c4, 't'}, {0x3c5, 'u'}, {0x3c7, 'x'}, {0x3f2, 'c'}, {0x3f3, 'j'},
      // Cyrillic
      {0x430, 'a'}, {0x432, 'b'}, {0x435, 'e'}, {0x43a, 'k'}, {0x43c, 'm'}, {0x43d, 'h'}, {0x43e, 'o'},
      {0x440, 'p'}, {0x441, 'c'}, {0x442, 't'}, {0x443, 'y'}, {0x445, 'x'}, {0x44c, 'b'}, {0x450, 'e'},
      {0x451, 'e'}, {0x455, 's'}, {0x456, 'i'}, {0x457, 'i'}, {0x458, 'j'}, {0x45d, 'n'}, {0x4bb, 'h'},
      {0x4cf, 'l'}, {0x501, 'd'}, {0x50d, 'g'}, {0x51b, 'q'}, {0x51d, 'w'},
  };
  const auto it = std::lower_bound(std::begin(kMap), std::end(kMap), c,
                                   [](const Pair& p, char32_t v) { return p.from < v; });
  if (it != std::end(kMap) && it->from == c) return std::string(1, it->to);
  return "\x01" + std::to_string(std::uint32_t(c)) + "\x01";  // itself: nothing imitates it
}

// Look-alike ASCII groups, in a name already folded to ASCII.
std::string fold_groups(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (c == 'r' && next == 'n') out += 'm', ++i;
    else if (c == 'v' && next == 'v') out += 'w', ++i;
    else if (c == 'c' && next == 'l') out += 'd', ++i;
    else if (c == '0') out += 'o';
    else if (c == '1' || c == 'i') out += 'l';
    else if (c == '5') out += 's';
    else out += c;
  }
  return out;
}

// Damerau-Levenshtein distance, capped: true if a and b differ by at most one edit.
bool one_edit(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  std::size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == a.size()) return true;  // equal, or one added at the end
  if (a.size() == b.size()) {
    if (a.substr(i + 1) == b.substr(i + 1)) return true;  // one changed
    return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] && a.substr(i + 2) == b.substr(i + 2);  // swapped
  }
  return a.substr(i) == b.substr(i + 1);  // one added
}

}  // namespace

std::optional<std::u32string> punycode_decode(std::string_view in) {
  std::u32string out;
  const auto dash = in.rfind('-');
  std::size_t pos = 0;
  if (dash != std::string_view::npos) {
    for (std::size_t i = 0; i < dash; ++i) {
      if (static_cast<unsigned char>(in[i]) >= 0x80) return std::nullopt;
      out += char32_t(in[i]);
    }
    pos = dash + 1;
  }
  std::uint32_t n = kInitialN, i = 0, bias = kInitialBias;
  while (pos < in.size()) {
    const std::uint32_t old_i = i;
    std::uint32_t w = 1;
    for (std::uint32_t k = kBase;; k += kBase) {
      if (pos >= in.size()) return std::nullopt;
      const int d = digit_value(in[pos++]);
      if (d < 0) return std::nullopt;
      if (std::uint32_t(d) > (UINT32_MAX - i) / w) return std::nullopt;
      i += std::uint32_t(d) * w;
      const std::uint32_t t = k <= bias ? kTmin : k >= bias + kTmax ? kTmax : k - bias;
      if (std::uint32_t(d) < t) break;
      if (w > UINT32_MAX / (kBase - t)) return std::nullopt;
      w *= kBase - t;
    }
    const std::uint32_t points = std::uint32_t(out.size()) + 1;
    bias = adapt(i - old_i, points, old_i == 0);
    if (i / points > UINT32_MAX - n) return std::nullopt;
    n += i / points;
    i %= points;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) || out.size() >= 63) return std::nullopt;
    out.insert(out.begin() + i, char32_t(n));
    ++i;
  }
  return out;
}

std::string skeleton(std::string_view domain) {
  std::string folded;
  std::size_t start = 0;
  while (start <= domain.size()) {
    auto end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    const std::string_view label = domain.substr(start, end - start);
    if (label.size() > 4 && label.substr(0, 4) == "xn--") {
      if (auto cps = punycode_decode(label.substr(4))) {
        for (char32_t c : *cps) folded += fold(c);
      } else {
        folded += label;
      }
    } else {
      folded += label;
    }
    if (end == domain.size()) break;
    folded += '.';
    start = end + 1;
  }
  return fold_groups(folded);
}

namespace {

// The skeleton's first label: what a typo of the name is judged on.
std::string_view first_label(std::string_view skel) {
  return skel.substr(0, skel.find('.'));
}

// Whether `candidate` (skeleton `sc`) is a typo of the known domain `k` (skeleton `sk`): under
// the same suffix ("examp1e.org", "exmaple.org"), for names long enough that a near miss is
// no coincidence.
bool typo_of(std::string_view candidate, std::string_view sc, std::string_view k,
             std::string_view sk) {
  const auto dot = candidate.find('.');
  const auto kdot = k.find('.');
  if (dot == std::string_view::npos || kdot == std::string_view::npos || kdot < 6) return false;
  if (candidate.substr(dot) != k.substr(kdot)) return false;
  return one_edit(first_label(sc), first_label(sk));
}

}  // namespace

std::optional<std::string> imitated(std::string_view candidate, const std::vector<std::string>& known) {
  const std::string sc = skeleton(candidate);
  for (const auto& k : known) {
    if (k == candidate || k.empty()) continue;
    const std::string sk = skeleton(k);
    if (sk == sc || typo_of(candidate, sc, k, sk)) return k;
  }
  return std::nullopt;
}

namespace {

// The longest DNS label (RFC 1035 section 2.3.4).
constexpr std::size_t kMaxLabel = 63;

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// How many bytes at `at` are a character that cannot be in a name: ASCII other than letters,
// digits and the hyphen; in UTF-8, the no-break, typographic and ideographic spaces and the
// zero-width characters (U+00A0, U+2000-U+200F, U+2028-U+202F, U+205F-U+2064, U+3000,
// U+FEFF), which a display name can be padded with unseen. 0: a name's byte.
std::size_t blank_at(std::string_view t, std::size_t at) {
  const auto b = [&](std::size_t i) { return at + i < t.size() ? static_cast<unsigned char>(t[at + i]) : 0u; };
  const unsigned c = b(0);
  if (c < 0x80) return alnum(char(c)) || c == '-' ? 0 : 1;
  if (c == 0xC2 && b(1) == 0xA0) return 2;
  if (c == 0xE2 && b(1) == 0x80 && ((b(2) >= 0x80 && b(2) <= 0x8F) || (b(2) >= 0xA8 && b(2) <= 0xAF))) return 3;
  if (c == 0xE2 && b(1) == 0x81 && b(2) >= 0x9F && b(2) <= 0xA4) return 3;
  if (c == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  if (c == 0xEF && b(1) == 0xBB && b(2) == 0xBF) return 3;
  return 0;
}

// The key of the typo index: the length of a skeleton's first label and the suffix.
std::string typo_key(std::size_t length, std::string_view suffix) {
  std::string key = std::to_string(length);
  key += suffix;
  return key;
}

}  // namespace

KnownDomains::KnownDomains(std::vector<std::string> domains) : domains_(std::move(domains)) {
  std::sort(domains_.begin(), domains_.end());
  domains_.erase(std::unique(domains_.begin(), domains_.end()), domains_.end());
  if (!domains_.empty() && domains_.front().empty()) domains_.erase(domains_.begin());
  by_skeleton_.reserve(domains_.size());
  for (std::size_t i = 0; i < domains_.size(); ++i) {
    const std::string& k = domains_[i];
    std::string sk = skeleton(k);
    const std::size_t end = std::min(k.find('.'), k.size());  // the name: the first label
    if (end != k.size() && end >= 6) {
      const std::string_view label = first_label(sk);
      by_suffix_[typo_key(label.size(), std::string_view(k).substr(end))].push_back({i, std::string(label)});
    }
    if (end >= kMinName && end <= kMaxLabel) {
      by_name_.try_emplace(k.substr(0, end), i);
      name_lengths_ |= std::uint64_t(1) << end;
      name_first_.set(static_cast<unsigned char>(k[0]));
      name_last_.set(static_cast<unsigned char>(k[end - 1]));
    }
    // The first two in byte order of each skeleton.
    auto [it, fresh] = by_skeleton_.try_emplace(std::move(sk), i, kNone);
    if (!fresh && it->second.second == kNone) it->second.second = i;
  }
}

bool KnownDomains::contains(std::string_view domain) const {
  return std::binary_search(domains_.begin(), domains_.end(), domain, std::less<>());
}

std::optional<std::string> KnownDomains::imitated(std::string_view candidate) const {
  const std::string sc = skeleton(candidate);
  // A known domain with the candidate's skeleton, other than the candidate itself.
  if (const auto it = by_skeleton_.find(sc); it != by_skeleton_.end()) {
    const auto [first, second] = it->second;
    if (domains_[first] != candidate) return domains_[first];
    if (second != kNone) return domains_[second];
  }
  // A typo: the known names under the candidate's suffix within one letter of its length.
  const auto dot = candidate.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view label = first_label(sc);
  std::size_t best = kNone;
  for (std::size_t length = label.empty() ? 0 : label.size() - 1; length <= label.size() + 1; ++length) {
    const auto bucket = by_suffix_.find(typo_key(length, candidate.substr(dot)));
    if (bucket == by_suffix_.end()) continue;
    for (const auto& n : bucket->second) {  // in byte order: the first that matches
      if (n.index >= best) break;
      if (domains_[n.index] != candidate && one_edit(label, n.label)) best = n.index;
    }
  }
  if (best == kNone) return std::nullopt;
  return domains_[best];
}

std::optional<std::string> KnownDomains::named_in(std::string_view text) const {
  if (by_name_.empty()) return std::nullopt;
  // The text with each run of what cannot be in a name (ASCII punctuation and spaces, and the
  // invisible or space characters of Unicode) made one space: padding neither hides a name
  // past the bytes looked at nor costs their time. A boundary stays a boundary (both are
  // bytes that are not ASCII letters or digits), so what matches is what matched in the text.
  std::string s;
  std::size_t at = 0;
  while (at < text.size() && s.size() < kNamedBytes) {
    if (const std::size_t n = blank_at(text, at); n > 0) {
      if (!s.empty() && s.back() != ' ') s += ' ';
      at += n;
    } else {
      s += text[at++];
    }
  }
  // Cut inside a word: what follows the last boundary is not a whole word.
  if (at < text.size() && !s.empty() && alnum(s.back()) && alnum(text[at])) {
    while (!s.empty() && alnum(s.back())) s.pop_back();
  }
  // Every stretch that starts and ends at a word's edge (a byte that is not an ASCII letter
  // or digit, or the text's end) and that some name could be: its length, first and last
  // bytes. A name may hold a hyphen ("bright-water"), so the stretches may span one.
  std::size_t best = kNone;
  std::string key;
  for (std::size_t p = 0; p < s.size(); ++p) {
    if (!name_first_[static_cast<unsigned char>(s[p])] || (p > 0 && alnum(s[p - 1]))) continue;
    for (std::size_t q = p + 1; q <= s.size() && q - p <= kMaxLabel && s[q - 1] != ' '; ++q) {
      if (((name_lengths_ >> (q - p)) & 1) == 0 || !name_last_[static_cast<unsigned char>(s[q - 1])]) continue;
      if (q < s.size() && alnum(s[q])) continue;
      key.assign(s, p, q - p);
      if (const auto it = by_name_.find(key); it != by_name_.end() && it->second < best) best = it->second;
    }
  }
  if (best == kNone) return std::nullopt;
  return domains_[best];
}

}  // namespace mk::filter
