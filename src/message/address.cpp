#include "message/address.hpp"

#include "base/strings.hpp"

namespace mk::message {
namespace {

// RFC 5322 §3.2.3 atext
bool is_atext(unsigned char c) {
  if (is_alpha(char(c)) || is_digit(char(c))) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool is_let_dig(unsigned char c) { return is_alpha(char(c)) || is_digit(char(c)); }

// Validates a UTF-8 sequence starting at s[i]; returns its length or 0.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // reject overlongs, surrogates and out-of-range code points
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
  if (cp >= 0xd800 && cp <= 0xdfff) return 0;
  return n;
}

bool valid_ipv4(std::string_view s) {
  auto parts = split(s, '.');
  if (parts.size() != 4) return false;
  for (auto p : parts) {
    if (p.empty() || p.size() > 3) return false;
    auto v = parse_u64(p);
    if (!v || *v > 255) return false;
  }
  return true;
}

bool valid_ipv6(std::string_view s) {
  // RFC 5321 §4.1.3 IPv6-addr: hex groups, at most one "::", optional trailing IPv4.
  if (s.empty() || s.size() > 45) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.starts_with("::")) {
    compressed = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s.front() == ':') {
    return false;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] != ':') ++j;
    auto group = s.substr(i, j - i);
    if (group.find('.') != std::string_view::npos) {
      if (j != s.size() || !valid_ipv4(group)) return false;
      groups += 2;
    } else {
      if (group.empty() || group.size() > 4) return false;
      for (char c : group)
        if (hex_value(c) < 0) return false;
      ++groups;
    }
    if (j == s.size()) break;
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (compressed) return false;
      compressed = true;
      i = j + 2;
      if (i == s.size()) break;
    } else {
      if (j + 1 == s.size()) return false;  // trailing single colon
      i = j + 1;
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

bool valid_address_literal(std::string_view lit) {
  // lit excludes the brackets
  if (istarts_with(lit, "IPv6:")) return valid_ipv6(lit.substr(5));
  if (valid_ipv4(lit)) return true;
  // General-address-literal = Standardized-tag ":" 1*dcontent; we accept none we can't route.
  return false;
}

}  // namespace

