// guard/fingerprint.hpp: a similarity fingerprint of a message's text, for telling a spam
// run (one text sent as many messages, each with a name or a token changed) from ordinary
// mail (a different text each time).
//
// The fingerprint is a bottom-k sketch (Broder, "On the resemblance and containment of
// documents", 1997): the kSketchSize smallest hashes of the text's word shingles (runs of
// kShingleWords words). Two sketches estimate the Jaccard resemblance of the texts' shingle
// sets; a spam template with a changed name or token keeps most shingles (resemblance 0.8
// and more), while two different messages that share a greeting and a signature keep few.
// A SimHash was tried first: with a short message its bits move with every changed word,
// so a threshold tight enough for unrelated texts missed templates.
// Words are lower-cased and every run of digits reads as one "0", so order numbers and
// prices do not make texts differ. Quoted lines ("> ...") are left out: a reply's own words
// are what was written. HTML tags are skipped.
// SECURITY: the text is untrusted; at most kFingerprintTextBytes of it are read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "message/parsed.hpp"

namespace mk::guard {

inline constexpr std::size_t kFingerprintTextBytes = 16 * 1024;
inline constexpr std::size_t kShingleWords = 3;
inline constexpr std::size_t kSketchSize = 16;
// Shorter texts ("Thanks, see you then") carry too little to compare: no fingerprint.
inline constexpr std::size_t kMinShingles = 8;
// The resemblance from which two texts are near-identical, in percent.
inline constexpr int kNearResemblancePercent = 50;

struct Fingerprint {
  std::vector<std::uint64_t> sketch;  // ascending, distinct, at most kSketchSize
};

// The fingerprint of a text; nullopt when it has fewer than kMinShingles shingles.
std::optional<Fingerprint> fingerprint(std::string_view text);
// The estimated resemblance of two texts, in percent.
int resemblance(const Fingerprint& a, const Fingerprint& b);
inline bool near_identical(const Fingerprint& a, const Fingerprint& b) {
  return resemblance(a, b) >= kNearResemblancePercent;
}
// The text a reader sees: the transfer-decoded text/* parts that are not attachments, one
// after another, at most kFingerprintTextBytes.
std::string readable_text(const message::Parsed& msg);

}  // namespace mk::guard
