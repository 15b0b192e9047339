// message/parsed.hpp: one message, parsed once, for every stage that reads it.
//
// The MX hands each received message to several stages (sender authentication, DNS lists,
// every recipient's filter verdict, the phishing warning, delivery and its stored IMAP
// summary, the Message-ID index). They all take one immutable Parsed by const reference
// instead of splitting the header or building the MIME tree again. The header index and
// the author are computed at construction (every stage needs them); the MIME tree and the
// links when first asked for, once, safely from any thread (stages run on the work pool).
//
// The text is the message as received, without the trace fields we add on top (Return-Path,
// Received, Authentication-Results, ...): those are kept apart by the SMTP transaction.
// SECURITY: the text is untrusted; every part is bounded by the limits of header.hpp and
// mime.hpp (MimeLimits' defaults, the same the IMAP server parses with, so the stored
// BODYSTRUCTURE is the one FETCH would compute) and never throws on malformed input.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::message {

// The authors of a message (RFC 5322 §3.6.2), under the one rule every stage applies: the
// mailboxes of every From: field, group markers left out. DMARC, the filter and submission's
// ownership check all read this, so they cannot disagree about who wrote a message.
struct Authors {
  std::size_t fields = 0;          // From: fields (RFC 5322 allows one)
  std::vector<Address> mailboxes;  // in order, at most kMaxAuthors
  // Not every author could be read (more than kMaxAuthors, or a header over its limits):
  // no check may pass on the ones that were.
  bool truncated = false;
  static constexpr std::size_t kMaxAuthors = 100;

  // The one author, when there is exactly one From: field naming exactly one mailbox with
  // a domain; nullptr otherwise.
  const Address* single() const;
  // single()'s address, "local@domain" with the domain lower-cased; "" when there is none.
  std::string single_address() const;
  // The distinct domains of the mailboxes, lower-cased, in order.
  std::vector<std::string> domains() const;
};
Authors authors_of(const std::vector<HeaderField>& header);

class Parsed {
 public:
  explicit Parsed(std::string text) : Parsed(std::make_shared<const std::string>(std::move(text))) {}
  explicit Parsed(std::shared_ptr<const std::string> text);
  Parsed(const Parsed&) = delete;  // the views point into text_
  Parsed& operator=(const Parsed&) = delete;

  std::string_view text() const { return *text_; }
  // The text itself, shared with whoever keeps it (the store writes it as it is).
  const std::shared_ptr<const std::string>& shared_text() const { return text_; }

  const std::vector<HeaderField>& header() const { return header_; }
  std::size_t header_end() const { return header_end_; }  // where the header block ends
  std::size_t body_start() const { return body_start_; }  // after the empty line
  // The header is over HeaderLimits: fields past them are not in header().
  bool header_truncated() const { return header_truncated_; }
  std::string_view body() const { return text().substr(body_start_); }
  // The first field with this name, unfolded; nullopt if there is none.
  std::optional<std::string> field(std::string_view name) const { return header_value(header_, name); }

  const Authors& authors() const { return authors_; }
  // Its own Message-ID without the angle brackets; "" if it has none.
  const std::string& message_id() const { return message_id_; }
  // The Message-IDs it replies to: In-Reply-To, then References from the newest; at most
  // kMaxThreadIds, each once.
  const std::vector<std::string>& thread_ids() const { return thread_ids_; }
  static constexpr std::size_t kMaxThreadIds = 20;

  // The MIME structure (mime.hpp, default limits), built on first use.
  const Part& mime() const;
  // The web links of its text parts (links.hpp), found on first use; at most kMaxLinks.
  const std::vector<std::string>& links() const;
  static constexpr std::size_t kMaxLinks = 100;

 private:
  std::shared_ptr<const std::string> text_;
  std::vector<HeaderField> header_;
  std::size_t header_end_ = 0, body_start_ = 0;
  bool header_truncated_ = false;
  Authors authors_;
  std::string message_id_;
  std::vector<std::string> thread_ids_;
  mutable std::once_flag mime_once_, links_once_;
  mutable Part mime_;
  mutable std::vector<std::string> links_;
};

}  // namespace mk::message
