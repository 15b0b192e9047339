// imap/proto/parser.hpp: sans-I/O parsing of IMAP command arguments.
//
// A Cursor walks one framed command (imap/proto/framer.hpp: lines joined by CRLF, literal
// bytes in place) and parses the grammar's building blocks; each command's arguments are
// parsed by its handler with these, so the grammar stays next to the command it belongs to.
//
// STANDARDS: RFC 9051 §9 (formal syntax) and RFC 3501 §9; RFC 7888 (literals), RFC 3516
// (literal8), RFC 5182 ("$" SEARCHRES).
// SECURITY: input is untrusted; every parse is bounded by the input, nesting is bounded by
// kMaxNesting, and numbers are range-checked (RFC 9051 number, nz-number, number64).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mk::imap {

inline constexpr int kMaxNesting = 32;

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool eof() const { return pos_ >= s_.size(); }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return s_.substr(pos_); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool consume(char c);
  bool sp() { return consume(' '); }
  // Case-insensitive keyword followed by a non-atom character or the end.
  bool keyword(std::string_view kw);

  std::optional<std::string_view> atom();
  // astring = 1*ASTRING-CHAR / string  (ASTRING-CHAR includes ']')
  std::optional<std::string> astring();
  // string = quoted / literal (literal8 too when allow_binary)
  std::optional<std::string> string(bool allow_binary = false);
  std::optional<std::string> nstring();
  // list-mailbox = 1*list-char / string  (list-char includes % and *)
  std::optional<std::string> list_mailbox();
  std::optional<std::uint32_t> number();
  std::optional<std::uint32_t> nz_number();
  std::optional<std::uint64_t> number64();
  // Whether the last string() was a literal8 (~{n}).
  bool last_was_binary() const { return last_binary_; }

 private:
  std::optional<std::string> quoted();
  std::optional<std::string> literal(bool allow_binary);
  std::string_view s_;
  std::size_t pos_ = 0;
  bool last_binary_ = false;
};

bool is_atom_char(char c);

// The head of every command: tag SP name [SP "UID" handled as a prefix].
struct CommandHead {
  std::string tag;
  std::string name;  // upper-cased; "UID FETCH" style for UID commands
  bool uid = false;
};
// On success, the cursor is left after the name (before SP and the arguments).
std::optional<CommandHead> parse_head(Cursor& c, std::string& error);

// sequence-set with "*" as kStar and "$" (SEARCHRES) as a flag.
inline constexpr std::uint32_t kStar = UINT32_MAX;
struct SeqSet {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // each with first <= last
  bool saved = false;                                           // "$"
  // Whether n is in the set, with "*" meaning max.
  bool contains(std::uint32_t n, std::uint32_t max) const;
};
std::optional<SeqSet> parse_seq_set(Cursor& c);

// flag-list = "(" [flag *(SP flag)] ")"; flags keep their case, system flags normalized.
std::optional<std::vector<std::string>> parse_flag_list(Cursor& c);
// A single flag (\Seen, keyword); with allow_recent also \Recent, with allow_wildcard "\*".
std::optional<std::string> parse_flag(Cursor& c, bool allow_wildcard = false);

// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
// -> seconds since the epoch (UTC).
std::optional<std::int64_t> parse_date_time(Cursor& c);
// date = date-text / DQUOTE date-text DQUOTE (SEARCH SINCE etc.) -> midnight UTC of that day.
std::optional<std::int64_t> parse_date(Cursor& c);

}  // namespace mk::imap
