#include "imap/proto/search_key.hpp"

#include <algorithm>
#include <utility>

#include "base/strings.hpp"

namespace mk::imap {

std::string_view SearchKeyError::text() const {
  using E = SearchKeyErrc;
  switch (code) {
    case E::syntax: return "Invalid search";
    case E::unknown_key: return "Unknown search key";
    case E::too_many_keys:
    case E::too_deep: return "Search too complex";
    case E::unbalanced_parens: return "Unbalanced parentheses";
    case E::bad_sequence_set: return "Invalid sequence set";
    case E::bad_uid_set: return "Invalid UID set";
    case E::bad_flag: return "Invalid keyword";
    case E::bad_date: return "Invalid date";
    case E::bad_size: return "Invalid size";
    case E::bad_modseq: return "Invalid MODSEQ";
    case E::missing_string: return "Missing search string";
    case E::missing_header_name: return "Missing header name";
  }
  return "Invalid search";
}

namespace {

using Kind = SearchKey::Kind;
using Errc = SearchKeyErrc;

SearchKey key_of(Kind kind, std::string name = {}) {
  SearchKey k;
  k.kind = kind;
  k.name = std::move(name);
  return k;
}

// Recursive descent over RFC 9051 §9 search-key. A rule that fails records why with fail()
// and returns false; the rules around it only pass the false up (parentheses relabel the
// code, keeping the cause), so the innermost failure is the one reported.
class Parser {
 public:
  explicit Parser(Cursor& c) : c_(c), input_(c.rest()), base_(c.pos()) {}

  // search-key *(SP search-key), up to ")" when until_paren.
  bool keys(std::vector<SearchKey>& out, int depth, bool until_paren) {
    do {
      if (until_paren && c_.peek(')')) break;
      SearchKey k;
      if (!key(k, depth)) return false;
      out.push_back(std::move(k));
    } while (c_.sp());
    return true;
  }

  bool key(SearchKey& k, int depth);
  bool end() { return c_.eof() || fail(Errc::syntax, c_.pos()); }
  const SearchKeyError& error() const { return error_; }

 private:
  bool fail(Errc code, std::size_t at) {
    error_.code = error_.cause = code;
    error_.offset = at;
    const std::string_view rest = input_.substr(std::min(at - base_, input_.size()));
    const auto ends = [](char ch) {
      return ch == ' ' || ch == '(' || ch == ')' || ch == '\r' || ch == '\n';
    };
    std::size_t n = 0;
    if (!rest.empty() && (rest[0] == '(' || rest[0] == ')')) {
      n = 1;  // a parenthesis is a token of its own
    } else {
      while (n < rest.size() && n < kMaxSearchErrorToken && !ends(rest[n])) ++n;
    }
    error_.token = std::string(rest.substr(0, n));
    return false;
  }
  // The SP before an argument: false (after fail()) if it is missing.
  bool argument(Errc code) { return c_.sp() || fail(code, c_.pos()); }
  // SP string: a search string, lower-cased (matching is case-insensitive).
  bool search_string(std::string& into) {
    if (!argument(Errc::missing_string)) return false;
    const std::size_t at = c_.pos();
    auto s = c_.astring();
    if (!s) return fail(Errc::missing_string, at);
    into = to_lower(*s);
    return true;
  }
  bool date(SearchKey& k, Kind kind) {
    if (!argument(Errc::bad_date)) return false;
    const std::size_t at = c_.pos();
    auto d = parse_date(c_);
    if (!d) return fail(Errc::bad_date, at);
    k.kind = kind;
    k.number = *d;
    return true;
  }
  bool flag(SearchKey& k, Kind kind, const char* f) {
    k.kind = kind;
    k.name = f;
    return true;
  }
  bool nested(SearchKey& kid, int depth) {
    if (!c_.sp()) return fail(Errc::syntax, c_.pos());
    return key(kid, depth + 1);
  }

