// message/address.hpp: RFC 5321 envelope addresses (Path, Mailbox) and their normal form.
//
// STANDARDS: RFC 5321 §4.1.2 (Path, Mailbox, Local-part, Domain, address-literal), §4.5.3.1
// (size limits), RFC 6531 §3.3 (UTF-8 in local parts and domains with SMTPUTF8).
// SECURITY: input is untrusted peer data. The parser never interprets the legacy routing
// forms (`%`, `!`, source routes) as routing: a source route is parsed and discarded as
// RFC 5321 §4.1.1.3/§C requires, `%` and `!` are ordinary local-part characters, so
// relay decisions are made on the final domain only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace mk::message {

// RFC 5321 §4.5.3.1.1-3. A local part may be 64 octets, but §4.5.3.1 asks receivers to
// accept longer objects where they can, and real senders exceed it (mailing lists' VERP
// return paths: "list-return-1680-user=host.example@lists.example", 67 octets, which
// Postfix accepts): what is accepted is bounded by the path length instead.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxAcceptedLocalPart = 240;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;

struct Mailbox {
  std::string local;    // unquoted form (quoted-pairs resolved)
  std::string domain;   // as written; empty only for the special "<Postmaster>" form
  bool domain_literal = false;  // domain is "[...]"
  bool utf8 = false;            // contains non-ASCII (needs SMTPUTF8)

  // local@domain with the local part re-quoted if it needs it; domain lower-cased.
  std::string canonical() const;
  bool empty() const { return local.empty() && domain.empty(); }
};

struct Path {
  bool null = false;           // "<>"
  bool had_source_route = false;
  Mailbox mailbox;
};

struct PathParse {
  Path path;
  std::size_t consumed = 0;  // bytes of input up to and including '>'
};

// Parses a Path starting at s[0] == '<'. allow_utf8 enables RFC 6531 syntax.
// allow_null accepts "<>" (reverse-path only). Errors carry a human-readable reason.
Result<PathParse> parse_path(std::string_view s, bool allow_utf8, bool allow_null);

// Parses a bare "local@domain" (no angle brackets), e.g. from the CLI or config.
Result<Mailbox> parse_mailbox(std::string_view s, bool allow_utf8 = true);

// True if s is a syntactically valid RFC 5321 Domain (LDH labels, or U-labels when utf8).
bool is_valid_domain(std::string_view s, bool allow_utf8);

// Whether a local part must be quoted when written (not a valid Dot-string).
bool local_needs_quotes(std::string_view local);

}  // namespace mk::message
