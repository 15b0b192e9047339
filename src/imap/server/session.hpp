// imap/server/session.hpp: the sans-I/O IMAP server session.
//
// A Session takes framed commands (imap/proto/framer.hpp) and returns the bytes to send
// plus what the I/O layer must do next (read, STARTTLS, wait for an APPEND to become
// durable, IDLE, close). Store reads are synchronous; writes that must be durable before
// "OK" (APPEND) are handed back to the I/O layer, which runs them through the group commit.
// Command handlers are split by concern: commands.cpp (the command table: states, UID forms),
// session.cpp (state, CAPABILITY, ENABLE, ID, IDLE), authenticate.cpp (LOGIN, AUTHENTICATE),
// mailboxes.cpp (SELECT, CREATE, RENAME, ...), list.cpp (LIST, LSUB), status.cpp (STATUS),
// messages.cpp (FETCH, STORE, COPY, MOVE, EXPUNGE, APPEND), search.cpp (SEARCH),
// sort_thread.cpp (SORT, THREAD), selected.cpp (the selected mailbox and its updates).
//
// STANDARDS: RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1), RFC 2177 (IDLE), RFC 4315
// (UIDPLUS), RFC 6851 (MOVE), RFC 7162 (CONDSTORE), RFC 6154 (SPECIAL-USE), RFC 2971 (ID),
// RFC 5161 (ENABLE), RFC 6855 (UTF8=ACCEPT), RFC 4959 (SASL-IR), RFC 2342 (NAMESPACE),
// RFC 5530 (response codes), RFC 7888 (LITERAL+), RFC 5258 (LIST-EXTENDED), RFC 5819
// (LIST-STATUS), RFC 7677 (SCRAM-SHA-256).
// SECURITY: no authentication before TLS (LOGINDISABLED, no AUTH mechanisms advertised);
// every command is checked against the session state; errors are tagged NO/BAD with a
// reason; passwords are never logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/login.hpp"
#include "auth/scram.hpp"
#include "imap/proto/fetch.hpp"
#include "imap/proto/framer.hpp"
#include "imap/server/account_slots.hpp"
#include "imap/server/flag_table.hpp"
#include "imap/proto/parser.hpp"
#include "imap/proto/summary.hpp"
#include "store/mail.hpp"
#include "store/roles.hpp"

namespace mk::imap {

class SummaryCache;
class FlagTable;

struct SessionConfig {
  std::string hostname = "localhost";
  bool tls_available = false;
  std::uint64_t max_append_size = 50ull << 20;
  SummaryCache* cache = nullptr;  // shared FETCH summary cache, optional
  FlagTable* flags = nullptr;     // shared interned flag lists; a session-local one if null
  AccountSlots* slots = nullptr;  // per-account session cap, optional
  const auth::LoginPolicy* login = nullptr;  // breached-password list, optional
};

// more: write data, then call on_more() for the rest of the response (a large FETCH).
enum class Next { read, start_tls, append, idle, compress, close, more };

struct Output {
  std::string data;
  Next next = Next::read;
};

// One message in the selected mailbox, in sequence-number order.
struct SeqEntry {
  std::uint32_t uid = 0;
  bool recent = false;  // \Recent: this session was the first to see the message
  const std::string* flags = nullptr;  // interned (imap/server/flag_table.hpp)
  std::uint64_t modseq = 0;
};

// The store roles a session uses: the mailboxes and messages, and the accounts it logs in to.
struct SessionStore {
  store::Mail& mail;
  auth::AccountStore accounts;
  SessionStore(store::Mail& m, auth::AccountStore a) : mail(m), accounts(a) {}
  template <store::Provides<store::Mail, store::Directory, store::Credentials> S>
  SessionStore(S& s) : mail(s), accounts(s) {}  // NOLINT: implicit by design
};

class Session {
 public:
  Session(SessionConfig cfg, SessionStore store, std::string remote_ip);

