#include "message/header.hpp"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/strings.hpp"
#include "message/codec.hpp"

namespace mk::message {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Next line [pos, end of line) and the position after its line break.
std::string_view line_at(std::string_view s, std::size_t pos, std::size_t& next) {
  auto lf = s.find('\n', pos);
  if (lf == std::string_view::npos) {
    next = s.size();
    return s.substr(pos);
  }
  next = lf + 1;
  std::size_t end = lf;
  if (end > pos && s[end - 1] == '\r') --end;
  return s.substr(pos, end - pos);
}

std::string unquote(std::string_view s) {
  s = trim_ws(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\' && i + 2 < s.size()) ++i;
      out += s[i];
    }
    return out;
  }
  return std::string(s);
}

// Splits at top-level separators, honouring quoted strings (comments are already gone).
std::vector<std::string_view> split_unquoted(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == sep && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

}  // namespace

std::size_t find_body_start(std::string_view msg, std::size_t& header_end) {
  std::size_t pos = 0;
  while (pos < msg.size()) {
    std::size_t next;
    auto line = line_at(msg, pos, next);
    if (line.empty() && next > pos) {
      header_end = pos;
      return next;
    }
    if (next == pos) break;
    pos = next;
  }
  header_end = msg.size();
  return msg.size();
}

bool header_truncated(std::string_view block, std::size_t parsed, const HeaderLimits& limits) {
  return block.size() > limits.max_bytes || parsed >= limits.max_fields;
}

std::vector<HeaderField> parse_header_block(std::string_view block, const HeaderLimits& limits) {
  std::vector<HeaderField> out;
  block = block.substr(0, limits.max_bytes);
  std::size_t pos = 0;
  std::size_t value_start = 0;
  bool open = false;
  while (pos < block.size()) {
    std::size_t next;
    auto line = line_at(block, pos, next);
    if (!line.empty() && is_wsp(line[0])) {
      if (open) {
        const std::size_t end = pos + line.size();
        out.back().value = block.substr(value_start, end - value_start);
      }
    } else {
      open = false;
      auto colon = line.find(':');
      if (colon != std::string_view::npos && colon > 0 && out.size() < limits.max_fields) {
        auto name = line.substr(0, colon);
        while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obs-FWS
        bool valid = !name.empty();
        for (unsigned char c : name)
          if (c < 33 || c > 126) valid = false;
        if (valid) {
          value_start = pos + colon + 1;
          out.push_back({name, block.substr(value_start, line.size() - colon - 1)});
          open = true;
        }
      }
    }
    pos = next;
  }
  return out;
}

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\r' && c != '\n') out += c;
  return std::string(trim_ws(out));
}

std::vector<HeaderField> parse_message_header(std::string_view msg, const HeaderLimits& limits) {
  std::size_t header_end = 0;
  (void)find_body_start(msg, header_end);
  return parse_header_block(msg.substr(0, header_end), limits);
}

std::vector<std::string> msg_ids(std::string_view value, std::size_t max_ids) {
  std::vector<std::string> out;
  for (std::size_t p = value.find('<'); p != std::string_view::npos && out.size() < max_ids; p = value.find('<', p + 1)) {
    const auto e = value.find('>', p);
    if (e == std::string_view::npos) break;
    if (e > p + 1) out.emplace_back(value.substr(p + 1, e - p - 1));
    p = e;
  }
  return out;
}

std::optional<std::string> header_value(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return unfold(f.value);
  return std::nullopt;
}

std::string unfold_as_read(std::string_view value) {
  // The white space around line breaks, counted whole (what the line ended with, every
  // indent, and lines of white space only). A mail program folds at a space: at most one
  // before the break and an indent after it, one space to a reader. More than one before it,
  // or more than kMaxFoldSpace in all, is kept as written without its CR and LF (padding
  // spread over folds is still padding).
  constexpr std::size_t kMaxFoldSpace = 8;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\r' && value[i] != '\n') {
      out += value[i];
      continue;
    }
    std::size_t trail = 0;
    while (trail < out.size() && blank(out[out.size() - 1 - trail])) ++trail;
    std::string run(out.end() - std::ptrdiff_t(trail), out.end());
    out.resize(out.size() - trail);
    for (; i < value.size() && (blank(value[i]) || value[i] == '\r' || value[i] == '\n'); ++i)
      if (blank(value[i])) run += value[i];
    --i;  // the loop's ++i moves past the run
    if (trail > 1 || run.size() > kMaxFoldSpace) out += run;
    else if (!out.empty()) out += ' ';
  }
  return std::string(trim_ws(out));
}

