// store/mail.hpp: the Mail role of the store: mailboxes, messages and their changes, and
// the group-committed delivery that adds messages (and queues their remote recipients).
//
// Message bodies are files in the data directory (store/blob.hpp); the index (UIDs, flags,
// MODSEQ) is in the database, with each message's summary: bytes its deliverer derived from
// the message (IMAP: ENVELOPE and BODYSTRUCTURE), which the store keeps but never reads.
//
// DURABILITY: deliver() calls back with success only once the message file and its index
// rows are on stable storage. Backends batch concurrent deliveries into one sync of the
// files and one database commit (group commit), so throughput does not collapse to one
// fsync per message. A crash at any moment leaves either the whole delivery or none of it
// visible; files written for a delivery that never committed are removed at the next start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

struct Mailbox {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string name;         // UTF-8, '/' as hierarchy separator
  std::string special_use;  // "\\Sent", ... (RFC 6154) or empty
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::uint64_t highestmodseq = 1;
  bool subscribed = true;
  // \Recent (RFC 3501): UIDs above this have not yet been seen by a read-write SELECT.
  std::uint32_t recent_uid = 0;
};

struct MessageInfo {
  std::int64_t id = 0;
  std::int64_t mailbox_id = 0;
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  std::string blob;
  std::uint64_t size = 0;
  std::int64_t internaldate = 0;  // unix seconds
  std::string flags;              // space-separated (has_flag)
  std::string mail_from;
  std::string rcpt_to;
  std::string dsn;
};

// One message for one or more local mailboxes.
struct Delivery {
  std::int64_t account_id = 0;
  std::string mailbox;  // preferred mailbox name; INBOX if it does not exist (unless exact)
  std::string rcpt;     // envelope recipient as given
  std::string dsn;      // RFC 3461 parameters (NOTIFY, ORCPT) as received
  bool exact = false;   // IMAP APPEND: fail if the mailbox does not exist
  std::string fallback = {};  // set by deliver_all: where it goes when `mailbox` does not exist ("": fail)
};

// One remote recipient of a message that leaves through the outbound queue.
struct OutboundRcpt {
  std::string rcpt;  // envelope recipient, canonical
  std::string dsn;   // RFC 3461 NOTIFY and ORCPT as given
};

struct NewMessage {
  // The message is head + *data, CRLF line endings: head holds the fields the receiving
  // server put on top (trace, Authentication-Results, DKIM-Signature), data the content as
  // received, shared with whoever parsed it and stored without joining the two.
  std::string head;
  std::shared_ptr<const std::string> data;
  std::size_t size() const { return head.size() + (data ? data->size() : 0); }
  std::string mail_from;                    // envelope sender, "" for <>
  std::string dsn;                          // RET and ENVID as received
  std::vector<Delivery> deliveries;
  std::string flags;
  std::int64_t internaldate = 0;
  // Submission: recipients elsewhere, queued in the same commit as the local deliveries.
  std::vector<OutboundRcpt> outbound;
  std::int64_t sender_account = 0;  // the authenticated account that submitted it
  bool requiretls = false;          // RFC 8689
  // Its own Message-ID without brackets, kept in the index for thread lookups. Set by
  // whoever parsed the message already; else deliver_all reads it from `data`.
  std::optional<std::string> message_id;
  // Opaque bytes kept with the message for its readers (IMAP: imap::encode_summary), set by
  // whoever parsed the message already. The store never interprets them; copies and moves
  // of the message keep them. Without one, a reader may save one later (save_summaries).
  std::optional<std::string> summary;
};

// Where a delivery was stored (one entry per Delivery, in order).
struct StoredAt {
  std::int64_t mailbox_id = 0;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
};
using DeliverResult = Result<std::vector<StoredAt>>;
using DeliverCallback = std::function<void(DeliverResult)>;

// IMAP STORE: how flags change (RFC 9051 §6.4.6), with CONDSTORE's UNCHANGEDSINCE.
struct FlagUpdate {
  enum class Op { add, remove, replace };
  Op op = Op::add;
  std::vector<std::string> flags;
  std::optional<std::uint64_t> unchanged_since;
};
struct FlagChange {
  std::uint32_t uid = 0;
  std::string flags;  // the message's flags after the change
  std::uint64_t modseq = 0;
};
struct FlagResult {
  std::vector<FlagChange> changed;
  std::vector<std::uint32_t> failed;  // UNCHANGEDSINCE did not hold (RFC 7162 MODIFIED)
};
// COPY/MOVE: RFC 4315 COPYUID data.
struct CopyResult {
  std::uint32_t uidvalidity = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> uids;  // source uid -> new uid
};

// Whether a message's space-separated flags hold `flag`: a whole word, compared without case
// (IMAP flags are case-insensitive, RFC 9051 §2.3.2), so keyword "foo" is not found in "foobar".
bool has_flag(std::string_view flags, std::string_view flag);

// The UIDVALIDITY floor of a mailbox created now: the clock, in seconds (Mail::create_mailbox).
std::uint32_t uidvalidity_now();

class Mail {
 public:
  virtual ~Mail() = default;

