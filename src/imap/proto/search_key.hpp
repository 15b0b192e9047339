// imap/proto/search_key.hpp: the SEARCH key grammar, parsed into a tree.
//
// parse_search_keys() reads `search-key *(SP search-key)`, the criteria of SEARCH and, after
// their charset, of SORT and THREAD, into a SearchKey tree that imap/server/search.cpp
// evaluates against messages. It only parses: no I/O, no store, no session state ("$" is
// kept as a flag on the set, resolved by the session). A rejection says which rule failed and
// where (offset and token), so callers and tests need not guess from a reply text.
//
// STANDARDS: RFC 9051 §6.4.4 and §9 (search-key), RFC 3501 §6.4.4 (NEW, OLD, RECENT), RFC 7162
// §3.1.5 (MODSEQ), RFC 5182 ("$" as a sequence set).
// SECURITY: input is untrusted. A search holds at most kMaxSearchKeys keys and nests at most
// kMaxNesting deep (parentheses, NOT, OR), which bounds both this recursive parser and the
// recursive evaluation of its tree; strings are bounded by the framed command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imap/proto/parser.hpp"

namespace mk::imap {

// Keys in one search, nested ones included (every key, NOT and OR count as one each).
inline constexpr int kMaxSearchKeys = 1000;
// The longest bad token a SearchKeyError quotes.
inline constexpr std::size_t kMaxSearchErrorToken = 64;

// One node of a parsed search. The top of parse_search_keys()'s result is an `and_` of the
// keys as given. NEW and OLD arrive as what they mean: (RECENT UNSEEN) and NOT RECENT.
struct SearchKey {
  enum class Kind : std::uint8_t {
    all,
    flag_set,    // ANSWERED DELETED DRAFT FLAGGED SEEN, KEYWORD: `name` is the flag
    flag_unset,  // UN... and UNKEYWORD
    recent,
    header,  // FROM TO CC BCC SUBJECT (`name` is that word) and HEADER (`name` upper-cased)
    body,
    text,
    before,  // internal date; `number` is midnight UTC of the day, in seconds
    on,
    since,
    sent_before,  // Date: header; `number` as for before
    sent_on,
    sent_since,
    larger,  // `number` octets
    smaller,
    uid,     // UID set
    seq,     // sequence set (a key that starts with a digit, "*" or "$")
    modseq,  // `number` is the lowest MODSEQ that matches
    not_,    // kids[0]
    or_,     // kids[0] or kids[1]
    and_,    // every kid (parentheses, and the top level); no kids matches everything
  };
  Kind kind = Kind::all;
  std::string name;         // flag (case kept), or header name (upper-cased)
  std::string value;        // header, body, text: the search string, lower-cased
  std::int64_t number = 0;  // dates, sizes, MODSEQ
  SeqSet set;               // uid, seq
  std::vector<SearchKey> kids;
};

// Why a search was rejected. `code` decides the reply text (text()).
enum class SearchKeyErrc : std::uint8_t {
  syntax,               // a missing SP after NOT or OR, or text after the last key
  unknown_key,          // no search key by that name
  too_many_keys,        // more than kMaxSearchKeys
  too_deep,             // nested deeper than kMaxNesting
  unbalanced_parens,    // no ")", or anything else failed inside parentheses (see cause)
  bad_sequence_set,     // a key that starts like a sequence set but is not one
  bad_uid_set,          // UID without a valid set
  bad_flag,             // KEYWORD, UNKEYWORD without a valid flag
  bad_date,             // BEFORE ON SINCE SENT*: no valid date
  bad_size,             // LARGER, SMALLER: no valid number64
  bad_modseq,           // MODSEQ: no valid [entry-name entry-type] mod-sequence-valzer
  missing_string,       // FROM ... HEADER BODY TEXT: no search string
  missing_header_name,  // HEADER: no field name
};

struct SearchKeyError {
  // What the reply reports. A failure inside parentheses is reported as unbalanced_parens,
  // as this server always has; `cause` keeps what actually failed there.
  SearchKeyErrc code = SearchKeyErrc::syntax;
  SearchKeyErrc cause = SearchKeyErrc::syntax;
  std::size_t offset = 0;  // where the bad token starts, as Cursor::pos() counts
  // That token: up to SP, CR, LF or a parenthesis, at most kMaxSearchErrorToken bytes; "" at
  // the end of the input or at a SP.
  std::string token;
  // The reply text for `code` ("Unknown search key"); the tagged BAD carries it.
  std::string_view text() const;
};

// The keys, or why there are none.
struct ParsedSearchKeys {
  std::optional<SearchKey> keys;  // Kind::and_ of every key given
  SearchKeyError error;           // meaningful only without keys
  explicit operator bool() const { return keys.has_value(); }
};

// Parses search keys from the cursor to the end of its input (after "CHARSET x" or a SORT or
// THREAD charset, if any). On error the cursor is left somewhere inside the keys.
ParsedSearchKeys parse_search_keys(Cursor& c);

}  // namespace mk::imap