std::optional<std::string> header_value_as_read(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return unfold_as_read(f.value);
  return std::nullopt;
}

std::string strip_comments(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (depth == 0 && quoted) {
      out += c;
      if (c == '\\' && i + 1 < s.size()) out += s[++i];
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '\\' && depth > 0) {
      ++i;
      continue;
    }
    if (c == '(') {
      if (depth++ == 0) out += ' ';
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      if (c == '"') quoted = true;
      out += c;
    }
  }
  return out;
}

std::optional<std::string> ParamValue::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return std::nullopt;
}

ParamValue parse_params(std::string_view value, std::size_t max_params) {
  ParamValue pv;
  const std::string clean = strip_comments(unfold(value));
  auto parts = split_unquoted(clean, ';');
  pv.type = to_lower(trim_ws(parts[0]));
  // RFC 2231 §3: name*N[*]=value sections, assembled in N order.
  struct Section {
    bool extended;
    std::string value;
  };
  std::map<std::string, std::map<int, Section>> continued;
  std::vector<std::string> order;
  for (std::size_t i = 1; i < parts.size() && pv.params.size() < max_params; ++i) {
    auto p = trim_ws(parts[i]);
    auto eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = to_lower(trim_ws(p.substr(0, eq)));
    std::string val = unquote(p.substr(eq + 1));
    if (name.empty()) continue;
    bool extended = false;
    if (name.back() == '*') {
      extended = true;
      name.pop_back();
    }
    int section = -1;
    auto star = name.find('*');
    if (star != std::string::npos) {
      auto n = parse_u64(name.substr(star + 1));
      if (!n || *n > 999) continue;
      section = int(*n);
      name.resize(star);
    }
    if (section < 0 && !extended) {
      if (!std::any_of(pv.params.begin(), pv.params.end(), [&](auto& kv) { return kv.first == name; }))
        pv.params.emplace_back(name, val);
      continue;
    }
    if (!continued.count(name)) order.push_back(name);
    continued[name][std::max(section, 0)] = Section{extended, val};
  }
  for (const auto& name : order) {
    std::string raw, charset;
    bool first = true;
    for (const auto& [idx, sec] : continued[name]) {
      std::string v = sec.value;
      if (sec.extended) {
        if (first) {
          // charset'language'value
          auto q1 = v.find('\'');
          auto q2 = q1 == std::string::npos ? std::string::npos : v.find('\'', q1 + 1);
          if (q2 != std::string::npos) {
            charset = to_lower(v.substr(0, q1));
            v = v.substr(q2 + 1);
          }
        }
        v = percent_decode(v);
      }
      raw += v;
      first = false;
    }
    if (!charset.empty() && charset != "utf-8" && charset != "us-ascii") {
      if (auto u = to_utf8(raw, charset)) raw = *u;
    }
    pv.params.emplace_back(name, raw);
  }
  return pv;
}

namespace {

void parse_addr_spec(std::string_view spec, Address& a) {
  spec = trim_ws(spec);
  // Obsolete route: "@a,@b:local@domain"
  if (!spec.empty() && spec[0] == '@') {
    auto colon = spec.find(':');
    if (colon != std::string_view::npos) {
      a.route = std::string(trim_ws(spec.substr(0, colon)));
      spec = trim_ws(spec.substr(colon + 1));
    }
  }
  // Last '@' outside quotes.
  std::size_t at = std::string_view::npos;
  bool quoted = false;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] == '\\' && quoted) ++i;
    else if (spec[i] == '"') quoted = !quoted;
    else if (spec[i] == '@' && !quoted) at = i;
  }
  if (at == std::string_view::npos) {
    a.local = unquote(spec);
    return;
  }
  a.local = unquote(spec.substr(0, at));
  std::string dom;
  for (char c : trim_ws(spec.substr(at + 1)))
    if (!is_wsp(c)) dom += c;
  a.domain = dom;
}

