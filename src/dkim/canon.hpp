// dkim/canon.hpp: DKIM canonicalization (RFC 6376 §3.4) and the hashed data, shared by signing
// and verifying (DKIM and ARC).
#pragma once

#include <optional>
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

// The data the header hash covers for the fields named in h= (RFC 6376 §5.4.2): each name
// takes the next instance from the bottom; a name with no instance left adds nothing.
std::string signed_fields(const std::vector<RawField>& fields, const std::vector<std::string>& names, Canon c);

std::string sha256(std::string_view data);  // raw 32 bytes

// A c= value ("relaxed/simple"; the body part defaults to simple): header and body
// canonicalizations, or nullopt for an unknown one.
struct CanonPair {
  Canon header = Canon::simple, body = Canon::simple;
};
std::optional<CanonPair> parse_canon(std::string_view c);

}  // namespace mk::dkim
