// imap/proto/list.hpp: sans-I/O parsing of the arguments of LIST, LSUB and STATUS.
//
// LIST has two forms (RFC 9051 §6.3.9, RFC 5258 §3). The basic one is "LIST reference
// pattern". The extended one has selection options before the reference, a parenthesized
// list of patterns, or return options after them; which form a command used changes what
// the server answers (an empty pattern is a request for the delimiter only in the basic
// form, and extended data items such as CHILDINFO only go to the extended form), so the
// parse says which it was. LSUB keeps the basic form.
//
// STANDARDS: RFC 5258 §3 and §6 (LIST-EXTENDED: selection options SUBSCRIBED, REMOTE,
// RECURSIVEMATCH; return options SUBSCRIBED, CHILDREN), RFC 6154 §5.1 (the SPECIAL-USE
// selection and return options), RFC 5819 §2 and §4 (LIST-STATUS: RETURN (STATUS (...))),
// RFC 9051 §6.3.9 (extended LIST is part of IMAP4rev2), RFC 9051 §6.3.11 (status-att),
// RFC 3501 §6.3.10 (RECENT), RFC 7162 §3.1.6 (HIGHESTMODSEQ).
// SECURITY: input is untrusted. Every option must be one we know: RFC 5258 §3 requires a BAD
// for an unrecognized one, so nothing unknown is skipped over. Patterns are counted against
// kMaxListPatterns and their bytes against kMaxListPatternBytes; STATUS items come from a
// fixed set and each is kept once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "imap/proto/parser.hpp"

namespace mk::imap {

// Patterns in one LIST "(...)": far more than any client sends.
inline constexpr std::size_t kMaxListPatterns = 64;
// The bytes of every pattern with the reference before it, together: a pattern may come as a
// literal of any size, and a mailbox name has at most 1000 bytes, so a pattern needs no more
// than that and a few wildcards. Matching costs these bytes times those of every level of the
// account's names, which this alone does not bound: the session counts a LIST's work
// (imap/server/list.cpp).
inline constexpr std::size_t kMaxListPatternBytes = 4096;

struct ListCommand {
  // RFC 5258 §3: selection options, a pattern list or return options were given.
  bool extended = false;
  // Selection options (RFC 5258 §3.1, RFC 6154 §5.1).
  bool select_subscribed = false;
  bool select_remote = false;
  bool select_special_use = false;
  bool recursive_match = false;
  // Return options (RFC 5258 §3.2, RFC 6154 §5.1, RFC 5819 §2). A selection option implies
  // the return option of its name (RFC 5258 §3.1, RFC 6154 §5.1): that is set here too.
  bool return_subscribed = false;
  bool return_children = false;
  bool return_special_use = false;
  std::vector<std::string> return_status;  // STATUS items, upper-cased; empty: no STATUS
  std::string reference;                   // as sent: decoding belongs to the session
  std::vector<std::string> patterns;       // as sent, at least one
};

// Parses what follows "LIST" or "LSUB" (from the SP after the name to the end of the
// command). On failure, `error` is the text for the tagged BAD.
std::optional<ListCommand> parse_list(Cursor& c, bool lsub, std::string& error);

// "(" status-att *(SP status-att) ")": the items, upper-cased, each once. An unknown item is
// an error (RFC 9051 §6.3.11 lists them; the server answers BAD).
std::optional<std::vector<std::string>> parse_status_items(Cursor& c, std::string& error);

}  // namespace mk::imap