void parse_mailbox_text(std::string_view text, std::vector<Address>& out) {
  text = trim_ws(text);
  if (text.empty()) return;
  Address a;
  // name-addr: [display-name] "<" addr-spec ">"
  std::size_t lt = std::string_view::npos, gt = std::string_view::npos;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && quoted) ++i;
    else if (text[i] == '"') quoted = !quoted;
    else if (!quoted && text[i] == '<' && lt == std::string_view::npos) lt = i;
    else if (!quoted && text[i] == '>' && lt != std::string_view::npos) gt = i;
  }
  if (lt != std::string_view::npos) {
    const auto name = trim_ws(text.substr(0, lt));
    a.name = unquote(name);
    parse_addr_spec(text.substr(lt + 1, (gt == std::string_view::npos ? text.size() : gt) - lt - 1), a);
  } else {
    parse_addr_spec(text, a);
  }
  if (a.local.empty() && a.domain.empty() && a.name.empty()) return;
  out.push_back(std::move(a));
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view value, std::size_t max_addresses) {
  std::vector<Address> out;
  const std::string s = strip_comments(unfold(value));
  bool quoted = false, in_group = false;
  int angle = 0;
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    if (out.size() < max_addresses) parse_mailbox_text(std::string_view(s).substr(start, end - start), out);
    start = end + 1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '<') ++angle;
    else if (c == '>' && angle > 0) --angle;
    else if (angle == 0 && c == ',') flush(i);
    else if (angle == 0 && c == ':' && !in_group && out.size() < max_addresses) {
      Address g;
      g.group_start = true;
      g.group = unquote(std::string_view(s).substr(start, i - start));
      out.push_back(std::move(g));
      in_group = true;
      start = i + 1;
    } else if (angle == 0 && c == ';' && in_group) {
      flush(i);
      if (out.size() < max_addresses) {
        Address e;
        e.group_end = true;
        out.push_back(e);
      }
      in_group = false;
    }
  }
  if (start < s.size()) flush(s.size());
  if (in_group && out.size() < max_addresses) {
    Address e;
    e.group_end = true;
    out.push_back(e);
  }
  return out;
}

namespace {

// The length of the UTF-8 sequence at text[i], 0 when none starts there. By lead and
// continuation bytes only: overlong 3- and 4-byte forms, surrogates (ED A0-BF) and code
// points above U+10FFFF (F4 90-BF) pass.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const std::size_t n = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3
                                  : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

struct Reading {
  std::string_view declared, read_as;
};
// Checked against glibc 2.36's iconv on every 1- and 2-byte sequence: each superset reads
// every sequence its subset reads, and the same way, but for
// - euc-kr: the C1 controls and A2E8 (a circled symbol) become U+FFFD;
// - gb2312: A1A4 and A1AA read as the marks Chinese input methods type (· and —, not ・ and ―);
// - shift_jis: 0x5C and 0x7E read as \ and ~ (not ¥ and ‾), as Windows writes and means them;
// - shift_jis and euc-jp: six symbols that Microsoft maps to other code points than JIS
//   (～ for 〜, － for −, ∥ for ‖, ￠ ￡ ￢ for ¢ £ ¬): to_utf8 maps them back (jis_forms), so
//   that the same text gives the same characters in these as in ISO-2022-JP.
// gbk and cp936 are read as CP936, which has € at 0x80 and GB18030 has not.
constexpr Reading kDoubleByte[] = {
    {"gb2312", "GB18030"},       {"gbk", "CP936"},         {"gb18030", "GB18030"},       {"cp936", "CP936"},
    {"big5", "CP950"},           {"cp950", "CP950"},       {"big5-hkscs", "BIG5-HKSCS"}, {"euc-kr", "CP949"},
    {"ks_c_5601-1987", "CP949"}, {"ks_c_5601", "CP949"},   {"cp949", "CP949"},           {"euc-jp", "EUC-JP-MS"},
    {"shift_jis", "CP932"},      {"shift-jis", "CP932"},   {"sjis", "CP932"},            {"cp932", "CP932"},
    {"windows-31j", "CP932"},    {"euc-tw", "EUC-TW"}};

const Reading* double_byte(std::string_view charset) {
  for (const auto& r : kDoubleByte)
    if (iequals(charset, r.declared)) return &r;
  return nullptr;
}

// In text read as CP932 or EUC-JP-MS, the six characters Microsoft maps differently from JIS
// X 0208 (and from glibc's ISO-2022-JP) get JIS's: FULLWIDTH TILDE to WAVE DASH, FULLWIDTH
// HYPHEN-MINUS to MINUS SIGN, PARALLEL TO to DOUBLE VERTICAL LINE, FULLWIDTH CENT, POUND and
// NOT SIGNS to their Latin-1 forms.
void jis_forms(std::string& utf8) {
  static constexpr std::pair<std::string_view, std::string_view> kForms[] = {
      {"\xef\xbd\x9e", "\xe3\x80\x9c"}, {"\xef\xbc\x8d", "\xe2\x88\x92"}, {"\xe2\x88\xa5", "\xe2\x80\x96"},
      {"\xef\xbf\xa0", "\xc2\xa2"},     {"\xef\xbf\xa1", "\xc2\xa3"},     {"\xef\xbf\xa2", "\xc2\xac"}};
  if (utf8.find_first_of("\xef\xe2") == std::string::npos) return;
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    bool replaced = false;
    if (utf8[i] == '\xef' || utf8[i] == '\xe2') {
      for (const auto& [from, to] : kForms)
        if (utf8.compare(i, from.size(), from) == 0) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
    }
    if (!replaced) out += utf8[i++];
  }
  utf8 = std::move(out);
}

}  // namespace