  // The outcome of the latest LOGIN/AUTHENTICATE, once (for brute-force accounting).
  struct AuthEvent {
    bool ok = false;
    std::string user;
  };
  std::optional<AuthEvent> take_auth_event() { return std::exchange(auth_event_, std::nullopt); }
  // The client's name and version from ID (RFC 2971), "" if it sent none; and, once, a
  // client that named itself after logging in (for the new-client alert).
  const std::string& client() const { return client_; }
  // Messages the user moved or copied into Junk (spam) or out of it (ham; not into Trash),
  // or deleted from Junk without reading them (spam: expunged there, or moved or copied to
  // Trash), once: the spam filter learns from them. `mailbox`, `uids`: where they are now.
  // Only the user's own commands make one: anything the server removes by itself does not.
  struct TrainEvent {
    std::int64_t account_id = 0;
    bool spam = false;
    std::int64_t mailbox = 0;
    std::vector<std::uint32_t> uids;
    bool unread_deletion = false;
    // Into Junk from another folder: the mail the user read and kept there, which the learner
    // sets against the spam (UserModels). `kept`: in `kept_mailbox`, newest first, \Seen, not
    // \Deleted, older than the newest moved message; at most kMaxKept, found among the
    // kMaxKeptScanned messages below it.
    std::int64_t kept_mailbox = 0;
    std::vector<std::uint32_t> kept;
    std::uint32_t kept_uidnext = 0;  // the folder's UIDNEXT then (UserModels::Kept)
    static constexpr std::size_t kMaxKept = 50;
    static constexpr std::size_t kMaxKeptScanned = 1000;
    // Expunged messages are gone: their bytes, read just before, with their file's name.
    struct Gone {
      std::string blob;
      std::string text;
    };
    std::vector<Gone> gone;
    // What an EXPUNGE reads for it: at most this many messages, each at most this large.
    static constexpr std::size_t kMaxGone = 100;
    static constexpr std::uint64_t kMaxGoneBytes = 256 * 1024;
    // Deleting unread mail from Junk says spam when the user picks messages out; emptying
    // the folder ("Empty Junk": everything in it at once, read or not, or more than this many
    // unread messages in one command) judges nothing, and would teach the filter its own
    // mistakes. `deleted`: all the command removes from Junk; `in_junk`: what Junk held.
    static constexpr std::size_t kMaxJudgedDeletion = 5;
    static bool judged_deletion(std::size_t deleted, std::size_t unread_deleted, std::size_t in_junk) {
      return unread_deleted <= kMaxJudgedDeletion && !(deleted > 1 && deleted >= in_junk);
    }
  };
  std::optional<TrainEvent> take_train_event() { return std::exchange(train_event_, std::nullopt); }
  std::optional<std::string> take_client_event() { return std::exchange(client_event_, std::nullopt); }
  // A store failure behind the latest NO (the detail is for the log, never for the client).
  std::optional<std::string> take_store_error() { return std::exchange(store_error_, std::nullopt); }
  // A store failure that did not change the reply (FETCH: stored summaries that could not be
  // read or saved, so the messages were parsed instead), once: for the log.
  std::optional<std::string> take_store_warning() { return std::exchange(store_warning_, std::nullopt); }

  std::string greeting() const;
  Output on_command(std::string_view framed);
  Output on_frame_error(Frame ev);
  static std::string continuation() { return "+ Ready for literal data\r\n"; }

  Output on_tls();
  // The next piece of a response that returned Next::more.
  Output on_more();

  // APPEND: the messages to commit atomically (Next::append), then the store's result.
  std::vector<store::NewMessage> take_append();
  Output on_appended(const store::DeliverResult& r);

  // IDLE: a line from the client while idling ("DONE"), and updates to push.
  Output on_idle_line(std::string_view line);
  std::string updates(bool allow_expunge = true);
  std::int64_t selected_mailbox() const { return selected_ ? selected_->id : 0; }
  bool logged_in() const { return account_id_ != 0; }
  const std::string& user() const { return user_; }

  Output on_shutdown() const { return {"* BYE Server shutting down\r\n", Next::close}; }
  Output on_timeout() const { return {"* BYE Autologout; idle for too long\r\n", Next::close}; }

 private:
  struct Selected {
    std::int64_t id = 0;
    std::string name;
    bool read_only = false;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;
    std::uint64_t modseq = 0;  // highest MODSEQ reported to the client
    std::vector<SeqEntry> msgs;
  };

