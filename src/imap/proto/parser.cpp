#include "imap/proto/parser.hpp"

#include <ctime>

#include "base/strings.hpp"
#include "message/date.hpp"

namespace mk::imap {

bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;  // RFC 9051 with UTF8=ACCEPT also allows UTF-8 here
  }
}

bool Cursor::consume(char c) {
  if (!peek(c)) return false;
  ++pos_;
  return true;
}

bool Cursor::keyword(std::string_view kw) {
  if (s_.size() - pos_ < kw.size() || !iequals(s_.substr(pos_, kw.size()), kw)) return false;
  const std::size_t end = pos_ + kw.size();
  if (end < s_.size() && is_atom_char(s_[end]) && s_[end] != '[' && s_[end] != '.') return false;
  pos_ = end;
  return true;
}

std::optional<std::string_view> Cursor::atom() {
  const std::size_t start = pos_;
  while (pos_ < s_.size() && is_atom_char(s_[pos_])) ++pos_;
  if (pos_ == start) return std::nullopt;
  return s_.substr(start, pos_ - start);
}

std::optional<std::string> Cursor::quoted() {
  if (!consume('"')) return std::nullopt;
  std::string out;
  while (pos_ < s_.size()) {
    const char c = s_[pos_++];
    if (c == '"') return out;
    if (c == '\r' || c == '\n') return std::nullopt;
    if (c == '\\') {
      if (pos_ >= s_.size()) return std::nullopt;
      const char q = s_[pos_++];
      if (q != '"' && q != '\\') return std::nullopt;  // RFC 9051 quoted-specials only
      out += q;
    } else {
      out += c;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Cursor::literal(bool allow_binary) {
  const std::size_t start = pos_;
  bool binary = false;
  if (peek('~')) {
    if (!allow_binary) return std::nullopt;
    binary = true;
    ++pos_;
  }
  if (!consume('{')) return pos_ = start, std::nullopt;
  const std::size_t num_start = pos_;
  while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
  auto n = parse_u64(s_.substr(num_start, pos_ - num_start));
  consume('+');
  if (!n || !consume('}') || !consume('\r') || !consume('\n')) return pos_ = start, std::nullopt;
  if (s_.size() - pos_ < *n) return pos_ = start, std::nullopt;
  std::string out(s_.substr(pos_, *n));
  pos_ += *n;
  if (!binary && out.find('\0') != std::string::npos) return pos_ = start, std::nullopt;
  last_binary_ = binary;
  return out;
}

std::optional<std::string> Cursor::string(bool allow_binary) {
  last_binary_ = false;
  if (peek('"')) return quoted();
  return literal(allow_binary);
}

std::optional<std::string> Cursor::astring() {
  if (peek('"') || peek('{') || peek('~')) return string();
  const std::size_t start = pos_;
  while (pos_ < s_.size() && (is_atom_char(s_[pos_]) || s_[pos_] == ']')) ++pos_;
  if (pos_ == start) return std::nullopt;
  return std::string(s_.substr(start, pos_ - start));
}

std::optional<std::string> Cursor::nstring() {
  if (keyword("NIL")) return std::string();
  return string();
}

std::optional<std::string> Cursor::list_mailbox() {
  if (peek('"') || peek('{')) return string();
  const std::size_t start = pos_;
  while (pos_ < s_.size() &&
         (is_atom_char(s_[pos_]) || s_[pos_] == ']' || s_[pos_] == '%' || s_[pos_] == '*'))
    ++pos_;
  if (pos_ == start) return std::nullopt;
  return std::string(s_.substr(start, pos_ - start));
}

std::optional<std::uint64_t> Cursor::number64() {
  const std::size_t start = pos_;
  while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
  auto n = parse_u64(s_.substr(start, pos_ - start));
  // RFC 9051 number64: up to 2^63-1
  if (!n || *n > static_cast<std::uint64_t>(INT64_MAX)) return pos_ = start, std::nullopt;
  return n;
}

std::optional<std::uint32_t> Cursor::number() {
  const std::size_t start = pos_;
  auto n = number64();
  if (!n || *n > UINT32_MAX) return pos_ = start, std::nullopt;
  return static_cast<std::uint32_t>(*n);
}

std::optional<std::uint32_t> Cursor::nz_number() {
  const std::size_t start = pos_;
  auto n = number();
  if (!n || *n == 0) return pos_ = start, std::nullopt;
  return n;
}

std::optional<CommandHead> parse_head(Cursor& c, std::string& error) {
  CommandHead h;
  // tag = 1*<any ASTRING-CHAR except "+">
  std::size_t start = c.pos();
  auto tag = c.atom();
  if (!tag || tag->find('+') != std::string_view::npos) {
    error = "Missing or invalid tag";
    return std::nullopt;
  }
  h.tag = std::string(*tag);
  (void)start;
  if (!c.sp()) {
    error = "Missing command";
    return std::nullopt;
  }
  auto name = c.atom();
  if (!name) {
    error = "Missing command";
    return std::nullopt;
  }
  h.name = to_upper(*name);
  if (h.name == "UID") {
    h.uid = true;
    if (!c.sp() || !(name = c.atom())) {
      error = "UID needs a command";
      return std::nullopt;
    }
    h.name = to_upper(*name);
  }
  return h;
}

bool SeqSet::contains(std::uint32_t n, std::uint32_t max) const {
  for (auto [a, b] : ranges) {
    if (a == kStar) a = max;
    if (b == kStar) b = max;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

std::optional<SeqSet> parse_seq_set(Cursor& c) {
  SeqSet set;
  if (c.consume('$')) {
    set.saved = true;
    return set;
  }
  constexpr std::size_t kMaxRanges = 100000;
  auto seq_number = [&]() -> std::optional<std::uint32_t> {
    if (c.consume('*')) return kStar;
    return c.nz_number();
  };
  do {
    auto a = seq_number();
    if (!a) return std::nullopt;
    std::uint32_t b = *a;
    if (c.consume(':')) {
      auto e = seq_number();
      if (!e) return std::nullopt;
      b = *e;
    }
    // RFC 9051 §9: "2:4" and "4:2" are the same set.
    if (*a != kStar && b != kStar && *a > b) set.ranges.emplace_back(b, *a);
    else set.ranges.emplace_back(*a, b);
    if (set.ranges.size() > kMaxRanges) return std::nullopt;
  } while (c.consume(','));
  return set;
}

std::optional<std::string> parse_flag(Cursor& c, bool allow_wildcard) {
  if (c.consume('\\')) {
    if (allow_wildcard && c.consume('*')) return std::string("\\*");
    auto a = c.atom();
    if (!a) return std::nullopt;
    // System flags are case-insensitive; store them in their canonical spelling.
    for (const char* f : {"Seen", "Answered", "Flagged", "Deleted", "Draft", "Recent"})
      if (iequals(*a, f)) return std::string("\\") + f;
    return "\\" + std::string(*a);  // flag-extension
  }
  auto a = c.atom();
  if (!a) return std::nullopt;
  return std::string(*a);
}

std::optional<std::vector<std::string>> parse_flag_list(Cursor& c) {
  if (!c.consume('(')) return std::nullopt;
  std::vector<std::string> out;
  if (c.consume(')')) return out;
  do {
    auto f = parse_flag(c);
    if (!f) return std::nullopt;
    out.push_back(std::move(*f));
    if (out.size() > 1000) return std::nullopt;
  } while (c.sp());
  if (!c.consume(')')) return std::nullopt;
  return out;
}

namespace {

// "d-Mon-yyyy" or "dd-Mon-yyyy"
bool date_text(std::string_view s, std::int64_t& days) {
  auto parts = split(s, '-');
  if (parts.size() != 3) return false;
  auto d = parse_u64(parts[0]);
  const auto m = message::month_number(parts[1]);
  auto y = parse_u64(parts[2]);
  if (!d || *d < 1 || *d > 31 || !m || !y || parts[2].size() != 4) return false;
  days = message::days_from_civil(std::int64_t(*y), *m, unsigned(*d));
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_date(Cursor& c) {
  const bool q = c.consume('"');
  auto a = c.atom();
  if (!a || (q && !c.consume('"'))) return std::nullopt;
  std::int64_t days;
  if (!date_text(*a, days)) return std::nullopt;
  return days * 86400;
}

std::optional<std::int64_t> parse_date_time(Cursor& c) {
  // "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be space-padded: " 7-Feb-1994")
  auto s = c.string();
  if (!s) return std::nullopt;
  std::string_view v = *s;
  if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
  auto parts = split(v, ' ');
  if (parts.size() != 3) return std::nullopt;
  std::int64_t days;
  if (!date_text(parts[0], days)) return std::nullopt;
  auto hms = split(parts[1], ':');
  if (hms.size() != 3) return std::nullopt;
  auto hh = parse_u64(hms[0]), mm = parse_u64(hms[1]), ss = parse_u64(hms[2]);
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  auto zone = parts[2];
  if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  auto zh = parse_u64(zone.substr(1, 2)), zm = parse_u64(zone.substr(3, 2));
  if (!zh || !zm || *zm > 59) return std::nullopt;
  const std::int64_t offset = std::int64_t(*zh * 3600 + *zm * 60) * (zone[0] == '-' ? -1 : 1);
  return days * 86400 + std::int64_t(*hh * 3600 + *mm * 60 + *ss) - offset;
}

}  // namespace mk::imap