bool is_valid_domain(std::string_view s, bool allow_utf8) {
  if (s.empty() || s.size() > kMaxDomain) return false;
  for (auto label : split(s, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (std::size_t i = 0; i < label.size();) {
      auto c = static_cast<unsigned char>(label[i]);
      if (c >= 0x80) {
        if (!allow_utf8) return false;
        auto n = utf8_len(label, i);
        if (n == 0) return false;
        i += n;
        continue;
      }
      bool edge = (i == 0 || i + 1 == label.size());
      if (!(is_let_dig(c) || (c == '-' && !edge))) return false;
      ++i;
    }
  }
  return true;
}

bool local_needs_quotes(std::string_view local) {
  if (local.empty()) return true;
  bool prev_dot = true;
  for (std::size_t i = 0; i < local.size(); ++i) {
    auto c = static_cast<unsigned char>(local[i]);
    if (c == '.') {
      if (prev_dot) return true;
      prev_dot = true;
      continue;
    }
    prev_dot = false;
    if (c >= 0x80) continue;  // UTF-8 atext (RFC 6531)
    if (!is_atext(c)) return true;
  }
  return prev_dot;
}

std::string Mailbox::canonical() const {
  std::string out;
  if (local_needs_quotes(local)) {
    out += '"';
    for (char c : local) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else {
    out += local;
  }
  if (!domain.empty()) {
    out += '@';
    out += domain_literal ? domain : to_lower(domain);
  }
  return out;
}

namespace {

// Parses Mailbox at s[i..); stops at '>' (bracketed) or end. Returns error text or "".
std::string parse_mailbox_at(std::string_view s, std::size_t& i, bool allow_utf8, bool bracketed,
                             Mailbox& mb) {
  // Local-part
  if (i < s.size() && s[i] == '"') {
    ++i;
    bool closed = false;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        closed = true;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= s.size()) return "unterminated quoted-pair in local part";
        auto q = static_cast<unsigned char>(s[i + 1]);
        if (q < 32 || q > 126) return "invalid quoted-pair in local part";
        mb.local += char(q);
        i += 2;
        continue;
      }
      if (c >= 0x80) {
        if (!allow_utf8) return "non-ASCII local part requires SMTPUTF8";
        auto n = utf8_len(s, i);
        if (n == 0) return "invalid UTF-8 in local part";
        mb.local.append(s.substr(i, n));
        mb.utf8 = true;
        i += n;
        continue;
      }
      if (c < 32 || c > 126) return "invalid character in quoted local part";
      mb.local += char(c);
      ++i;
    }
    if (!closed) return "unterminated quoted local part";
  } else {
    std::size_t start = i;
    bool prev_dot = true;
    while (i < s.size() && s[i] != '@' && !(bracketed && s[i] == '>')) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '.') {
        if (prev_dot) return "empty atom in local part";
        prev_dot = true;
        ++i;
        continue;
      }
      if (c >= 0x80) {
        if (!allow_utf8) return "non-ASCII local part requires SMTPUTF8";
        auto n = utf8_len(s, i);
        if (n == 0) return "invalid UTF-8 in local part";
        mb.utf8 = true;
        i += n;
        prev_dot = false;
        continue;
      }
      if (!is_atext(c)) return "invalid character in local part";
      prev_dot = false;
      ++i;
    }
    if (i == start) return "empty local part";
    if (prev_dot) return "local part ends with a dot";
    mb.local.assign(s.substr(start, i - start));
  }
  if (mb.local.size() > kMaxAcceptedLocalPart) return "local part longer than 240 octets";

  if (i >= s.size() || s[i] != '@') {
    // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain is valid as a forward-path.
    if (bracketed && i < s.size() && s[i] == '>' && iequals(mb.local, "postmaster")) return "";
    return "missing @domain";
  }
  ++i;
  std::size_t start = i;
  if (i < s.size() && s[i] == '[') {
    auto close = s.find(']', i);
    if (close == std::string_view::npos) return "unterminated address literal";
    if (!valid_address_literal(s.substr(i + 1, close - i - 1))) return "invalid address literal";
    mb.domain.assign(s.substr(start, close + 1 - start));
    mb.domain_literal = true;
    i = close + 1;
  } else {
    while (i < s.size() && !(bracketed && s[i] == '>')) ++i;
    auto dom = s.substr(start, i - start);
    if (!is_valid_domain(dom, allow_utf8)) return "invalid domain";
    for (unsigned char c : dom)
      if (c >= 0x80) mb.utf8 = true;
    mb.domain.assign(dom);
  }
  return "";
}

}  // namespace

Result<PathParse> parse_path(std::string_view s, bool allow_utf8, bool allow_null) {
  if (s.empty() || s[0] != '<') return err("address must be enclosed in <>");
  auto close = s.find('>');
  if (close == std::string_view::npos) return err("missing closing >");
  PathParse out;
  if (close == 1) {
    if (!allow_null) return err("null path not allowed here");
    out.path.null = true;
    out.consumed = 2;
    return out;
  }
  std::size_t i = 1;
  // A-d-l ":" (source route): parse and discard, RFC 5321 §4.1.1.3 and Appendix C.
  if (s[i] == '@') {
    auto colon = s.find(':', i);
    if (colon == std::string_view::npos) return err("invalid source route");
    for (auto hop : split(s.substr(i, colon - i), ',')) {
      if (hop.size() < 2 || hop[0] != '@' || !is_valid_domain(hop.substr(1), allow_utf8))
        return err("invalid source route");
    }
    out.path.had_source_route = true;
    i = colon + 1;
  }
  std::string why = parse_mailbox_at(s, i, allow_utf8, true, out.path.mailbox);
  if (!why.empty()) return err(why);
  if (i >= s.size() || s[i] != '>') return err("unexpected character after address");
  if (i + 1 > kMaxPath + 1) return err("path longer than 256 octets");
  out.consumed = i + 1;
  return out;
}

Result<Mailbox> parse_mailbox(std::string_view s, bool allow_utf8) {
  Mailbox mb;
  std::size_t i = 0;
  std::string why = parse_mailbox_at(s, i, allow_utf8, false, mb);
  if (!why.empty()) return err(why);
  if (i != s.size()) return err("unexpected trailing characters");
  if (mb.domain.empty()) return err("missing @domain");
  return mb;
}

}  // namespace mk::message
