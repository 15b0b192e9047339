// auth/sasl.hpp: SASL message parsing shared by SMTP AUTH and IMAP AUTHENTICATE.
//
// STANDARDS: RFC 4422 (SASL), RFC 4616 (PLAIN), RFC 4648 §4 (base64, strict: SASL
// responses are never line-wrapped MIME text, so any stray character is an error).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mk::auth {

// Strict base64: alphabet and trailing padding only, length a multiple of four.
std::optional<std::string> sasl_base64_decode(std::string_view in);

struct PlainResponse {
  std::string authzid;  // empty unless the client asks to act as someone else
  std::string user;
  std::string password;
};

// RFC 4616 message "authzid NUL authcid NUL passwd" from its base64 form.
std::optional<PlainResponse> parse_plain(std::string_view b64);

}  // namespace mk::auth