  // commands.cpp: the command table and the state checks.
  enum class Need { any, not_authenticated, authenticated, selected };
  struct Command;
  static const Command* find_command(std::string_view name);
  Output dispatch(const CommandHead& h, Cursor& c);
  // session.cpp
  Output cmd_capability(const CommandHead& h, Cursor& c);
  Output cmd_noop(const CommandHead& h, Cursor& c);
  Output cmd_logout(const CommandHead& h, Cursor& c);
  Output cmd_starttls(const CommandHead& h, Cursor& c);
  Output cmd_compress(const CommandHead& h, Cursor& c);
  Output cmd_check(const CommandHead& h, Cursor& c);
  Output cmd_enable(const CommandHead& h, Cursor& c);
  Output cmd_id(const CommandHead& h, Cursor& c);
  Output cmd_idle(const CommandHead& h, Cursor& c);
  std::string capabilities() const;
  // authenticate.cpp: LOGIN and AUTHENTICATE (PLAIN, SCRAM-SHA-256).
  Output cmd_login(const CommandHead& h, Cursor& c);
  Output cmd_authenticate(const CommandHead& h, Cursor& c);
  Output finish_login(const CommandHead& h, const std::string& user, const std::string& pass);
  Output finish_plain(const CommandHead& h, std::string_view b64);
  Output complete_login(const CommandHead& h, const store::Account& acct);
  Output on_auth_response(std::string_view line);
  Output auth_response(const CommandHead& h, std::string_view b64);
  Output end_auth(const CommandHead& h, std::string_view status, std::string_view text);
  void reset_auth();
  // mailboxes.cpp
  Output cmd_select(const CommandHead& h, Cursor& c, bool read_only);
  Output cmd_create(const CommandHead& h, Cursor& c);
  Output cmd_delete(const CommandHead& h, Cursor& c);
  Output cmd_rename(const CommandHead& h, Cursor& c);
  Output cmd_subscribe(const CommandHead& h, Cursor& c, bool on);
  Output cmd_namespace(const CommandHead& h, Cursor& c);
  Output cmd_close(const CommandHead& h, Cursor& c, bool expunge);
  Output cmd_quota(const CommandHead& h, Cursor& c);
  std::optional<store::Account> account() const;
  std::optional<std::string> mailbox_arg(Cursor& c);  // decoded, INBOX normalized
  std::string mailbox_out(const std::string& name) const;
  // list.cpp (LIST, LSUB) and status.cpp (STATUS, and the lines of LIST-STATUS)
  Output cmd_list(const CommandHead& h, Cursor& c, bool lsub);
  // The patterns as names to match: reference + pattern, decoded, INBOX normalized.
  std::vector<std::string> list_patterns(const std::string& reference, const std::vector<std::string>& patterns) const;
  Output cmd_status(const CommandHead& h, Cursor& c);
  // The STATUS line of a mailbox; for the selected one, from the session's view of it.
  std::optional<std::string> status_response(const std::string& name,
                                             const std::vector<std::string>& items, std::string& error);
  // messages.cpp
  Output cmd_fetch(const CommandHead& h, Cursor& c);
  Output cmd_store(const CommandHead& h, Cursor& c);
  Output cmd_copy(const CommandHead& h, Cursor& c, bool move);
  Output cmd_expunge(const CommandHead& h, Cursor& c);
  TrainEvent train_event(bool spam, std::int64_t mailbox, std::vector<std::uint32_t> uids) const;
  // Before the messages `uids` of the selected mailbox are expunged: if it is Junk, the
  // training event for those not \Seen, with their bytes (TrainEvent::Gone).
  std::optional<TrainEvent> unread_junk(const std::vector<std::uint32_t>& uids);
  // After the expunge: keeps the event's messages that are gone, and hands it over.
  void expunged_unread(std::optional<TrainEvent> ev, const std::vector<std::uint32_t>& removed);
  Output cmd_append(const CommandHead& h, Cursor& c);
  // search.cpp (SEARCH); cmd_sort in sort_thread.cpp
  Output cmd_search(const CommandHead& h, Cursor& c);
  Output cmd_sort(const CommandHead& h, Cursor& c, bool thread);
  std::optional<std::string> match(Cursor& c, std::vector<store::MessageInfo>& infos,
                                   std::vector<std::size_t>& hits);
  // selected.cpp
  bool load_selected(std::int64_t mailbox_id, bool read_only);
  // Marks \Recent on the messages from index first on that no session has seen; a read-write
  // session claims them for itself (RFC 3501 §2.3.2).
  void mark_recent(std::size_t first, std::uint32_t recent_uid);
  std::size_t recent_count() const;
  std::string flags_out(const SeqEntry& e) const;
  // Indices (0-based) of messages named by a sequence set (uid=true: UIDs).
  std::vector<std::size_t> resolve(const SeqSet& set, bool uid) const;
  std::optional<std::size_t> index_of_uid(std::uint32_t uid) const;

