#include "guard/fingerprint.hpp"

#include <algorithm>

#include "message/codec.hpp"
#include "message/mime.hpp"

namespace mk::guard {
namespace {

// MIME nesting looked into for text; deeper parts are not what a reader sees first.
constexpr std::size_t kMaxTextDepth = 8;

// FNV-1a, then a SplitMix64 finalizer: the sketch keeps the smallest values, so every bit
// must be well mixed, which FNV alone is not in its high bits.
std::uint64_t hash_words(const std::vector<std::string>& words, std::size_t from) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = from; i < from + kShingleWords; ++i) {
    for (unsigned char c : words[i]) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= ' ';
    h *= 1099511628211ULL;
  }
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_tag = false, line_start = true, quoted = false;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      flush();
      line_start = true;
      quoted = false;
      continue;
    }
    if (line_start && !in_tag && c == '>') quoted = true;
    if (c != ' ' && c != '\t' && c != '\r') line_start = false;
    if (quoted) continue;
    if (c == '<') in_tag = true;
    if (in_tag) {
      if (c == '>') in_tag = false;
      flush();
      continue;
    }
    if (c >= '0' && c <= '9') {
      if (word.empty() || word.back() != '0') word += '0';
    } else if ((c >= 'a' && c <= 'z') || c >= 0x80) {
      word += char(c);
    } else if (c >= 'A' && c <= 'Z') {
      word += char(c - 'A' + 'a');
    } else {
      flush();
    }
  }
  flush();
  return words;
}

void collect(std::string_view msg, const message::Part& p, std::size_t depth, std::string& out) {
  if (out.size() >= kFingerprintTextBytes || depth > kMaxTextDepth) return;
  if (p.is_multipart() || p.is_message()) {
    for (const auto& c : p.children) collect(msg, c, depth + 1, out);
    return;
  }
  if (p.type != "text" || p.disposition == "attachment") return;
  std::string decoded = message::decode_transfer(p.body(msg), p.encoding);
  out.append(decoded, 0, kFingerprintTextBytes - out.size());
  out += '\n';
}

}  // namespace

std::optional<Fingerprint> fingerprint(std::string_view text) {
  const auto words = words_of(text.substr(0, kFingerprintTextBytes));
  if (words.size() < kShingleWords || words.size() - kShingleWords + 1 < kMinShingles) return std::nullopt;
  std::vector<std::uint64_t> hashes;
  hashes.reserve(words.size());
  for (std::size_t i = 0; i + kShingleWords <= words.size(); ++i) hashes.push_back(hash_words(words, i));
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  if (hashes.size() < kMinShingles) return std::nullopt;  // the same few words over and over
  if (hashes.size() > kSketchSize) hashes.resize(kSketchSize);
  return Fingerprint{std::move(hashes)};
}

int resemblance(const Fingerprint& a, const Fingerprint& b) {
  // Broder's estimate: of the k smallest hashes of the union, the share found in both.
  const std::size_t k = std::min(a.sketch.size(), b.sketch.size());
  if (k == 0) return 0;
  std::size_t i = 0, j = 0, seen = 0, both = 0;
  while (seen < k && i < a.sketch.size() && j < b.sketch.size()) {
    if (a.sketch[i] == b.sketch[j]) {
      ++both;
      ++i;
      ++j;
    } else if (a.sketch[i] < b.sketch[j]) {
      ++i;
    } else {
      ++j;
    }
    ++seen;
  }
  return int(both * 100 / k);
}

std::string readable_text(const message::Parsed& msg) {
  std::string out;
  collect(msg.text(), msg.mime(), 0, out);
  return out;
}

}  // namespace mk::guard
