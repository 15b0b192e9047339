// imap/proto/encode.hpp: writing IMAP strings, and mailbox names in modified UTF-7.
//
// STANDARDS: RFC 9051 §4.3 (quoted strings and literals), RFC 3501 §5.1.3 (modified UTF-7
// mailbox names for IMAP4rev1 clients), RFC 6855 / RFC 9051 (UTF-8 mailbox names).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mk::imap {

// A quoted string when the text allows it, else a literal ("{n}\r\n" + bytes).
std::string imap_string(std::string_view s);
// NIL for nullopt / empty when empty_is_nil.
std::string imap_nstring(std::optional<std::string_view> s);

// UTF-8 -> modified UTF-7 ("&-" for "&", "&AOQ-" for "ä").
std::string mutf7_encode(std::string_view utf8);
// modified UTF-7 -> UTF-8; nullopt if malformed (RFC 3501 requires rejecting those).
std::optional<std::string> mutf7_decode(std::string_view mutf7);

}  // namespace mk::imap