  static std::string tagged(const CommandHead& h, std::string_view status, std::string_view text);
  // The tagged NO for a failed store call, with the RFC 5530 response code of its store::Errc;
  // `missing` is the code for not_found ("NONEXISTENT", or "TRYCREATE" for a target mailbox).
  std::string store_failure(const CommandHead& h, const Error& e, std::string_view missing = "NONEXISTENT");
  static std::string bad(std::string_view tag, std::string_view text);

  const std::string* intern(std::string_view flags) { return flag_table_->intern(flags); }

  SessionConfig cfg_;
  FlagTable own_flags_;
  FlagTable* flag_table_;
  SessionStore store_;
  std::string remote_ip_;
  std::optional<AuthEvent> auth_event_;
  std::string client_;
  std::optional<std::string> client_event_;
  std::optional<TrainEvent> train_event_;
  std::optional<std::string> store_error_;
  std::optional<std::string> store_warning_;
  bool tls_ = false;
  bool compressed_ = false;
  std::int64_t account_id_ = 0;
  std::unique_ptr<AccountSlots::Slot> account_slot_;
  std::string user_;
  bool utf8_ = false;       // UTF8=ACCEPT enabled: mailbox names in UTF-8
  bool rev2_ = false;       // IMAP4rev2 enabled
  bool condstore_ = false;  // CONDSTORE enabled (MODSEQ in FETCH responses)
  bool qresync_ = false;    // QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 §3.2)
  std::optional<Selected> selected_;
  std::uint64_t expunge_modseq_ = 0;  // expunges up to here have been reported
  std::vector<store::NewMessage> append_;
  std::string append_tag_;
  std::string idle_tag_;
  // AUTHENTICATE waiting for the client's next response, and where its exchange is.
  std::optional<CommandHead> auth_pending_;
  enum class AuthStep { plain, scram_first, scram_final, scram_done } auth_step_ = AuthStep::plain;
  std::unique_ptr<auth::ScramServer> scram_;
  std::optional<store::Account> scram_account_;  // the account SCRAM's user names, if it may log in
  std::vector<std::uint32_t> search_saved_;  // RFC 5182 "$"
  // A FETCH being answered in pieces (Next::more).
  struct PendingFetch {
    CommandHead head;
    std::vector<FetchAtt> atts;
    std::vector<store::MessageInfo> infos;  // by UID
    std::vector<std::uint32_t> uids;        // the messages to answer, in order
    std::size_t next = 0;
    std::optional<std::uint64_t> changed_since;
    bool needs_data = false, needs_mime = false, wants_summary = false, sets_seen = false, wants_modseq = false;
    // Stored summaries (by UID) of the messages before uids[stored_end], read in batches.
    std::vector<std::pair<std::uint32_t, std::optional<std::string>>> stored;
    std::size_t stored_end = 0;
    // Summaries rendered for messages that had no usable one, to save with them.
    std::vector<std::pair<std::uint32_t, std::string>> backfill;  // by UID
  };
  std::unique_ptr<PendingFetch> fetch_;
  // The summary stored with the message answered now (f.next), or nullptr if it has none
  // that decodes; reads the next batch of stored summaries when needed.
  std::shared_ptr<const Summary> stored_summary(PendingFetch& f, const store::MessageInfo& info);
  void save_backfill(PendingFetch& f);
};

// "1,3:5" style set from sorted values (COPYUID, VANISHED, ESEARCH ALL).
std::string compact_set(const std::vector<std::uint32_t>& sorted);

// RFC 5256 §2.1 base subject (lower-cased), for SORT and THREAD.
std::string base_subject(std::string_view raw);

// THREAD=REFERENCES (RFC 5256 §4) over n messages; returns the thread list "(1 2)(3)".
struct ThreadMsg {
  std::uint32_t num = 0;  // sequence number or UID, as the client asked
  std::int64_t date = 0;
  std::string subject;    // base subject
  std::string msgid;
  std::vector<std::string> refs;
  bool reply = false;
};
std::string thread_references(std::size_t n, const std::function<ThreadMsg(std::size_t)>& get);

// LIST pattern matching: "*" matches anything, "%" anything but the hierarchy delimiter.
bool list_match(std::string_view pattern, std::string_view name);

}  // namespace mk::imap
