// imap/server/search.hpp: what SEARCH (search.cpp) shares with SORT and THREAD
// (sort_thread.cpp): one message as the criteria see it, its sent date, and the charset
// argument. Internal to the imap_session module.
//
// STANDARDS: RFC 9051 §6.4.4 (SEARCH, CHARSET), RFC 5256 §3 (SORT and THREAD charset, DATE).
// SECURITY: the message bytes are untrusted and parsed as MIME at most once per message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "imap/proto/parser.hpp"
#include "imap/server/session.hpp"
#include "message/mime.hpp"
#include "store/mail.hpp"

namespace mk::imap {

// One message of the selected mailbox while criteria are evaluated: its entry, its index row,
// and its file and MIME tree, read on first use.
struct SearchMsg {
  const SeqEntry& e;
  const store::MessageInfo& info;
  store::Mail& store;
  std::uint32_t seq;
  std::uint32_t max_seq;
  std::uint32_t max_uid;
  std::optional<std::string> data;
  std::optional<message::Part> mime;
  const std::string& bytes() {
    if (!data) {
      auto d = store.read_message(info);
      data = d ? std::move(d.value()) : std::string();
    }
    return *data;
  }
  const message::Part& part() {
    if (!mime) mime = message::parse_mime(bytes());
    return *mime;
  }
};

// The Date: header with time of day and zone (RFC 5256 DATE), else the day of a loosely
// parsed Date:, else the internal date.
std::int64_t sent_date_exact(SearchMsg& m);

// CHARSET name (SEARCH: optional, after "CHARSET"; SORT/THREAD: required). Returns the error
// response ("BAD ..." or "NO [BADCHARSET ...] ...") for a missing or unsupported charset.
std::optional<std::string> charset_arg(Cursor& c, bool required);

}  // namespace mk::imap
