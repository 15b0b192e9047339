// auth/totp.hpp: time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30 s), the
// second factor of the admin and web login. Secrets are base32 (RFC 4648) as authenticator
// apps expect them in an otpauth:// URI.
// SECURITY: a code is accepted for the current step and one step either side (clock skew),
// and a step that was used once is refused afterwards (no replay within the window).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mk::auth {

inline constexpr int kTotpDigits = 6;
inline constexpr std::int64_t kTotpStep = 30;
inline constexpr std::size_t kTotpSecretBytes = 20;  // RFC 4226 §4: at least 128 bits, 160 recommended

std::string new_totp_secret();  // base32, no padding
// The code for a unix time (RFC 6238 §4); nullopt for a secret that is not base32.
std::optional<std::string> totp_code(std::string_view secret_b32, std::int64_t unix_time, int digits = kTotpDigits);
// The step the code matches (now, or one step either side) if it is later than last_step.
std::optional<std::int64_t> totp_verify(std::string_view secret_b32, std::string_view code, std::int64_t now,
                                        std::int64_t last_step);
std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view secret_b32);

}  // namespace mk::auth
