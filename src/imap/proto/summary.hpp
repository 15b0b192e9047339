// imap/proto/summary.hpp: the FETCH items that need a MIME parse (ENVELOPE, BODY,
// BODYSTRUCTURE), rendered once from a parsed message, and their stored form.
//
// Whoever parses a message anyway (APPEND, later the SMTP delivery) renders its Summary and
// stores the encoding with the message (store::NewMessage::summary), so no FETCH has to read
// and parse the message again, not even the first one after a restart.
// SECURITY: decode_summary reads bytes back from disk and trusts none of them: every length
// is checked against the input, a CRC-32C covers the content, and anything that does not
// decode exactly is rejected (nullopt), after which the caller parses the message instead.
// STANDARDS: RFC 9051 §7.5.2 (ENVELOPE, BODY, BODYSTRUCTURE).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "message/mime.hpp"

namespace mk::imap {

// The three items of one message, in one buffer: a cache of whole mailboxes holds one
// allocation per message, and a decoded record keeps the bytes it was read into.
class Summary {
 public:
  Summary() = default;
  Summary(std::string_view envelope, std::string_view body, std::string_view bodystructure);

  std::string_view envelope() const { return item(0); }       // ENVELOPE
  std::string_view body() const { return item(1); }           // BODY (non-extensible)
  std::string_view bodystructure() const { return item(2); }  // BODYSTRUCTURE
  // The memory it holds.
  std::size_t bytes() const { return sizeof(Summary) + buf_.capacity(); }

  bool operator==(const Summary& o) const {
    return envelope() == o.envelope() && body() == o.body() && bodystructure() == o.bodystructure();
  }

 private:
  friend std::optional<Summary> decode_summary(std::string data);
  std::string_view item(std::size_t i) const {
    return std::string_view(buf_).substr(at_[i], size_[i]);
  }

  std::string buf_;
  std::array<std::size_t, 3> at_{}, size_{};
};

// The three items of a parsed message (render_envelope, render_body_structure).
Summary summarize(const message::Part& root);

// The version encode_summary writes. Bump it whenever the rendering of any item changes:
// summaries of another version do not decode, so FETCH renders those messages again (and
// stores the new form) instead of serving what an older mailkeep rendered.
inline constexpr std::uint8_t kSummaryVersion = 1;

// Compact binary form: version, CRC-32C of what follows, then each item as a varint length
// and its bytes.
std::string encode_summary(const Summary& s);
// nullopt for anything encode_summary of this version did not produce: another version, a
// truncated or extended record, a wrong checksum, an item that is not a parenthesized list.
// The Summary keeps `data` as its buffer: nothing is copied.
std::optional<Summary> decode_summary(std::string data);

}  // namespace mk::imap
