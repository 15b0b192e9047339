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

#include "message/address.hpp"

namespace mk::srs {

inline constexpr int kMaxAgeDays = 21;
// The longest SRS local part written: as long as the peers' local parts the MX accepts, more
// than RFC 5321's 64 octets (as postsrsd writes them too). A sender's address too long for it
// is forwarded as it is, and fails SPF where it arrives unless DKIM carries DMARC; of the
// two, a long SRS address is the likelier to arrive (review of issue 18: lists' VERP senders).
inline constexpr std::size_t kMaxLocalPart = message::kMaxAcceptedLocalPart;

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
