#include "message/codec.hpp"

#include <algorithm>

#include "base/strings.hpp"

namespace mk::message {
namespace {

int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    if (c == '=') break;  // padding ends the data
    const int v = b64_value(c);
    if (v < 0) continue;  // whitespace and garbage are skipped
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                            (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v =
        (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string qp_decode(std::string_view in, bool q_encoding) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '_' && q_encoding) {
      out += ' ';
    } else if (c == '=') {
      if (i + 1 < in.size() && (in[i + 1] == '\r' || in[i + 1] == '\n')) {
        // soft line break: "=" CRLF (or bare LF)
        i += (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') ? 2 : 1;
        continue;
      }
      const int byte = hex_pair(in, i + 1);
      if (byte >= 0) {
        out += char(byte);
        i += 2;
      } else {
        out += c;  // broken escape: keep literally
      }
    } else {
      out += c;
    }
  }
  return out;
}

std::string decode_transfer(std::string_view body, std::string_view encoding) {
  if (iequals(encoding, "base64")) return base64_decode(body);
  if (iequals(encoding, "quoted-printable")) return qp_decode(body);
  return std::string(body);
}

std::string base64_lines(std::string_view in) {
  constexpr std::size_t kLine = 76;
  const std::string b64 = base64_encode(in);
  std::string out;
  out.reserve(b64.size() + b64.size() / kLine * 2 + 2);
  for (std::size_t i = 0; i < b64.size(); i += kLine) {
    out.append(b64, i, kLine);
    out += "\r\n";
  }
  return out;
}

std::string encode_words(std::string_view utf8, std::size_t used) {
  std::string text;
  bool plain = true;
  for (unsigned char c : utf8) {
    text += c < 0x20 || c == 0x7F ? ' ' : char(c);
    if (c >= 0x7F) plain = false;
  }
  // "=?" in plain text would be read as the start of an encoded word.
  if (plain && text.find("=?") == std::string::npos && text.size() + used <= 900) return text;
  // RFC 2047 §2: a line holding encoded words is at most 76 characters. "=?utf-8?B?" and
  // "?=" take 12; every 3 bytes of text take 4. A folded line starts with one space.
  const auto room = [](std::size_t taken) { return (76 - std::min<std::size_t>(taken + 12, 64)) / 4 * 3; };
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t chunk = room(out.empty() ? used : 1);
    std::size_t end = std::min(text.size(), i + chunk);
    // Back up to a character's first byte so no word splits a character (RFC 2047 §5(3)).
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (end == i) end = std::min(text.size(), i + chunk);
    if (!out.empty()) out += "\r\n ";
    out += "=?utf-8?B?" + base64_encode(std::string_view(text).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

}  // namespace mk::message