  Cursor& c_;
  std::string_view input_;  // the cursor's input from base_ on
  std::size_t base_;
  int count_ = 0;
  SearchKeyError error_;
};

bool Parser::key(SearchKey& k, int depth) {
  auto& c = c_;
  const std::size_t start = c.pos();
  if (++count_ > kMaxSearchKeys) return fail(Errc::too_many_keys, start);
  if (depth > kMaxNesting) return fail(Errc::too_deep, start);
  // "(" search-key *(SP search-key) ")"
  if (c.consume('(')) {
    k.kind = Kind::and_;
    if (!keys(k.kids, depth + 1, true)) {
      error_.code = Errc::unbalanced_parens;  // what failed inside stays in error_.cause
      return false;
    }
    if (!c.consume(')')) return fail(Errc::unbalanced_parens, c.pos());
    return true;
  }
  // sequence-set, "$" included (RFC 5182 §2.1)
  if (c.peek('$') || c.peek('*') || (!c.eof() && is_digit(c.rest()[0]))) {
    auto s = parse_seq_set(c);
    if (!s) return fail(Errc::bad_sequence_set, start);
    k.kind = Kind::seq;
    k.set = std::move(*s);
    return true;
  }
  if (c.keyword("ALL")) return k.kind = Kind::all, true;
  if (c.keyword("ANSWERED")) return flag(k, Kind::flag_set, "\\Answered");
  if (c.keyword("DELETED")) return flag(k, Kind::flag_set, "\\Deleted");
  if (c.keyword("FLAGGED")) return flag(k, Kind::flag_set, "\\Flagged");
  if (c.keyword("SEEN")) return flag(k, Kind::flag_set, "\\Seen");
  if (c.keyword("DRAFT")) return flag(k, Kind::flag_set, "\\Draft");
  if (c.keyword("UNANSWERED")) return flag(k, Kind::flag_unset, "\\Answered");
  if (c.keyword("UNDELETED")) return flag(k, Kind::flag_unset, "\\Deleted");
  if (c.keyword("UNFLAGGED")) return flag(k, Kind::flag_unset, "\\Flagged");
  if (c.keyword("UNSEEN")) return flag(k, Kind::flag_unset, "\\Seen");
  if (c.keyword("NEW")) {  // RFC 3501: RECENT UNSEEN
    k.kind = Kind::and_;
    k.kids.push_back(key_of(Kind::recent));
    k.kids.push_back(key_of(Kind::flag_unset, "\\Seen"));
    return true;
  }
  if (c.keyword("UNDRAFT")) return flag(k, Kind::flag_unset, "\\Draft");
  if (c.keyword("OLD")) return k.kind = Kind::not_, k.kids.push_back(key_of(Kind::recent)), true;
  if (c.keyword("RECENT")) return k.kind = Kind::recent, true;
  for (auto [word, kind] :
       {std::pair{"KEYWORD", Kind::flag_set}, std::pair{"UNKEYWORD", Kind::flag_unset}}) {
    if (c.keyword(word)) {
      if (!argument(Errc::bad_flag)) return false;
      const std::size_t at = c.pos();
      auto f = parse_flag(c);
      if (!f) return fail(Errc::bad_flag, at);
      k.kind = kind;
      k.name = *f;
      return true;
    }
  }
  if (c.keyword("BEFORE")) return date(k, Kind::before);
  if (c.keyword("ON")) return date(k, Kind::on);
  if (c.keyword("SINCE")) return date(k, Kind::since);
  if (c.keyword("SENTBEFORE")) return date(k, Kind::sent_before);
  if (c.keyword("SENTON")) return date(k, Kind::sent_on);
  if (c.keyword("SENTSINCE")) return date(k, Kind::sent_since);
  for (const char* h : {"FROM", "TO", "CC", "BCC", "SUBJECT"}) {
    if (c.keyword(h)) {
      k.kind = Kind::header;
      k.name = h;
      return search_string(k.value);
    }
  }
  if (c.keyword("HEADER")) {
    k.kind = Kind::header;
    if (!argument(Errc::missing_header_name)) return false;
    const std::size_t at = c.pos();
    auto name = c.astring();
    if (!name) return fail(Errc::missing_header_name, at);
    k.name = to_upper(*name);
    return search_string(k.value);
  }
  if (c.keyword("BODY")) return k.kind = Kind::body, search_string(k.value);
  if (c.keyword("TEXT")) return k.kind = Kind::text, search_string(k.value);
  for (auto [word, kind] :
       {std::pair{"LARGER", Kind::larger}, std::pair{"SMALLER", Kind::smaller}}) {
    if (c.keyword(word)) {
      if (!argument(Errc::bad_size)) return false;
      const std::size_t at = c.pos();
      auto n = c.number64();
      if (!n) return fail(Errc::bad_size, at);
      k.kind = kind;
      k.number = std::int64_t(*n);
      return true;
    }
  }
  if (c.keyword("UID")) {
    if (!argument(Errc::bad_uid_set)) return false;
    const std::size_t at = c.pos();
    auto s = parse_seq_set(c);
    if (!s) return fail(Errc::bad_uid_set, at);
    k.kind = Kind::uid;
    k.set = std::move(*s);
    return true;
  }
  if (c.keyword("NOT")) {
    k.kind = Kind::not_;
    k.kids.emplace_back();
    return nested(k.kids[0], depth);
  }
  if (c.keyword("OR")) {
    k.kind = Kind::or_;
    k.kids.resize(2);
    return nested(k.kids[0], depth) && nested(k.kids[1], depth);
  }
  if (c.keyword("MODSEQ")) {
    // RFC 7162 §3.1.5: MODSEQ [entry-name SP entry-type-req SP] mod-sequence-valzer. The
    // entry is checked for syntax and then ignored: a message has one MODSEQ here.
    if (!argument(Errc::bad_modseq)) return false;
    const std::size_t at = c.pos();
    if (c.peek('"') && (!c.string() || !c.sp() || !c.atom() || !c.sp()))
      return fail(Errc::bad_modseq, at);
    const std::size_t value_at = c.pos();
    auto n = c.number64();
    if (!n) return fail(Errc::bad_modseq, value_at);
    k.kind = Kind::modseq;
    k.number = std::int64_t(*n);
    return true;
  }
  return fail(Errc::unknown_key, start);
}

}  // namespace

ParsedSearchKeys parse_search_keys(Cursor& c) {
  Parser p(c);
  SearchKey all;
  all.kind = Kind::and_;
  if (!p.keys(all.kids, 0, false) || !p.end()) return {std::nullopt, p.error()};
  return {std::move(all), {}};
}

}  // namespace mk::imap
