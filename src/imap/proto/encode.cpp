#include "imap/proto/encode.hpp"

#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::imap {

std::string imap_string(std::string_view s) {
  bool literal = s.size() > 1024;
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == 0) literal = true;
  if (literal) return fmt::format("{{{}}}\r\n", s.size()) + std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string imap_nstring(std::optional<std::string_view> s) {
  if (!s) return "NIL";
  return imap_string(*s);
}

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_index(char c) {
  for (int i = 0; i < 64; ++i)
    if (kB64[i] == c) return i;
  return -1;
}

// Decodes one UTF-8 code point; returns 0 length on error.
std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  if (c < 0x80) return cp = c, 1;
  if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string mutf7_encode(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> units;
  auto flush = [&] {
    if (units.empty()) return;
    out += '&';
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto u : units) {
      acc = (acc << 16) | u;
      bits += 16;
      while (bits >= 6) {
        bits -= 6;
        out += kB64[(acc >> bits) & 63];
      }
    }
    if (bits > 0) out += kB64[(acc << (6 - bits)) & 63];
    out += '-';
    units.clear();
  };
  for (std::size_t i = 0; i < utf8.size();) {
    std::uint32_t cp;
    std::size_t n = utf8_decode(utf8, i, cp);
    if (n == 0) {
      cp = 0xfffd;
      n = 1;
    }
    i += n;
    if (cp >= 0x20 && cp <= 0x7e) {
      flush();
      if (cp == '&') out += "&-";
      else out += char(cp);
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(std::uint16_t(0xd800 + (cp >> 10)));
      units.push_back(std::uint16_t(0xdc00 + (cp & 0x3ff)));
    } else {
      units.push_back(std::uint16_t(cp));
    }
  }
  flush();
  return out;
}

std::optional<std::string> mutf7_decode(std::string_view s) {
  std::string out;
  std::size_t last_run_end = std::string_view::npos;  // index of the '-' closing the last run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '&') {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return std::nullopt;
      out += c;
      continue;
    }
    auto end = s.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      out += '&';
      i = end;
      continue;
    }
    // Two encoded runs in a row ("&AOQ-&APY-") are not the canonical form ("&AOQA9g-"); a
    // name must have one spelling, or two names could mean the same mailbox.
    if (last_run_end != std::string_view::npos && last_run_end + 1 == i) return std::nullopt;
    std::uint32_t acc = 0;
    int bits = 0;
    std::vector<std::uint16_t> units;
    for (std::size_t k = i + 1; k < end; ++k) {
      const int v = b64_index(s[k]);
      if (v < 0) return std::nullopt;
      acc = (acc << 6) | std::uint32_t(v);
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push_back(std::uint16_t((acc >> bits) & 0xffff));
      }
    }
    if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-zero padding
    for (std::size_t k = 0; k < units.size(); ++k) {
      std::uint32_t u = units[k];
      if (u >= 0xd800 && u <= 0xdbff) {
        if (k + 1 >= units.size() || units[k + 1] < 0xdc00 || units[k + 1] > 0xdfff) return std::nullopt;
        u = 0x10000 + ((u - 0xd800) << 10) + (units[++k] - 0xdc00);
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        return std::nullopt;
      }
      // RFC 3501: printable US-ASCII must not be encoded.
      if (u >= 0x20 && u <= 0x7e) return std::nullopt;
      append_utf8(out, u);
    }
    i = end;
    last_run_end = end;
  }
  return out;
}

}  // namespace mk::imap
