// imap/proto/fetch.hpp: FETCH attributes (parsing) and message data items (rendering).
//
// Rendering works on a message held in memory and its MIME index (message/mime.hpp):
// ENVELOPE, BODY/BODYSTRUCTURE and BODY[section]<partial> are pure functions, unit-tested
// against RFC examples and the corpus without a server.
// STANDARDS: RFC 9051 §6.4.5 (FETCH, sections), §7.5.2 (ENVELOPE, BODYSTRUCTURE), RFC 3501
// (IMAP4rev1 differences: RFC822.*), RFC 3516 (BINARY), RFC 7162 (MODSEQ).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imap/proto/parser.hpp"
#include "message/mime.hpp"

namespace mk::imap {

struct Section {
  std::vector<unsigned> part;      // "1.2" -> {1, 2}; empty for the whole message
  enum class Text { none, header, header_fields, header_fields_not, text, mime } text = Text::none;
  std::vector<std::string> fields;  // for HEADER.FIELDS[.NOT], upper-cased
};

struct FetchAtt {
  enum class Kind {
    flags, uid, internaldate, rfc822_size, envelope, body_structure, body,  // BODY (no section)
    body_section,   // BODY[...] / BODY.PEEK[...]
    binary, binary_size,
    rfc822, rfc822_header, rfc822_text, modseq,
  } kind;
  Section section;
  bool peek = false;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> partial;  // <origin.count>
  std::string name;  // how to name it in the response, e.g. "BODY[HEADER]<0>"
};

// fetch-att list, a single att, or the macros ALL / FAST / FULL.
std::optional<std::vector<FetchAtt>> parse_fetch_atts(Cursor& c, std::string& error);

// ENVELOPE of a message (or of an encapsulated message part).
std::string render_envelope(const message::Part& p);
// BODY (extensible=false) or BODYSTRUCTURE (true).
std::string render_body_structure(const message::Part& p, bool extensible);
// The bytes of BODY[section] (before any partial); nullopt if the section does not exist.
std::optional<std::string> section_bytes(std::string_view msg, const message::Part& root,
                                         const Section& s);

}  // namespace mk::imap
