#include "auth/sasl.hpp"

#include "message/codec.hpp"

namespace mk::auth {

std::optional<std::string> sasl_base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;  // padding only in the last two places
      ++pad;
    } else if (!alpha || pad > 0) {
      return std::nullopt;
    }
  }
  return message::base64_decode(in);
}

std::optional<PlainResponse> parse_plain(std::string_view b64) {
  auto raw = sasl_base64_decode(b64);
  if (!raw) return std::nullopt;
  const auto a = raw->find('\0');
  const auto b = a == std::string::npos ? a : raw->find('\0', a + 1);
  if (b == std::string::npos || raw->find('\0', b + 1) != std::string::npos) return std::nullopt;
  PlainResponse r{raw->substr(0, a), raw->substr(a + 1, b - a - 1), raw->substr(b + 1)};
  if (r.user.empty()) return std::nullopt;
  return r;
}

}  // namespace mk::auth
