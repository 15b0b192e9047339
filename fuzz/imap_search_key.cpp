// Fuzzes the SEARCH key parser (imap/proto/search_key.hpp). A rejection must name a token
// that is really at its offset; an accepted search must respect the key and depth limits,
// have the right number of operands, and parse again into the same tree when written back
// out (unless writing NEW and OLD out as what they mean pushes it over a limit).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "imap/proto/search_key.hpp"

namespace {

using mk::imap::SearchKey;
using K = SearchKey::Kind;

void check(bool ok) {
  if (!ok) std::abort();
}

// An astring that reads back as s: quoted, or a literal when s has a line break (a parsed
// string holds CR or LF only from a literal, and then no NUL).
std::string astring(const std::string& s) {
  if (s.find_first_of("\r\n") != std::string::npos)
    return "{" + std::to_string(s.size()) + "}\r\n" + s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string date(std::int64_t t) {
  // days -> civil date (Howard Hinnant), the inverse of the parser's days_from_civil.
  std::int64_t z = t / 86400 + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = std::int64_t(yoe) + era * 400 + (m <= 2);
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  check(y >= 0 && y <= 9999 && t % 86400 == 0);
  std::string year = std::to_string(y);
  year.insert(0, 4 - year.size(), '0');
  return std::to_string(d) + "-" + kMonths[m - 1] + "-" + year;
}

std::string set(const mk::imap::SeqSet& s) {
  if (s.saved) return "$";
  check(!s.ranges.empty());
  auto num = [](std::uint32_t n) {
    return n == mk::imap::kStar ? std::string("*") : std::to_string(n);
  };
  std::string out;
  for (auto [a, b] : s.ranges) {
    check(a != 0 && b != 0);
    if (!out.empty()) out += ',';
    out += num(a) + ":" + num(b);
  }
  return out;
}

// Writes a tree back as search keys; counts its nodes and measures its depth on the way.
std::string write(const SearchKey& k, int depth, int& nodes, int& max_depth) {
  ++nodes;
  max_depth = std::max(max_depth, depth);
  auto kid = [&](std::size_t i) { return write(k.kids[i], depth + 1, nodes, max_depth); };
  const std::size_t arity = k.kind == K::not_ ? 1 : k.kind == K::or_ ? 2 : 0;
  check(k.kind == K::and_ || k.kids.size() == arity);
  switch (k.kind) {
    case K::all: return "ALL";
    case K::recent: return "RECENT";
    case K::flag_set: return "KEYWORD " + k.name;
    case K::flag_unset: return "UNKEYWORD " + k.name;
    case K::header: return "HEADER " + astring(k.name) + " " + astring(k.value);
    case K::body: return "BODY " + astring(k.value);
    case K::text: return "TEXT " + astring(k.value);
    case K::before: return "BEFORE " + date(k.number);
    case K::on: return "ON " + date(k.number);
    case K::since: return "SINCE " + date(k.number);
    case K::sent_before: return "SENTBEFORE " + date(k.number);
    case K::sent_on: return "SENTON " + date(k.number);
    case K::sent_since: return "SENTSINCE " + date(k.number);
    case K::larger: return "LARGER " + std::to_string(k.number);
    case K::smaller: return "SMALLER " + std::to_string(k.number);
    case K::modseq: return "MODSEQ " + std::to_string(k.number);
    case K::uid: return "UID " + set(k.set);
    case K::seq: return set(k.set);
    case K::not_: return "NOT " + kid(0);
    case K::or_: return "OR " + kid(0) + " " + kid(1);
    case K::and_: {
      std::string out = "(";
      for (std::size_t i = 0; i < k.kids.size(); ++i) out += (i ? " " : "") + kid(i);
      return out + ")";
    }
  }
  std::abort();
}

bool same(const SearchKey& a, const SearchKey& b) {
  if (a.kind != b.kind || a.name != b.name || a.value != b.value || a.number != b.number ||
      a.set.saved != b.set.saved || a.set.ranges != b.set.ranges || a.kids.size() != b.kids.size())
    return false;
  for (std::size_t i = 0; i < a.kids.size(); ++i)
    if (!same(a.kids[i], b.kids[i])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  mk::imap::Cursor c(in);
  const auto parsed = mk::imap::parse_search_keys(c);
  if (!parsed) {
    const auto& e = parsed.error;
    check(e.offset <= in.size() && e.token.size() <= mk::imap::kMaxSearchErrorToken);
    check(in.substr(e.offset, e.token.size()) == e.token);
    check(!e.text().empty());
    return 0;
  }
  check(c.eof());
  const SearchKey& root = *parsed.keys;
  check(root.kind == K::and_ && !root.kids.empty());
  // Written back: the top-level keys without the parentheses of the implicit AND.
  std::string again;
  int nodes = 0, depth = 0;
  for (const auto& k : root.kids) again += (again.empty() ? "" : " ") + write(k, 0, nodes, depth);
  // NEW adds two nodes and a level to the keys it was counted as, OLD one node.
  check(nodes <= 3 * mk::imap::kMaxSearchKeys && depth <= mk::imap::kMaxNesting + 1);
  mk::imap::Cursor c2(again);
  const auto reparsed = mk::imap::parse_search_keys(c2);
  if (!reparsed) {
    using E = mk::imap::SearchKeyErrc;
    check(reparsed.error.cause == E::too_many_keys || reparsed.error.cause == E::too_deep);
    return 0;
  }
  check(same(root, *reparsed.keys));
  return 0;
}
