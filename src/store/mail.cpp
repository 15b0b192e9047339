// store/mail.cpp: the rules of the Mail role, above every backend: UIDVALIDITY of new
// mailboxes, the RFC 9051 rename of INBOX, the INBOX fallback of a delivery, and the
// Message-ID a message is indexed under. Backends only store what these decide.
#include "store/mail.hpp"

#include <algorithm>
#include <chrono>
#include <future>

#include "base/strings.hpp"
#include "message/header.hpp"

namespace mk::store {
namespace {

constexpr std::string_view kInbox = "INBOX";

// The message's own Message-ID without brackets ("" if it has none).
std::string message_id_of(std::string_view data) {
  const auto fields = message::parse_message_header(data);
  const auto ids = message::msg_ids(message::header_value(fields, "Message-ID").value_or(""), 1);
  return ids.empty() ? std::string() : ids[0];
}

}  // namespace

bool has_flag(std::string_view flags, std::string_view flag) {
  if (flag.empty()) return false;
  // Word by word, without allocating: STATUS and SELECT call this for every message.
  while (!flags.empty()) {
    const std::size_t end = std::min(flags.find(' '), flags.size());
    if (iequals(flags.substr(0, end), flag)) return true;
    flags.remove_prefix(std::min(end + 1, flags.size()));
  }
  return false;
}

std::uint32_t uidvalidity_now() {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return static_cast<std::uint32_t>(now.count());
}

Result<std::int64_t> Mail::create_mailbox(std::int64_t account_id, std::string_view name,
                                          std::string_view special_use) {
  // RFC 9051 §2.3.1.1: UIDVALIDITY must change when a name is used again. A value from the
  // clock, and above every earlier one (the backend's part), guarantees it across
  // delete/create and across a restored backup.
  return insert_mailbox(account_id, name, special_use, uidvalidity_now());
}

Status Mail::rename_mailbox(std::int64_t account_id, std::string_view from, std::string_view to) {
  if (from != kInbox) return rename_tree(account_id, from, to);
  // RFC 9051 §6.3.6: renaming INBOX moves its messages into a new mailbox; INBOX stays,
  // empty. Two steps (create, then one transaction that moves): a crash between them leaves
  // an empty new mailbox, never a message lost.
  auto all = list_mailboxes(account_id);
  if (!all) return all.error();
  const Mailbox* inbox = nullptr;
  for (const auto& mb : *all) {
    if (mb.name == kInbox) inbox = &mb;
    // Like any rename: neither the target nor a mailbox below it may exist.
    if (mb.name == to || (mb.name.size() > to.size() && mb.name.starts_with(to) && mb.name[to.size()] == '/'))
      return error(Errc::already_exists, "mailbox " + std::string(to) + " already exists");
  }
  if (!inbox) return error(Errc::not_found, "the account has no INBOX");
  auto created = create_mailbox(account_id, to, "");
  if (!created) return created.error();
  auto msgs = list_messages(inbox->id);
  Status moved;
  if (!msgs) {
    moved = msgs.error();
  } else if (!msgs->empty()) {
    std::vector<std::uint32_t> uids;
    uids.reserve(msgs->size());
    for (const auto& m : *msgs) uids.push_back(m.uid);
    if (auto r = copy_messages(inbox->id, uids, *created, true); !r) moved = r.error();
  }
  // The move is one transaction: on failure nothing moved, so the new mailbox goes again and
  // the client can simply retry.
  if (!moved) {
    if (auto undo = delete_mailbox(account_id, to); !undo)
      return error(errc(moved.error()), moved.error().message + "; and the new mailbox " + std::string(to) +
                                            " could not be removed: " + undo.error().message);
  }
  return moved;
}

void Mail::deliver(NewMessage msg, DeliverCallback done) {
  std::vector<NewMessage> v;
  v.push_back(std::move(msg));
  deliver_all(std::move(v), std::move(done));
}

void Mail::deliver_all(std::vector<NewMessage> msgs, DeliverCallback done) {
  for (auto& m : msgs) {
    if (!m.message_id) m.message_id = m.data ? message_id_of(*m.data) : std::string();
    // A sub-address folder that does not exist (yet) still delivers: into INBOX.
    for (auto& d : m.deliveries)
      if (!d.exact && d.mailbox != kInbox) d.fallback = kInbox;
  }
  commit(std::move(msgs), std::move(done));
}

Result<std::optional<std::string>> Mail::read_summary(std::int64_t mailbox_id, std::uint32_t uid) {
  auto r = read_summaries(mailbox_id, std::span(&uid, 1));
  if (!r) return r.error();
  if (r->size() != 1) return error(Errc::unavailable, "the backend answered for another number of messages");
  return std::move(r->front());
}

Status Mail::save_summary(std::int64_t mailbox_id, std::uint32_t uid, std::string summary) {
  const std::pair<std::uint32_t, std::string> one{uid, std::move(summary)};
  return save_summaries(mailbox_id, std::span(&one, 1));
}

DeliverResult Mail::deliver_sync(NewMessage msg) {
  std::promise<DeliverResult> p;
  auto f = p.get_future();
  deliver(std::move(msg), [&p](DeliverResult r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace mk::store