  virtual Result<std::vector<Mailbox>> list_mailboxes(std::int64_t account_id) = 0;
  // A new mailbox, with a UIDVALIDITY no mailbox of this store had (RFC 9051 §2.3.1.1: a
  // name used again must get a new one).
  Result<std::int64_t> create_mailbox(std::int64_t account_id, std::string_view name, std::string_view special_use);
  virtual Result<std::optional<Mailbox>> find_mailbox(std::int64_t account_id,
                                                      std::string_view name) = 0;
  virtual Result<Mailbox> mailbox_by_id(std::int64_t mailbox_id) = 0;
  // Deletes the mailbox and its messages (not its children: IMAP keeps them).
  virtual Status delete_mailbox(std::int64_t account_id, std::string_view name) = 0;
  // Renames the mailbox and every mailbox below it ("from/..."). Renaming INBOX moves its
  // messages into a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
  Status rename_mailbox(std::int64_t account_id, std::string_view from, std::string_view to);
  virtual Status set_subscribed(std::int64_t account_id, std::string_view name, bool on) = 0;
  // Claims \Recent for the UIDs up to up_to and returns the previous claim: the caller's
  // session holds \Recent for the UIDs in (previous, up_to], no other session gets them.
  virtual Result<std::uint32_t> claim_recent(std::int64_t mailbox_id, std::uint32_t up_to) = 0;
  // Asynchronous, group-committed delivery; done runs on a store thread.
  void deliver(NewMessage msg, DeliverCallback done);
  // Several messages atomically (all stored or none); StoredAt entries in order. Applies the
  // delivery rules (a message's Message-ID indexed for thread lookups; a delivery that is not
  // exact falls back to INBOX), then hands the batch to the backend's commit().
  void deliver_all(std::vector<NewMessage> msgs, DeliverCallback done);
  // Synchronous convenience wrapper (CLI, tests).
  DeliverResult deliver_sync(NewMessage msg);
  // Listings (list_messages, messages_by_uid, changed_since) return the index data; the
  // envelope fields (mail_from, rcpt_to, dsn) are left empty there.
  virtual Result<std::vector<MessageInfo>> list_messages(std::int64_t mailbox_id) = 0;
  // The messages with these UIDs (those that exist), in UID order.
  virtual Result<std::vector<MessageInfo>> messages_by_uid(std::int64_t mailbox_id,
                                                           const std::vector<std::uint32_t>& uids) = 0;
  // Whether a message of the mailbox is stored in this file (a COPY shares it).
  virtual Result<bool> has_blob(std::int64_t mailbox_id, std::string_view blob) = 0;
  // Messages whose MODSEQ is greater than modseq (CONDSTORE/QRESYNC, session updates).
  virtual Result<std::vector<MessageInfo>> changed_since(std::int64_t mailbox_id,
                                                         std::uint64_t modseq) = 0;
  // UIDs expunged after modseq (QRESYNC VANISHED).
  virtual Result<std::vector<std::uint32_t>> expunged_since(std::int64_t mailbox_id,
                                                            std::uint64_t modseq) = 0;
  virtual Result<FlagResult> update_flags(std::int64_t mailbox_id,
                                          const std::vector<std::uint32_t>& uids,
                                          const FlagUpdate& update) = 0;
  // Removes the messages; returns the UIDs that were removed.
  virtual Result<std::vector<std::uint32_t>> expunge(std::int64_t mailbox_id,
                                                     const std::vector<std::uint32_t>& uids) = 0;
  // Copies (or moves: copy and expunge atomically) messages to another mailbox of the same
  // account. Message files are shared, not duplicated.
  virtual Result<CopyResult> copy_messages(std::int64_t from_mailbox,
                                           const std::vector<std::uint32_t>& uids,
                                           std::int64_t to_mailbox, bool move) = 0;
  virtual Result<std::string> read_message(const MessageInfo& info) = 0;
  // The message's first `max_bytes` at most: its header, for a reader that needs no more (a
  // message with a large attachment is not read whole for it).
  virtual Result<std::string> read_message_start(const MessageInfo& info, std::size_t max_bytes) = 0;
  // The summaries (NewMessage::summary) of these messages of a mailbox, in the order of
  // `uids`: nullopt for a message stored without one (by an older mailkeep, or by a
  // deliverer that set none) or that does not exist. One call for many messages: a FETCH
  // over a whole mailbox asks in batches, and a backend reads a run of UIDs in one scan.
  virtual Result<std::vector<std::optional<std::string>>> read_summaries(
      std::int64_t mailbox_id, std::span<const std::uint32_t> uids) = 0;
  Result<std::optional<std::string>> read_summary(std::int64_t mailbox_id, std::uint32_t uid);
  // Lazy backfill: stores each message's summary (by UID), replacing the one it had (which
  // its reader could not use), all in one transaction. Messages expunged meanwhile are
  // skipped.
  virtual Status save_summaries(std::int64_t mailbox_id,
                                std::span<const std::pair<std::uint32_t, std::string>> summaries) = 0;
  Status save_summary(std::int64_t mailbox_id, std::uint32_t uid, std::string summary);
  // Called (on a store thread) with the mailbox id after each committed change, so IMAP
  // sessions can report new mail at once (IDLE). Set before the server starts.
  virtual void set_change_listener(std::function<void(std::int64_t mailbox_id)> fn) = 0;

 protected:
  // What a backend implements under the rules above.
  // Backend: a mailbox whose UIDVALIDITY is at least uidvalidity_floor and greater than that
  // of every mailbox the store has or had; Errc::already_exists if the name is taken.
  virtual Result<std::int64_t> insert_mailbox(std::int64_t account_id, std::string_view name,
                                              std::string_view special_use, std::uint32_t uidvalidity_floor) = 0;
  // Backend: renames `from` and the mailboxes below it; Errc::already_exists if `to` or a
  // mailbox below it exists, Errc::not_found if `from` does not.
  virtual Status rename_tree(std::int64_t account_id, std::string_view from, std::string_view to) = 0;
  // Backend: durable, group-committed storage of the batch (see DURABILITY above).
  virtual void commit(std::vector<NewMessage> msgs, DeliverCallback done) = 0;
};

}  // namespace mk::store
