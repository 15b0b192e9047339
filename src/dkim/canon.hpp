// dkim/canon.hpp: DKIM canonicalization (RFC 6376 §3.4), shared by signing and verifying.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mk::dkim {

enum class Canon { simple, relaxed };

// One header field as it appears in the message: name and raw value (after the colon,
// folding and trailing CRLF included as received, CRLF excluded).
struct RawField {
  std::string_view name;
  std::string_view value;
};

// The message's header fields in order (up to the blank line), and where the body starts.
std::vector<RawField> split_header(std::string_view msg, std::size_t& body_start);

// "name:value\r\n" canonicalized. simple keeps the field byte for byte.
std::string canon_header(const RawField& f, Canon c);

// The canonical body (RFC 6376 §3.4.3, §3.4.4; an empty body is "\r\n" for simple and ""
// for relaxed, per errata 3192).
std::string canon_body(std::string_view body, Canon c);

}  // namespace mk::dkim
