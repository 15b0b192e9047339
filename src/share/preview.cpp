#include "share/preview.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "base/strings.hpp"
#include "message/header.hpp"

namespace mk::share {
namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Collapses runs of white space, drops control characters, cuts at `max` bytes on a
// character boundary.
std::string clean(std::string_view s, std::size_t max) {
  std::string out;
  bool gap = false;
  for (unsigned char c : s) {
    if (space(char(c)) || c < 0x20 || c == 0x7F) {
      gap = !out.empty();
      continue;
    }
    if (gap) out += ' ';
    gap = false;
    out += char(c);
    if (out.size() >= max + 4) break;
  }
  if (out.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "…";
  }
  return out;
}

struct Tag {
  std::string name;  // lower-case
  std::vector<std::pair<std::string, std::string>> attrs;  // names lower-case, values raw
  std::size_t end = 0;  // just after '>'
  std::string_view attr(std::string_view n) const {
    for (const auto& [k, v] : attrs)
      if (k == n) return v;
    return {};
  }
};

// The tag that starts at html[at] == '<', or nullopt (a comment, a closing tag, text).
// *scanned grows by the bytes looked at.
std::optional<Tag> read_tag(std::string_view html, std::size_t at, std::size_t& scanned) {
  std::size_t i = at + 1;
  struct Count {
    std::size_t& total;
    std::size_t from;
    const std::size_t& to;
    ~Count() { total += to - from; }
  } count{scanned, at, i};
  Tag t;
  while (i < html.size() && (std::isalnum(static_cast<unsigned char>(html[i])) || html[i] == '-' || html[i] == ':'))
    t.name += char(std::tolower(static_cast<unsigned char>(html[i++])));
  if (t.name.empty()) return std::nullopt;
  while (i < html.size()) {
    while (i < html.size() && (space(html[i]) || html[i] == '/')) ++i;
    if (i >= html.size()) return std::nullopt;
    if (html[i] == '>') {
      t.end = i + 1;
      return t;
    }
    std::string name;
    while (i < html.size() && !space(html[i]) && html[i] != '=' && html[i] != '>' && html[i] != '/')
      name += char(std::tolower(static_cast<unsigned char>(html[i++])));
    while (i < html.size() && space(html[i])) ++i;
    std::string value;
    if (i < html.size() && html[i] == '=') {
      ++i;
      while (i < html.size() && space(html[i])) ++i;
      if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
        const char q = html[i++];
        const auto close = html.find(q, i);
        if (close == std::string_view::npos) return std::nullopt;
        value = std::string(html.substr(i, close - i));
        i = close + 1;
      } else {
        while (i < html.size() && !space(html[i]) && html[i] != '>') value += html[i++];
      }
    }
    if (!name.empty() && t.attrs.size() < 64) t.attrs.emplace_back(std::move(name), std::move(value));
  }
  return std::nullopt;
}

// The bytes the tag reader may look at in all, a few times the page.
constexpr std::size_t kMaxWork = 8 * kMaxScanned;

// Raw values longer than this are cut before they are decoded: far more than any title,
// description or address, so clean() still sees whole characters to cut at.
constexpr std::size_t kMaxRawValue = 16 * 1024;

// Where "</name" begins after `from`, in any letter case; npos if nowhere.
std::size_t find_close(std::string_view html, std::size_t from, std::string_view name) {
  for (auto at = html.find("</", from); at != std::string_view::npos; at = html.find("</", at + 2))
    if (iequals(html.substr(at + 2, name.size()), name)) return at;
  return std::string_view::npos;
}

std::string charset_of_content_type(std::string_view v) {
  const std::string lower = to_lower(v);
  const auto at = lower.find("charset=");
  if (at == std::string::npos) return {};
  std::string cs(lower.substr(at + 8));
  if (!cs.empty() && (cs[0] == '"' || cs[0] == '\'')) cs.erase(0, 1);
  const auto end = cs.find_first_of("\"'; \t");
  if (end != std::string::npos) cs.resize(end);
  return cs;
}

}  // namespace

std::string decode_references(std::string_view text) {
  static constexpr std::pair<std::string_view, std::uint32_t> kNamed[] = {
      {"amp", '&'},     {"lt", '<'},      {"gt", '>'},      {"quot", '"'},    {"apos", '\''},   {"nbsp", 0xA0},
      {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"rsquo", 0x2019}, {"lsquo", 0x2018},
      {"rdquo", 0x201D}, {"ldquo", 0x201C}, {"copy", 0xA9},   {"reg", 0xAE},    {"trade", 0x2122},
      {"euro", 0x20AC}, {"middot", 0xB7}, {"laquo", 0xAB},  {"raquo", 0xBB},  {"bull", 0x2022}};
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    // A reference is short: look for its ';' nearby only (a value of '&'s costs its length).
    const auto semi = text.substr(0, std::min(text.size(), i + 14)).find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += '&';
      continue;
    }
    const std::string_view ref = text.substr(i + 1, semi - i - 1);
    std::optional<std::uint32_t> cp;
    if (ref.size() > 1 && ref[0] == '#') {
      const bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::uint32_t v = 0;
      bool ok = ref.size() > (hex ? 2u : 1u);
      for (char c : ref.substr(hex ? 2 : 1)) {
        const int d = hex ? hex_value(c) : is_digit(c) ? c - '0' : -1;
        if (d < 0 || v > 0x10FFFF) ok = false;
        else v = v * (hex ? 16 : 10) + std::uint32_t(d);
      }
      if (ok) cp = v;
    } else {
      for (const auto& [n, v] : kNamed)
        if (ref == n) cp = v;
    }
    if (!cp) {
      out += '&';
      continue;
    }
    // Not a scalar value (NUL, a surrogate, past U+10FFFF): the replacement character.
    if (*cp == 0 || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) *cp = 0xFFFD;
    append_utf8(out, *cp);
    i = semi;
  }
  return out;
}

