// STATUS, and the STATUS lines of LIST-STATUS (imap/server/list.cpp).
//
// Another mailbox's status comes from the store. The selected mailbox's comes from the
// session's view of it: the messages, flags, UIDNEXT and HIGHESTMODSEQ this client has been
// told of. A HIGHESTMODSEQ past the changes it has heard of would let a CONDSTORE client skip
// them at its next resync (RFC 7162 §3.1.2.1, §3.2.5), and a MESSAGES other than its EXISTS
// count would contradict what it was told; the commands that report the selected mailbox
// send its pending updates first, so the view is current.
//
// STANDARDS: RFC 9051 §6.3.11 (STATUS, also on the selected mailbox), RFC 3501 §6.3.10
// (RECENT), RFC 7162 §3.1.6 (HIGHESTMODSEQ), RFC 5819 §2 (LIST-STATUS).
#include <algorithm>

#include <fmt/format.h>

#include "imap/proto/list.hpp"
#include "imap/server/session.hpp"

namespace mk::imap {

std::optional<std::string> Session::status_response(const std::string& name, const std::vector<std::string>& items,
                                                    std::string& error) {
  struct Values {
    std::uint64_t messages = 0, unseen = 0, deleted = 0, size = 0, recent = 0, uidnext = 0, uidvalidity = 0,
                  highestmodseq = 0;
  } v;
  const bool wants_size = std::find(items.begin(), items.end(), "SIZE") != items.end();
  if (selected_ && selected_->name == name) {
    const auto& s = *selected_;
    v.messages = s.msgs.size();
    for (const auto& m : s.msgs) {
      v.unseen += !store::has_flag(*m.flags, "\\Seen");
      v.deleted += store::has_flag(*m.flags, "\\Deleted");
    }
    v.recent = recent_count();
    v.uidnext = s.uidnext;
    v.uidvalidity = s.uidvalidity;
    v.highestmodseq = s.modseq;
    if (wants_size) {
      // Sizes are not kept in the view: those of its messages, from the store.
      auto msgs = store_.mail.list_messages(s.id);
      if (!msgs) return error = "[SERVERBUG] Cannot read mailbox", std::nullopt;
      for (const auto& m : *msgs)
        if (index_of_uid(m.uid)) v.size += m.size;
    }
  } else {
    auto mb = store_.mail.find_mailbox(account_id_, name);
    if (!mb || !*mb) return error = "[NONEXISTENT] No such mailbox", std::nullopt;
    auto msgs = store_.mail.list_messages((*mb)->id);
    if (!msgs) return error = "[SERVERBUG] Cannot read mailbox", std::nullopt;
    v.messages = msgs->size();
    for (const auto& m : *msgs) {
      v.unseen += !store::has_flag(m.flags, "\\Seen");
      v.deleted += store::has_flag(m.flags, "\\Deleted");
      v.size += m.size;
      v.recent += m.uid > (*mb)->recent_uid;  // not yet seen by any read-write session
    }
    v.uidnext = (*mb)->uidnext;
    v.uidvalidity = (*mb)->uidvalidity;
    v.highestmodseq = (*mb)->highestmodseq;
  }
  std::string data;
  for (const auto& i : items) {
    std::uint64_t n = 0;
    if (i == "MESSAGES") n = v.messages;
    else if (i == "UIDNEXT") n = v.uidnext;
    else if (i == "UIDVALIDITY") n = v.uidvalidity;
    else if (i == "UNSEEN") n = v.unseen;
    else if (i == "DELETED") n = v.deleted;
    else if (i == "SIZE") n = v.size;
    else if (i == "RECENT") n = v.recent;
    else if (i == "HIGHESTMODSEQ") n = v.highestmodseq;
    else return error = "Unknown STATUS item " + i, std::nullopt;  // parse_status_items knows the same
    data += fmt::format("{}{} {}", data.empty() ? "" : " ", i, n);
  }
  return fmt::format("* STATUS {} ({})\r\n", mailbox_out(name), data);
}

Output Session::cmd_status(const CommandHead& h, Cursor& c) {
  std::optional<std::string> name;
  std::string error;
  if (!c.sp() || !(name = mailbox_arg(c)) || !c.sp()) return {tagged(h, "BAD", "Syntax: STATUS mailbox (items)")};
  auto items = parse_status_items(c, error);
  if (!items) return {tagged(h, "BAD", error)};
  if (!c.eof()) return {tagged(h, "BAD", "Syntax: STATUS mailbox (items)")};
  // On the selected mailbox (RFC 9051 §6.3.11 allows it): its pending updates first.
  std::string out = selected_ && selected_->name == *name ? updates() : std::string();
  auto line = status_response(*name, *items, error);
  if (!line) return {out + tagged(h, "NO", error)};
  return {out + *line + tagged(h, "OK", "STATUS completed")};
}

}  // namespace mk::imap
