// srs/srs.hpp: the Sender Rewriting Scheme, so that mail we forward keeps passing SPF: the
// envelope sender becomes an address of ours that only we can make (an HMAC of the original
// address and the day) and that bounces back to the original sender for a while.
//
// Format (the "SRS0" scheme of Shevek's SRS paper, as Postfix's postsrsd and Exim write it):
//   SRS0=HHHH=TT=orig-domain=orig-local@forwarder-domain
// HHHH: the first 4 characters of base64(HMAC-SHA256(secret, lower(TT orig-domain orig-local))),
// TT: the day number modulo 1024 in base32.
// SECURITY: reverse() accepts only addresses with a valid hash younger than kMaxAgeDays, so
// the reverse path is not an open relay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mk::srs {

inline constexpr int kMaxAgeDays = 21;
inline constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 §4.5.3.1.1

class Srs {
 public:
  explicit Srs(std::string secret) : secret_(std::move(secret)) {}
  // The rewritten sender; nullopt when it would not fit in a local part (then forward with
  // the original sender). `sender` is "local@domain".
  std::optional<std::string> forward(std::string_view sender, std::string_view forwarder_domain, std::int64_t now) const;
  // The original sender of an SRS0 address we made, if its hash is valid and it is recent.
  std::optional<std::string> reverse(std::string_view address, std::int64_t now) const;
  static bool looks_like_srs(std::string_view local_part);

 private:
  std::string hash(std::string_view tt, std::string_view domain, std::string_view local) const;
  std::string secret_;
};

}  // namespace mk::srs
