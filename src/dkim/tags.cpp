#include "dkim/tags.hpp"

#include "base/strings.hpp"

namespace mk::dkim {
namespace {

bool fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_fws(std::string_view s) {
  while (!s.empty() && fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && fws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC
bool valid_name(std::string_view n) {
  if (n.empty() || !is_alpha(n[0])) return false;
  for (char c : n)
    if (!is_alpha(c) && !is_digit(c) && c != '_') return false;
  return true;
}

// tval = 1*VALCHAR (%x21-3A / %x3C-7E), separated by folding whitespace.
bool valid_value(std::string_view v) {
  for (unsigned char c : v)
    if (!fws(char(c)) && (c < 0x21 || c > 0x7e || c == ';')) return false;
  return true;
}

}  // namespace

Result<TagList> TagList::parse(std::string_view text) {
  TagList out;
  const auto parts = split(text, ';');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view spec = trim_fws(parts[i]);
    if (spec.empty()) {
      if (i + 1 == parts.size()) break;  // a trailing ";" is allowed
      return err("empty tag");
    }
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos) return err("tag without '='");
    const std::string_view name = trim_fws(spec.substr(0, eq));
    const std::string_view value = trim_fws(spec.substr(eq + 1));
    if (!valid_name(name)) return err("invalid tag name '" + log_safe(name, 40) + "'");
    if (!valid_value(value)) return err("invalid value of tag '" + std::string(name) + "'");
    if (out.find(name)) return err("duplicate tag '" + std::string(name) + "'");
    out.tags_.push_back(Tag{std::string(name), std::string(value)});
  }
  return out;
}

const std::string* TagList::find(std::string_view name) const {
  for (const auto& t : tags_)
    if (t.name == name) return &t.value;
  return nullptr;
}

std::string strip_whitespace(std::string_view v) {
  std::string out;
  for (char c : v)
    if (!fws(c)) out += c;
  return out;
}

}  // namespace mk::dkim
