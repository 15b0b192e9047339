#include "spf/record.hpp"

#include <algorithm>
#include <array>

#include "base/strings.hpp"

namespace mk::spf {
namespace {

constexpr std::size_t kMaxDomainLength = 253;         // RFC 7208 §7.3
constexpr std::size_t kMaxMacroDigits = 3;            // %{d128}: more parts than a name can have
constexpr std::string_view kDelimiters = ".-+,/_=";   // RFC 7208 §7.1

bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

// RFC 7208 §4.6.1: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
bool valid_modifier_name(std::string_view n) {
  if (n.empty() || !is_alpha(n[0])) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// RFC 7208 §7.1: toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool valid_toplabel(std::string_view t) {
  if (t.empty() || !is_alnum(t.front()) || !is_alnum(t.back())) return false;
  bool alpha = false, dash = false;
  for (char c : t) {
    if (c == '-') dash = true;
    else if (is_alpha(c)) alpha = true;
    else if (!is_digit(c)) return false;
  }
  return alpha || dash;
}

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (is_alnum(char(c)) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string letter_value(char letter, const MacroContext& ctx) {
  switch (ascii_lower(letter)) {
    case 's': return ctx.local_part + "@" + ctx.sender_domain;
    case 'l': return ctx.local_part;
    case 'o': return ctx.sender_domain;
    case 'd': return ctx.domain;
    case 'i': return ctx.ip.dotted_nibbles();
    case 'p': return ctx.validated_ptr;
    case 'v': return ctx.ip.v4 ? "in-addr" : "ip6";
    case 'h': return ctx.helo;
    case 'c': return ctx.ip.to_string();
    case 'r': return ctx.receiver;
    case 't': return std::to_string(ctx.timestamp);
  }
  return {};
}

// RFC 7208 §7.3: split on the delimiters, optionally reverse, keep the rightmost `keep`
// parts, join with dots.
std::string transform(std::string_view value, std::string_view delims, bool reverse, std::size_t keep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || delims.find(value[i]) != std::string_view::npos) {
      parts.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (reverse) std::reverse(parts.begin(), parts.end());
  if (keep > 0 && keep < parts.size()) parts.erase(parts.begin(), parts.end() - std::ptrdiff_t(keep));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '.';
    out += parts[i];
  }
  return out;
}

struct Walk {
  std::string out;
  bool ends_with_macro = false;
  std::size_t trailing_literal_start = 0;  // in the input: where the last literal run begins
};

// Walks a macro-string; with ctx == nullptr it only checks the syntax.
Result<Walk> walk(std::string_view s, const MacroContext* ctx, bool explain) {
  Walk w;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c != '%') {
      const bool ok = (c >= 0x21 && c <= 0x7e) || (explain && c == ' ');
      if (!ok) return err("invalid character in macro-string");
      if (w.ends_with_macro || i == 0) w.trailing_literal_start = i;
      w.ends_with_macro = false;
      w.out += c;
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return err("'%' at the end of a macro-string");
    const char d = s[i + 1];
    w.ends_with_macro = true;
    if (d == '%') { w.out += '%'; i += 2; continue; }
    if (d == '_') { w.out += ' '; i += 2; continue; }
    if (d == '-') { w.out += "%20"; i += 2; continue; }
    if (d != '{') return err(std::string("invalid macro '%") + d + "'");
    std::size_t j = i + 2;
    if (j >= s.size()) return err("unterminated macro");
    const char letter = s[j++];
    static constexpr std::string_view kLetters = "slodiphv";
    static constexpr std::string_view kExplainLetters = "crt";
    const char lower = ascii_lower(letter);
    if (kLetters.find(lower) == std::string_view::npos &&
        !(explain && kExplainLetters.find(lower) != std::string_view::npos))
      return err(std::string("invalid macro letter '") + letter + "'");
    std::size_t keep = 0, digits = 0;
    while (j < s.size() && is_digit(s[j])) {
      if (++digits > kMaxMacroDigits) return err("macro transformer too large");
      keep = keep * 10 + std::size_t(s[j++] - '0');
    }
    if (digits > 0 && keep == 0) return err("macro transformer must be nonzero");
    bool reverse = false;
    if (j < s.size() && (s[j] == 'r' || s[j] == 'R')) { reverse = true; ++j; }
    const std::size_t dstart = j;
    while (j < s.size() && kDelimiters.find(s[j]) != std::string_view::npos) ++j;
    if (j >= s.size() || s[j] != '}') return err("unterminated or invalid macro");
    if (ctx) {
      const std::string_view delims = j > dstart ? s.substr(dstart, j - dstart) : std::string_view(".");
      std::string v = transform(letter_value(letter, *ctx), delims, reverse, keep);
      w.out += is_alpha(letter) && letter == ascii_upper(letter) ? url_escape(v) : v;
    }
    i = j + 1;
  }
  return w;
}

// "/24" "//64" "/24//64" at the end of a term: strips it, fills the lengths.
Result<std::string_view> strip_cidr(std::string_view t, int* cidr4, int* cidr6) {
  auto take = [](std::string_view& s, int max) -> std::optional<int> {
    std::size_t p = s.size();
    while (p > 0 && is_digit(s[p - 1])) --p;
    if (p == s.size() || p == 0 || s[p - 1] != '/') return std::nullopt;
    const std::string_view num = s.substr(p);
    if (num.size() > 1 && num[0] == '0') return -1;  // RFC 7208 §5.6: no leading zeros
    auto v = parse_u64(num);
    if (!v || *v > std::uint64_t(max)) return -1;
    s = s.substr(0, p - 1);
    return int(*v);
  };
  std::string_view s = t;
  // ip6-cidr-length comes last and is introduced by "//".
  if (auto v = take(s, 128)) {
    if (*v < 0) return err("invalid CIDR length in '" + std::string(t) + "'");
    if (!s.empty() && s.back() == '/') {
      if (!cidr6) return err("IPv6 CIDR length not allowed in '" + std::string(t) + "'");
      *cidr6 = *v;
      s.remove_suffix(1);
      if (auto v4 = take(s, 32)) {
        if (*v4 < 0 || !cidr4) return err("invalid CIDR length in '" + std::string(t) + "'");
        *cidr4 = *v4;
      }
    } else {
      if (!cidr4 || *v > 32) return err("invalid CIDR length in '" + std::string(t) + "'");
      *cidr4 = *v;
    }
  }
  return s;
}

Result<Mechanism> parse_mechanism(std::string_view term) {
  Mechanism m;
  m.text = std::string(term);
  std::string_view t = term;
  if (!t.empty() && (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?')) {
    m.qualifier = Qualifier(t[0]);
    t.remove_prefix(1);
  }
  std::size_t end = 0;
  while (end < t.size() && t[end] != ':' && t[end] != '/') ++end;
  const std::string name = to_lower(t.substr(0, end));
  std::string_view rest = t.substr(end);
  const auto bad = [&](std::string why) { return err(why + " in '" + std::string(term) + "'"); };

  struct Kind { std::string_view name; MechKind kind; };
  static constexpr std::array<Kind, 8> kKinds{{{"all", MechKind::all}, {"include", MechKind::include},
      {"a", MechKind::a}, {"mx", MechKind::mx}, {"ptr", MechKind::ptr}, {"ip4", MechKind::ip4},
      {"ip6", MechKind::ip6}, {"exists", MechKind::exists}}};
  auto it = std::find_if(kKinds.begin(), kKinds.end(), [&](const Kind& k) { return k.name == name; });
  if (it == kKinds.end()) return bad("unknown mechanism");
  m.kind = it->kind;

  switch (m.kind) {
    case MechKind::all:
      if (!rest.empty()) return bad("'all' takes no argument");
      return m;
    case MechKind::include:
    case MechKind::exists:
    case MechKind::ptr: {
      if (rest.empty() && m.kind == MechKind::ptr) return m;
      if (rest.size() < 2 || rest[0] != ':') return bad("domain expected");
      m.domain_spec = std::string(rest.substr(1));
      break;
    }
    case MechKind::a:
    case MechKind::mx: {
      auto stripped = strip_cidr(rest, &m.cidr4, &m.cidr6);
      if (!stripped) return stripped.error();
      rest = *stripped;
      if (rest.empty()) return m;
      if (rest.size() < 2 || rest[0] != ':') return bad("domain expected");
      m.domain_spec = std::string(rest.substr(1));
      break;
    }
    case MechKind::ip4:
    case MechKind::ip6: {
      const bool v4 = m.kind == MechKind::ip4;
      if (rest.size() < 2 || rest[0] != ':') return bad("address expected");
      int* c4 = v4 ? &m.cidr4 : nullptr;
      int cidr6 = 128;
      // ip6 takes a single "/n" (RFC 7208 §5.6: ip6-cidr-length), parsed with the IPv4 slot.
      int single = v4 ? 32 : 128;
      auto stripped = v4 ? strip_cidr(rest.substr(1), c4, nullptr) : Result<std::string_view>(rest.substr(1));
      if (!stripped) return stripped.error();
      std::string_view addr = *stripped;
      if (!v4) {
        const auto slash = addr.rfind('/');
        if (slash != std::string_view::npos) {
          const std::string_view num = addr.substr(slash + 1);
          auto v = parse_u64(num);
          if (!v || *v > 128 || (num.size() > 1 && num[0] == '0')) return bad("invalid CIDR length");
          single = int(*v);
          addr = addr.substr(0, slash);
        }
        cidr6 = single;
      }
      auto ip = IpAddr::parse(addr);
      const bool has_colon = addr.find(':') != std::string_view::npos;
      if (!ip || (v4 && (has_colon || !ip->v4)) || (!v4 && !has_colon)) return bad("invalid address");
      m.network = *ip;
      if (!v4) m.cidr6 = ip->v4 ? std::max(0, cidr6 - 96) : cidr6;
      if (!v4 && ip->v4) m.cidr4 = m.cidr6;
      return m;
    }
  }
  if (!valid_macro_string(m.domain_spec, false) || !valid_domain_spec(m.domain_spec))
    return bad("invalid domain-spec");
  return m;
}

}  // namespace

bool is_spf_record(std::string_view txt) {
  return istarts_with(txt, "v=spf1") && (txt.size() == 6 || txt[6] == ' ');
}

Result<Record> parse_record(std::string_view txt) {
  if (!is_spf_record(txt)) return err("not an SPF record");
  Record r;
  std::size_t i = 6;
  while (i < txt.size()) {
    if (txt[i] == ' ') { ++i; continue; }
    std::size_t j = i;
    while (j < txt.size() && txt[j] != ' ') ++j;
    const std::string_view term = txt.substr(i, j - i);
    i = j;
    for (unsigned char c : term)
      if (c < 0x21 || c > 0x7e) return err("invalid character in term '" + log_safe(term) + "'");
    // A modifier is name "=" ...; a mechanism's name never contains '=' before ':' or '/'.
    const auto eq = term.find('=');
    const auto colon = term.find_first_of(":/");
    if (eq != std::string_view::npos && (colon == std::string_view::npos || eq < colon)) {
      const std::string name = to_lower(term.substr(0, eq));
      const std::string_view value = term.substr(eq + 1);
      if (!valid_modifier_name(name)) return err("invalid term '" + std::string(term) + "'");
      if (!valid_macro_string(value, false)) return err("invalid macro in '" + std::string(term) + "'");
      if (name == "redirect" || name == "exp") {
        auto& slot = name == "redirect" ? r.redirect : r.exp;
        if (slot) return err("duplicate " + name + "= modifier");  // RFC 7208 §6
        if (value.empty() || !valid_domain_spec(value)) return err("invalid domain-spec in '" + std::string(term) + "'");
        slot = std::string(value);
      }
      continue;  // unknown modifiers are ignored (RFC 7208 §6)
    }
    auto m = parse_mechanism(term);
    if (!m) return m.error();
    r.mechanisms.push_back(std::move(*m));
  }
  return r;
}

bool valid_macro_string(std::string_view s, bool explain) { return walk(s, nullptr, explain).ok(); }

bool uses_ptr_macro(std::string_view s) {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] == '%' && s[i + 1] == '%') { ++i; continue; }
    if (s[i] == '%' && s[i + 1] == '{' && ascii_lower(s[i + 2]) == 'p') return true;
  }
  return false;
}

Result<std::string> expand(std::string_view s, const MacroContext& ctx, bool explain) {
  auto w = walk(s, &ctx, explain);
  if (!w) return w.error();
  return std::move(w->out);
}

std::string query_name(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  while (name.size() > kMaxDomainLength) {
    const auto dot = name.find('.');
    if (dot == std::string::npos) return {};
    name.erase(0, dot + 1);
  }
  return name;
}

bool valid_domain_spec(std::string_view s) {
  auto w = walk(s, nullptr, false);
  if (!w || s.empty()) return false;
  if (w->ends_with_macro) return true;
  std::string_view lit = s.substr(w->trailing_literal_start);
  if (!lit.empty() && lit.back() == '.') lit.remove_suffix(1);
  const auto dot = lit.rfind('.');
  if (dot == std::string_view::npos) return false;
  return valid_toplabel(lit.substr(dot + 1));
}

}  // namespace mk::spf