bool double_byte_charset(std::string_view charset) { return double_byte(charset) != nullptr; }

std::string_view charset_reading(std::string_view charset) {
  const Reading* r = double_byte(charset);
  return r ? r->read_as : charset;
}

bool iso2022_charset(std::string_view charset) {
  return istarts_with(charset, "iso-2022") || istarts_with(charset, "iso2022") ||
         istarts_with(charset, "csiso2022");
}

std::optional<std::string> to_utf8(std::string_view text, std::string_view charset) {
  std::string cs = to_lower(charset);
  if (auto star = cs.find('*'); star != std::string::npos) cs.resize(star);  // RFC 2231 language
  if (cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
    // Replace invalid sequences so the result is valid UTF-8.
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t n = utf8_sequence(text, i);
      if (n > 0) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        out += "\xef\xbf\xbd";
        ++i;
      }
    }
    return out;
  }
  // The superset, else (an iconv without it: musl has no EUC-JP-MS) the charset as named.
  const std::string reading(charset_reading(cs));
  iconv_t cd = iconv_open("UTF-8", reading.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1) && !iequals(reading, cs)) cd = iconv_open("UTF-8", cs.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out;
  out.resize(text.size() * 4 + 16);
  char* in = const_cast<char*>(text.data());
  std::size_t in_left = text.size();
  char* dst = out.data();
  std::size_t out_left = out.size();
  // In the ISO-2022 charsets a character iconv does not know (ISO-2022-JP's NEC and IBM
  // extensions, common in Japanese mail) is two printable bytes in a double-byte run: both are
  // skipped, or every later character of the run would be read off by one.
  const bool iso2022 = iso2022_charset(cs);
  const auto printable = [](char c) { return c >= 0x21 && c <= 0x7e; };
  while (in_left > 0) {
    std::size_t r = iconv(cd, &in, &in_left, &dst, &out_left);
    if (r != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) break;  // cannot happen with 4x room, but never loop forever
    // EILSEQ/EINVAL: replace the character (one byte, or an ISO-2022 pair) and go on.
    const std::size_t skip = errno == EILSEQ && iso2022 && in_left >= 2 && printable(in[0]) && printable(in[1]) ? 2 : 1;
    in += skip;
    in_left -= skip;
    if (out_left >= 3) {
      std::memcpy(dst, "\xef\xbf\xbd", 3);
      dst += 3;
      out_left -= 3;
    }
  }
  iconv_close(cd);
  out.resize(out.size() - out_left);
  if (reading == "CP932" || reading == "EUC-JP-MS") jis_forms(out);
  return out;
}

std::string decode_words(std::string_view value) {
  std::string out;
  std::size_t i = 0;
  bool last_was_word = false;
  std::string pending_ws;
  while (i < value.size()) {
    if (value.compare(i, 2, "=?") == 0) {
      // =?charset?enc?text?=
      auto q1 = value.find('?', i + 2);
      auto q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      auto end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        auto charset = value.substr(i + 2, q1 - i - 2);
        const char enc = ascii_upper(value[q1 + 1]);
        auto text = value.substr(q2 + 1, end - q2 - 1);
        std::optional<std::string> decoded;
        if (enc == 'B') decoded = to_utf8(base64_decode(text), charset);
        else if (enc == 'Q') decoded = to_utf8(qp_decode(text, true), charset);
        if (decoded) {
          // RFC 2047 §6.2: white space between adjacent encoded words is dropped.
          if (!last_was_word) out += pending_ws;
          pending_ws.clear();
          out += *decoded;
          last_was_word = true;
          i = end + 2;
          continue;
        }
      }
    }
    const char c = value[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (c != '\r' && c != '\n') pending_ws += c;
    } else {
      out += pending_ws;
      pending_ws.clear();
      out += c;
      last_was_word = false;
    }
    ++i;
  }
  out += pending_ws;
  return out;
}

}  // namespace mk::message
