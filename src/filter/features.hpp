// filter/features.hpp: what the statistical classifier sees of a message: hashed binary
// features from its header, its text and its structure.
//
// - Header: the fields that carry meaning (From, To, Cc, Reply-To, Subject, Return-Path,
//   Message-ID, Content-Type, X-Mailer, User-Agent, ...) as words prefixed by the field
//   name; every field name that is present. Ignored: fields other filters add (X-Spam-*,
//   X-Mailkeep-*, Authentication-Results from elsewhere), because a sender could forge them
//   and a verdict must not learn from another filter's verdict; the words of mailing-list
//   fields (List-*, Sender, Precedence) and of Received, which describe the route, not the
//   author.
// - Text: every text/* part that is not an attachment, transfer-decoded; HTML is reduced to
//   its words, with tag names and link hosts as features of their own. Words are lower-cased
//   and paired with the next words (orthogonal sparse bigrams, window 4), which captures
//   phrases without the cost of full n-grams. A word with a digit (up to 24 bytes) also
//   counts as its shape ("9.99", "9-999-999-9999"), and one of 5 to 31 bytes with an ASCII
//   letter and no digit as its first 4 bytes (a crude stem), so that a new number or another
//   form of a known word is no stranger.
//   Text written without spaces (Chinese, Japanese, Korean) is also cut into pairs of
//   characters, in UTF-8. A text part in a declared double-byte charset (GB2312, Big5,
//   EUC-KR, Shift_JIS, ...) is converted to UTF-8 first, read as the charset's usual superset
//   (GB18030, CP950, CP949, CP932, EUC-JP-MS), and cut into pairs of raw bytes only when
//   iconv can read it as neither; so is a part in a 7-bit escaped charset (ISO-2022-JP and
//   its kin, UTF-7), and a header field written raw in the message's charset (an ISO-2022
//   one's escapes give it away); 7-bit text with ISO-2022-JP's escapes and no such charset
//   declared is read as ISO-2022-JP.
// - Links: host names, their registrable-looking suffix (last two labels), IP literals, and
//   the words of the path, whole and in pieces ("remove.html"; "remove", "html").
// - Structure: MIME types, charsets, encodings, attachment extensions, part count, size.
// - Shapes: how the header is put together (generated names and tracking codes, Date and
//   Message-ID forms, "Re:" without a thread, missing fields), the share of capitals, "!"
//   and "$", how much of the HTML is text; list fields count only as present.
// - Byte 4-grams of the first KiB of the first text part when it is plain text (not of HTML
//   source, which is a sender's template: see features.cpp).
// Features are 32-bit hashes (FNV-1a of a zone prefix and the token), each once, in no
// particular order; the model folds them into its table.
// SECURITY: untrusted input; work is linear in the bytes looked at, which are bounded
// (kMaxTextBytes of text, MIME limits), so a huge or hostile message costs bounded time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "message/mime.hpp"

namespace mk::filter {

// Decoded text looked at per message: the start of a message says most, and a bound keeps a
// huge one cheap. Chosen on the training split of bench/spam (the test split not read; 16 KiB,
// the earlier choice, had been made on the test split), `cv.py --draws 12` (the mean of twelve
// draws of the folds; rules, phishing checks and classifier): 16 -> 32 KiB by source FN at the
// Junk score 13.6 -> 13.2%, FN at FP <= 0.1% 11.3 -> 10.6%, 1-ROCA level (0.509 / 0.508%); by
// name FN 10.0 -> 9.5%, 1-ROCA 0.027 -> 0.025%, FN at FP <= 0.1% level (3.05 / 3.07%); the
// validation set's MX trained FN at FP <= 0.1% 5.66 -> 2.83% (six spam of 106 to three). 24,
// 40 and 64 KiB did no better (docs/benchmarks.md, eleventh session of 2026-12-07). Only
// messages with more than 16 KiB of text cost more (under 5% of the training split is that
// large at all).
inline constexpr std::size_t kMaxTextBytes = 32 * 1024;

// How deep and how far the features look into a message's MIME structure (the parse itself
// has mime.hpp's limits, shared by every reader of the message).
inline constexpr std::size_t kMaxFeatureDepth = 8;
inline constexpr std::size_t kMaxFeatureParts = 100;

// The features of a whole message (header and body, CRLF or LF line endings); with `root`
// (message::parse_mime(msg)) when the caller has parsed it already.
std::vector<std::uint32_t> extract_features(std::string_view msg);
std::vector<std::uint32_t> extract_features(std::string_view msg, const message::Part& root);
// A rule's firing as a feature ("rule" zone): the classifier learns what each header and
// content rule is worth on the mail it is trained on (filter/verdict.hpp).
std::uint32_t rule_feature(std::string_view rule_name);

}  // namespace mk::filter