Preview read_preview(std::string_view html, std::string_view header_charset) {
  html = html.substr(0, std::min(html.size(), kMaxScanned));
  std::string og_title, tw_title, title, og_desc, tw_desc, desc, site, og_image, og_image_secure, tw_image, og_url;
  std::string charset(to_lower(header_charset));
  std::size_t tags = 0, scanned = 0;
  for (std::size_t at = html.find('<'); at != std::string_view::npos && tags < kMaxTags; at = html.find('<', at + 1)) {
    if (html.substr(at, 4) == "<!--") {  // a comment: skip it whole
      const auto end = html.find("-->", at + 4);
      if (end == std::string_view::npos) break;
      at = end + 2;
      continue;
    }
    ++tags;  // failed ones too: each costs a scan
    auto tag = read_tag(html, at, scanned);
    // Tags that fail after a long scan (an unclosed quote, no '>') would make every later '<'
    // scan the same rest again: the whole scan is bounded in bytes looked at.
    if (scanned > kMaxWork) break;
    if (!tag) continue;
    if (tag->name == "body") break;  // the preview tags are in the head
    if (tag->name == "title" && title.empty()) {
      const auto close = html.find("</", tag->end);
      // Kept whole up to a bound larger than any title: clean() cuts it after conversion.
      if (close != std::string_view::npos) title = std::string(html.substr(tag->end, std::min(close - tag->end, kMaxRawValue)));
      at = tag->end - 1;
      continue;
    }
    if (tag->name == "script" || tag->name == "style") {  // their text is not markup
      const auto close = find_close(html, tag->end, tag->name);
      if (close == std::string_view::npos) break;
      at = close;
      continue;
    }
    if (tag->name != "meta") {
      at = tag->end - 1;
      continue;
    }
    if (auto cs = tag->attr("charset"); !cs.empty() && header_charset.empty()) charset = to_lower(cs);
    if (iequals(tag->attr("http-equiv"), "content-type") && header_charset.empty()) {
      if (auto cs = charset_of_content_type(tag->attr("content")); !cs.empty()) charset = cs;
    }
    const std::string key = to_lower(!tag->attr("property").empty() ? tag->attr("property") : tag->attr("name"));
    const std::string content(tag->attr("content").substr(0, kMaxRawValue));
    auto first = [&](std::string& slot) {
      if (slot.empty()) slot = content;
    };
    if (key == "og:title") first(og_title);
    else if (key == "twitter:title") first(tw_title);
    else if (key == "og:description") first(og_desc);
    else if (key == "twitter:description") first(tw_desc);
    else if (key == "description") first(desc);
    else if (key == "og:site_name") first(site);
    else if (key == "og:image" || key == "og:image:url") first(og_image);
    else if (key == "og:image:secure_url") first(og_image_secure);
    else if (key == "twitter:image" || key == "twitter:image:src") first(tw_image);
    else if (key == "og:url") first(og_url);
    at = tag->end - 1;
  }
  // Text in the page's charset becomes UTF-8 (a value that does not convert is dropped:
  // better no title than mojibake).
  // The bytes are converted first, then the references (which are UTF-8 once decoded).
  auto utf8 = [&](const std::string& raw) {
    std::string v = raw;
    if (!charset.empty() && charset != "utf-8" && charset != "utf8") v = message::to_utf8(v, charset).value_or("");
    if (!message::valid_utf8(v)) return std::string();
    return decode_references(v);
  };
  auto text = [&](const std::string& raw, std::size_t max) { return clean(utf8(raw), max); };
  Preview p;
  p.title = text(!og_title.empty() ? og_title : !tw_title.empty() ? tw_title : title, kMaxTitle);
  p.description = text(!og_desc.empty() ? og_desc : !tw_desc.empty() ? tw_desc : desc, kMaxDescription);
  p.site_name = text(site, kMaxTitle);
  const std::string image = !og_image_secure.empty() ? og_image_secure : !og_image.empty() ? og_image : tw_image;
  // A cut address is a wrong one: too long, and there is none.
  auto address = [&](const std::string& raw) {
    std::string v = clean(utf8(raw), kMaxUrl + 1);
    return v.size() > kMaxUrl || v.find(' ') != std::string::npos ? std::string() : v;
  };
  p.image = address(image);
  p.url = address(og_url);
  return p;
}

}  // namespace mk::share
