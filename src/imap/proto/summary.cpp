#include "imap/proto/summary.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "imap/proto/fetch.hpp"

namespace mk::imap {
namespace {

// version (1) + CRC-32C of the rest (4, little-endian).
constexpr std::size_t kHeaderSize = 5;
// A varint of a 32-bit length takes at most 5 bytes.
constexpr std::size_t kMaxVarint = 5;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += char(std::uint8_t(v) | 0x80);
    v >>= 7;
  }
  out += char(v);
}

std::optional<std::uint64_t> get_varint(std::string_view& in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kMaxVarint && i < in.size(); ++i) {
    const auto b = std::uint8_t(in[i]);
    v |= std::uint64_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      in.remove_prefix(i + 1);
      return v;
    }
  }
  return std::nullopt;  // truncated or too long
}

// CRC-32C (Castagnoli; RFC 3720 §B.4), reflected, as the SSE 4.2 instruction computes it.
constexpr std::uint32_t kCrc32cPoly = 0x82F63B78;

constexpr std::array<std::uint32_t, 256> kCrcTable = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kCrc32cPoly : 0);
    t[i] = c;
  }
  return t;
}();

std::uint32_t crc32c_portable(std::uint32_t crc, std::string_view s) {
  for (const char ch : s) crc = kCrcTable[(crc ^ std::uint8_t(ch)) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
// Eight bytes per instruction: the first FETCH after a restart checks every summary of the
// mailbox, and a table-driven CRC took as long as reading them from the database.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t crc,
                                                             std::string_view s) {
  std::uint64_t c = crc;
  while (s.size() >= 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data(), 8);
    c = _mm_crc32_u64(c, word);
    s.remove_prefix(8);
  }
  auto c32 = std::uint32_t(c);
  for (const char ch : s) c32 = _mm_crc32_u8(c32, std::uint8_t(ch));
  return c32;
}
#endif

std::uint32_t crc_of(std::string_view s) {
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~crc32c_sse42(0xffffffff, s);
#endif
  return ~crc32c_portable(0xffffffff, s);
}

// Every item is a parenthesized list (RFC 9051 §7.5.2 "envelope", "body").
bool plausible(std::string_view item) {
  return item.size() >= 2 && item.front() == '(' && item.back() == ')';
}

}  // namespace

Summary::Summary(std::string_view envelope, std::string_view body, std::string_view bodystructure) {
  buf_.reserve(envelope.size() + body.size() + bodystructure.size());
  std::size_t i = 0;
  for (const auto item : {envelope, body, bodystructure}) {
    at_[i] = buf_.size();
    size_[i++] = item.size();
    buf_ += item;
  }
}

Summary summarize(const message::Part& root) {
  return Summary(render_envelope(root), render_body_structure(root, false),
                 render_body_structure(root, true));
}

std::string encode_summary(const Summary& s) {
  std::string out(kHeaderSize, '\0');
  out.reserve(kHeaderSize + 3 * kMaxVarint + s.envelope().size() + s.body().size() +
              s.bodystructure().size());
  for (const auto item : {s.envelope(), s.body(), s.bodystructure()}) {
    put_varint(out, item.size());
    out += item;
  }
  out[0] = char(kSummaryVersion);
  const std::uint32_t crc = crc_of(std::string_view(out).substr(kHeaderSize));
  for (int i = 0; i < 4; ++i) out[1 + i] = char(std::uint8_t(crc >> (8 * i)));
  return out;
}

std::optional<Summary> decode_summary(std::string data) {
  if (data.size() < kHeaderSize || std::uint8_t(data[0]) != kSummaryVersion) return std::nullopt;
  std::uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= std::uint32_t(std::uint8_t(data[1 + i])) << (8 * i);
  const std::string_view all = data;
  std::string_view in = all.substr(kHeaderSize);
  if (crc_of(in) != crc) return std::nullopt;
  Summary s;
  for (std::size_t i = 0; i < 3; ++i) {
    auto n = get_varint(in);
    if (!n || *n > in.size()) return std::nullopt;
    const auto text = in.substr(0, std::size_t(*n));
    if (!plausible(text)) return std::nullopt;
    s.at_[i] = std::size_t(text.data() - all.data());
    s.size_[i] = text.size();
    in.remove_prefix(text.size());
  }
  if (!in.empty()) return std::nullopt;  // bytes this version does not know
  s.buf_ = std::move(data);  // the items are found by offset: still there after the move
  return s;
}

}  // namespace mk::imap
