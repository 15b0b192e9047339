// message/header.hpp: RFC 5322 header fields, MIME parameters and address lists.
//
// STANDARDS: RFC 5322 §2.2 (fields, folding), §3.4 (address lists, groups), §3.2.2
// (comments), RFC 2045 §5.1 (Content-Type parameters), RFC 2231 (parameter continuations
// and charsets), RFC 2047 (encoded words, decoded by decode_words()).
// SECURITY: input is untrusted message text; every function is bounded by its input size
// and the caller's limits, tolerates malformed input (real mail is often broken) and never
// throws on it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mk::message {

struct HeaderField {
  std::string_view name;   // as written, without the colon
  std::string_view value;  // raw, folded, after the colon (leading space kept)
};

struct HeaderLimits {
  std::size_t max_bytes = 256 * 1024;
  std::size_t max_fields = 2000;
};

// Splits a header block (up to and excluding the empty line). Lines without a colon that are
// not continuations are skipped (e.g. a stray mbox "From " line).
std::vector<HeaderField> parse_header_block(std::string_view block, const HeaderLimits& limits = {});

// Whether parse_header_block(block, limits), which returned `parsed` fields, left some out:
// the block is longer than limits.max_bytes or reached limits.max_fields.
bool header_truncated(std::string_view block, std::size_t parsed, const HeaderLimits& limits = {});

// Returns the index one past the header block's terminating empty line and sets
// header_end to where the block itself ends (before the empty line). If there is no empty
// line the whole input is header and the body is empty.
std::size_t find_body_start(std::string_view msg, std::size_t& header_end);

// The header fields of a whole message (everything before its first empty line).
std::vector<HeaderField> parse_message_header(std::string_view msg, const HeaderLimits& limits = {});

// Unfolds (removes CRLF before WSP) and trims.
std::string unfold(std::string_view value);

// First field with this name (case-insensitive), unfolded.
std::optional<std::string> header_value(const std::vector<HeaderField>& fields, std::string_view name);
// The same with each fold as one space, the way a reader sees the line: a long Subject folded
// with an indent is not a subject padded with spaces. The white space around a fold counts
// whole (before it, after it, and over further folds): more than one character before the
// break, or more than 8 in all, is kept as written (padding all the same), only the line
// breaks dropped.
std::optional<std::string> header_value_as_read(const std::vector<HeaderField>& fields, std::string_view name);
// One field's value read that way.
std::string unfold_as_read(std::string_view value);

// The msg-ids ("<id-left@id-right>") of a Message-ID, In-Reply-To or References value,
// without the angle brackets, in order; at most max_ids.
std::vector<std::string> msg_ids(std::string_view value, std::size_t max_ids = 100);

// RFC 5322 §3.2.2: removes comments (nested, with quoted-pairs), outside quoted strings.
std::string strip_comments(std::string_view s);

struct ParamValue {
  std::string type;  // "text/plain" style value before the parameters, lower-cased
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, values decoded
  std::optional<std::string> param(std::string_view name) const;
};
// Content-Type / Content-Disposition: value; name=value; ... with RFC 2231 continuations
// and extended (charset'lang'%XX) values, converted to UTF-8 when the charset is known.
ParamValue parse_params(std::string_view value, std::size_t max_params = 64);

// RFC 5322 address-list. A group yields a start marker (group set, mailbox empty), its
// members, and an end marker (all empty), which is what IMAP's ENVELOPE needs.
struct Address {
  std::string name;   // display name, raw (may contain encoded words)
  std::string route;  // obsolete source route, if any
  std::string local;
  std::string domain;
  std::string group;  // group name for a group start marker
  bool group_start = false;
  bool group_end = false;
};
std::vector<Address> parse_address_list(std::string_view value, std::size_t max_addresses = 1000);

// RFC 2047 encoded words ("=?charset?Q|B?text?=") decoded to UTF-8; text in unknown charsets
// is left encoded. Adjacent encoded words separated only by white space are joined.
std::string decode_words(std::string_view value);

// Whether text is well-formed UTF-8 (ASCII is).
bool valid_utf8(std::string_view text);

// Converts text in the given charset to UTF-8 (iconv), read as charset_reading(charset);
// bytes it cannot read become U+FFFD. Returns nullopt for an unknown charset.
std::optional<std::string> to_utf8(std::string_view text, std::string_view charset);

// Whether `charset` is of the ISO-2022 family (ISO-2022-JP, -JP-2, -KR, -CN, ..., with or
// without the hyphen or a "cs" prefix, in any case): 7-bit charsets that shift between
// character sets with escape sequences.
bool iso2022_charset(std::string_view charset);

// Whether `charset` is one of the double-byte charsets of Chinese, Japanese and Korean
// (GB2312, GBK, Big5, EUC-KR, Shift_JIS, EUC-JP, ..., in any case).
bool double_byte_charset(std::string_view charset);
// The charset text labelled `charset` is read in: a double-byte charset's usual superset,
// because mailers name the smaller set and write the larger one (GBK's characters under
// "gb2312", Windows' additions under "shift_jis" and "big5", Unified Hangul under "euc-kr"):
// GB18030, CP936, CP950, CP949, CP932, EUC-JP-MS; any other charset as it is named (the
// view is then `charset` itself: keep the argument alive while the result is used).
std::string_view charset_reading(std::string_view charset);

}  // namespace mk::message
