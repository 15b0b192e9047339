#include "auth/totp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::auth {
namespace {

constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string base32(const unsigned char* d, std::size_t n) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | d[i];
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(acc << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> unbase32(std::string_view s) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=' || c == ' ') continue;
    const char* p = std::char_traits<char>::find(kBase32, 32, ascii_upper(c));
    if (!p) return std::nullopt;
    acc = (acc << 5) | std::uint32_t(p - kBase32);
    bits += 5;
    if (bits >= 8) {
      out += char((acc >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string uri_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (is_alpha(char(c)) || is_digit(char(c)) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') out += char(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

std::string new_totp_secret() {
  unsigned char key[kTotpSecretBytes];
  randombytes_buf(key, sizeof key);
  return base32(key, sizeof key);
}

std::optional<std::string> totp_code(std::string_view secret_b32, std::int64_t unix_time, int digits) {
  auto key = unbase32(secret_b32);
  if (!key) return std::nullopt;
  const std::uint64_t counter = std::uint64_t(unix_time / kTotpStep);
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) msg[7 - i] = static_cast<unsigned char>(counter >> (8 * i));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key->data(), int(key->size()), msg, sizeof msg, mac, &len);
  // RFC 4226 §5.3: dynamic truncation.
  const int off = mac[len - 1] & 0x0f;
  const std::uint32_t bin = (std::uint32_t(mac[off] & 0x7f) << 24) | (std::uint32_t(mac[off + 1]) << 16) |
                            (std::uint32_t(mac[off + 2]) << 8) | std::uint32_t(mac[off + 3]);
  std::uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  return fmt::format("{:0{}d}", bin % mod, digits);
}

std::optional<std::int64_t> totp_verify(std::string_view secret_b32, std::string_view code, std::int64_t now,
                                        std::int64_t last_step) {
  if (code.size() != std::size_t(kTotpDigits)) return std::nullopt;
  const std::int64_t step = now / kTotpStep;
  std::optional<std::int64_t> found;
  for (std::int64_t s = step - 1; s <= step + 1; ++s) {
    auto c = totp_code(secret_b32, s * kTotpStep);
    if (c && c->size() == code.size() && CRYPTO_memcmp(c->data(), code.data(), code.size()) == 0 && s > last_step)
      found = s;
  }
  return found;
}

std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view secret_b32) {
  return fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={}&period={}", uri_escape(issuer),
                     uri_escape(account), secret_b32, uri_escape(issuer), kTotpDigits, kTotpStep);
}

}  // namespace mk::auth
