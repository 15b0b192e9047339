// message/mime.hpp: the MIME structure of a message (RFC 2045-2049), as IMAP's BODYSTRUCTURE,
// BODY[section] and the filters need it.
//
// The parser indexes a message held in memory: every Part records byte ranges into the
// original text (nothing is copied), its parsed Content-* fields and, for multipart and
// message/rfc822, its children. Section numbers follow RFC 3501 §6.4.5.
// SECURITY: input is untrusted. Nesting depth, part count and header size are limited
// (MimeLimits); past a limit the remaining structure is treated as an opaque leaf, so a
// hostile message costs bounded time and memory and still gets a sensible structure.
// Malformed input (missing boundaries, bad headers, truncation) never fails: RFC 2046's
// defaults apply (text/plain; charset=us-ascii, 7bit).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "message/header.hpp"

namespace mk::message {

struct MimeLimits {
  std::size_t max_depth = 32;
  std::size_t max_parts = 2000;
  HeaderLimits header;
};

struct Part {
  // Byte ranges into the message.
  std::size_t offset = 0;        // start of this part's header
  std::size_t header_size = 0;   // header block including the empty line, if any
  std::size_t body_offset = 0;
  std::size_t body_size = 0;
  std::size_t body_lines = 0;    // CRLF-terminated lines in the body (for text/*, message/*)

  std::vector<HeaderField> headers;
  std::string type = "text";     // lower-cased
  std::string subtype = "plain";
  std::vector<std::pair<std::string, std::string>> type_params;
  std::string encoding = "7bit";  // Content-Transfer-Encoding, lower-cased
  std::string id, description, md5, language, location;
  std::string disposition;        // lower-cased, empty if none
  std::vector<std::pair<std::string, std::string>> disposition_params;
  bool explicit_type = false;     // Content-Type was present and valid

  // multipart/*: the body parts; message/rfc822 (and global): one child, the message.
  std::vector<Part> children;

  bool is_multipart() const { return type == "multipart"; }
  bool is_message() const { return type == "message" && (subtype == "rfc822" || subtype == "global"); }
  std::string_view header_text(std::string_view msg) const { return msg.substr(offset, header_size); }
  std::string_view body(std::string_view msg) const { return msg.substr(body_offset, body_size); }
};

// Parses the whole message as the root part.
Part parse_mime(std::string_view msg, const MimeLimits& limits = {});

// Finds a part by IMAP section path ("1.2.3" as {1,2,3}); nullptr if there is none. For a
// message/rfc822 part, numbers continue inside the encapsulated message (RFC 3501 §6.4.5).
const Part* find_part(const Part& root, const std::vector<unsigned>& path);

}  // namespace mk::message
