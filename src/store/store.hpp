// store/store.hpp: the storage interface: domains, accounts, aliases, mailboxes, messages.
//
// Protocol code talks to this interface only; SQL lives in the backends (store/sqlite/, later
// store/postgres/). Message bodies are files in the data directory (store/blob.hpp); the
// index (UIDs, flags, MODSEQ) is in the database.
//
// DURABILITY: deliver() calls back with success only once the message file and its index
// rows are on stable storage. Backends batch concurrent deliveries into one sync of the
// files and one database commit (group commit), so throughput does not collapse to one
// fsync per message. A crash at any moment leaves either the whole delivery or none of it
// visible; files written for a delivery that never committed are removed at the next start.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::store {

struct Account {
  std::int64_t id = 0;
  std::string address;  // canonical: local@domain, domain lower-case
  std::string password_hash;
  std::uint64_t quota_bytes = 0;  // 0 = unlimited
  std::uint64_t used_bytes = 0;
  bool disabled = false;
  std::int64_t created = 0;  // unix seconds
  std::string scram;         // SCRAM-SHA-256 verifier (auth/scram.hpp), empty until derived
  bool password_breached = false;  // found in the breached-password list at a login; cleared by a new password
  bool require_app_passwords = false;  // protocol logins only with app passwords
  std::string totp_secret;             // base32; empty: no second factor (auth/totp.hpp)
  std::int64_t totp_last_step = 0;     // the last TOTP step used (no replays)
  std::string outbound_hold;           // why its outbound mail is held (guard/); empty: not held
  std::string spam_thresholds;         // "tag junk reject" (filter::parse_thresholds); empty: the instance's

  // Whether storing `more` bytes would exceed the quota (soft: checked before, not after).
  bool over_quota(std::uint64_t more = 0) const {
    return quota_bytes != 0 && used_bytes + more > quota_bytes;
  }
};

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
  std::string flags;              // space-separated
  std::string mail_from;
  std::string rcpt_to;
  std::string dsn;
};

struct Alias {
  std::string address;
  std::string target;
};

// The mailboxes every new account gets (RFC 6154 special-use attributes).
struct DefaultMailbox {
  const char* name;
  const char* special_use;
};
inline constexpr DefaultMailbox kDefaultMailboxes[] = {
    {"INBOX", ""},          {"Drafts", "\\Drafts"}, {"Sent", "\\Sent"},
    {"Junk", "\\Junk"},     {"Trash", "\\Trash"},   {"Archive", "\\Archive"},
};

// One message for one or more local mailboxes.
struct Delivery {
  std::int64_t account_id = 0;
  std::string mailbox;  // preferred mailbox name; INBOX if it does not exist (unless exact)
  std::string rcpt;     // envelope recipient as given
  std::string dsn;      // RFC 3461 parameters (NOTIFY, ORCPT) as received
  bool exact = false;   // IMAP APPEND: fail if the mailbox does not exist
};

// One remote recipient of a message that leaves through the outbound queue.
struct OutboundRcpt {
  std::string rcpt;  // envelope recipient, canonical
  std::string dsn;   // RFC 3461 NOTIFY and ORCPT as given
};

struct NewMessage {
  std::shared_ptr<const std::string> data;  // full message, CRLF line endings
  std::string mail_from;                    // envelope sender, "" for <>
  std::string dsn;                          // RET and ENVID as received
  std::vector<Delivery> deliveries;
  std::string flags;
  std::int64_t internaldate = 0;
  // Submission: recipients elsewhere, queued in the same commit as the local deliveries.
  std::vector<OutboundRcpt> outbound;
  std::int64_t sender_account = 0;  // the authenticated account that submitted it
  bool requiretls = false;          // RFC 8689
};

// The outbound queue. A message stays until every recipient is delivered or bounced; each
// recipient has its own state and retry schedule.
enum class RcptState { queued, held, delivered, bounced };
std::string_view to_string(RcptState s);

struct QueueRcpt {
  std::int64_t id = 0;
  std::string rcpt;
  std::string domain;  // lower-case, for per-domain delivery
  std::string dsn;
  RcptState state = RcptState::queued;
  int attempts = 0;
  std::int64_t next_attempt = 0;  // unix seconds
  std::string last_error;
};

struct QueuedMessage {
  std::int64_t id = 0;
  std::string blob;
  std::uint64_t size = 0;
  std::string mail_from;
  std::string dsn;
  std::int64_t sender_account = 0;
  bool requiretls = false;
  std::int64_t created = 0;
  bool delay_notified = false;
  std::vector<QueueRcpt> rcpts;
};

// A DKIM key of a hosted domain. active keys sign; next keys are published in DNS ahead of
// a rotation; retired keys stay published until the mail they signed has been delivered.
struct DkimKey {
  std::string domain;
  std::string selector;
  std::string algorithm;  // "ed25519-sha256" or "rsa-sha256"
  std::string private_pem;
  std::string public_b64;
  std::string state;  // "active", "next", "retired"
  std::int64_t created = 0;
};

// A cached MTA-STS policy (RFC 8461 §5.1), as tlspolicy/mta_sts.hpp parsed it.
struct StsRecord {
  std::string domain;
  std::string id;
  std::string mode;  // "enforce", "testing", "none"
  std::string mx;    // patterns, one per line
  std::int64_t max_age = 0;
  std::int64_t fetched = 0;
};

// TLS-RPT (RFC 8460): counts of TLS sessions per reporting period and policy domain.
struct TlsResult {
  std::int64_t period = 0;  // start of the reporting period (unix seconds)
  std::string policy_domain;
  std::string policy_type;    // "sts", "tlsa", "no-policy-found"
  std::string policy_string;  // the policy's lines, "\n"-separated
  std::string mx_pattern;     // MTA-STS mx patterns, "\n"-separated
  std::string result_type;    // "" for success, else an RFC 8460 result type
  std::string mx_host;
  std::string ip;
  std::int64_t count = 1;
};

// DMARC aggregate reporting (RFC 7489 §7.2). What we evaluated, for reports we send: one row
// per distinct set of facts in a period, counted.
struct DmarcResult {
  std::int64_t period = 0;
  std::string policy_domain;
  std::string policy;  // the published record, as fetched
  std::string source_ip, header_from, envelope_from;
  std::string disposition, dkim, spf;  // evaluated: none/quarantine/reject, pass/fail
  std::string reason;                  // override type, if any
  std::string auth;  // DKIM results "dkim domain selector result" and "spf domain result", one per line
  std::int64_t count = 1;
};

// One row of an aggregate report someone sent about one of our domains.
struct DmarcFeedback {
  std::string reporter, report_id;
  std::int64_t row = 0;
  std::string domain;
  std::int64_t begin = 0, end = 0;
  std::string source_ip, header_from, disposition, dkim, spf;
  std::int64_t count = 0;
  std::int64_t received = 0;
};

// A password for one mail client (auth/app_password.hpp), stored as a SHA-256: it is random
// and long, so a fast hash is enough and logins stay cheap.
struct AppPassword {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string name;    // the client, as the user named it
  std::string hash;    // hex SHA-256
  std::string scopes;  // "imap,submission"
  std::int64_t created = 0, last_used = 0;
  std::string last_ip;
};

// A network banned from logging in (auth/throttle.hpp). Rows stay after `until` so that the
// next ban of the same network lasts longer (`count`).
struct Ban {
  std::string key;  // "192.0.2.7" or "2001:db8:1:2::/64"
  std::int64_t until = 0;
  std::int64_t count = 1;
  std::string reason;
  std::int64_t created = 0;
};

// The outcome of one delivery attempt for one queued recipient.
struct AttemptRecord {
  std::int64_t rcpt_id = 0;
  RcptState state = RcptState::queued;
  std::int64_t next_attempt = 0;
  std::string error;
};

// mailkeep queue hold|release|retry|drop.
enum class QueueAction { hold, release, retry, drop };

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

class Store {
 public:
  virtual ~Store() = default;

  virtual Status add_domain(std::string_view name) = 0;
  virtual Status remove_domain(std::string_view name) = 0;
  virtual Result<std::vector<std::string>> list_domains() = 0;
  virtual Result<bool> has_domain(std::string_view name) = 0;

  // Creates the account and its default mailboxes; its domain must be hosted.
  virtual Result<std::int64_t> add_account(std::string_view address,
                                           std::string_view password_hash) = 0;
  virtual Result<std::optional<Account>> find_account(std::string_view address) = 0;
  virtual Result<std::vector<Account>> list_accounts() = 0;
  virtual Result<std::optional<Account>> account_by_id(std::int64_t id) = 0;
  // The account's own spam thresholds ("" returns it to the instance's).
  virtual Status set_spam_thresholds(std::string_view address, std::string_view thresholds) = 0;
  // Also clears the SCRAM verifier, which belongs to the old password.
  virtual Status set_password(std::string_view address, std::string_view password_hash) = 0;
  virtual Status set_scram(std::string_view address, std::string_view scram) = 0;
  // Marks the account's current password as breached (set_password clears the mark).
  virtual Status set_password_breached(std::string_view address) = 0;
  virtual Status set_require_app_passwords(std::string_view address, bool on) = 0;
  // Containment (guard/): the hold reason ("" releases); only the flag, the queue is separate.
  virtual Status set_outbound_hold(std::int64_t account_id, std::string_view reason) = 0;
  // The addresses among `addresses` the account never sent to, and remembering new ones.
  virtual Result<std::vector<std::string>> new_correspondents(std::int64_t account_id,
                                                             const std::vector<std::string>& addresses) = 0;
  virtual Status add_correspondents(std::int64_t account_id, const std::vector<std::string>& addresses,
                                    std::int64_t now) = 0;
  // The spam filter's view of the account's correspondents: the domains written to; the
  // display name a correspondent uses (kept lower-case; only for addresses written to); the
  // correspondents who use `name` (at most 20).
  virtual Result<std::vector<std::string>> correspondent_domains(std::int64_t account_id) = 0;
  // Past verdicts of the account's user on a sender: messages from it moved into Junk
  // (spam) and out of it (ham).
  virtual Status add_sender_verdict(std::int64_t account_id, std::string_view address, bool spam) = 0;
  virtual Result<std::pair<std::int64_t, std::int64_t>> sender_verdicts(std::int64_t account_id,
                                                                        std::string_view address) = 0;
  // The account's messages (any mailbox) whose Message-ID is one of `ids`, at most `limit`:
  // the thread a reply continues.
  virtual Result<std::vector<MessageInfo>> thread_messages(std::int64_t account_id, const std::vector<std::string>& ids,
                                                           std::size_t limit) = 0;
  virtual Status set_correspondent_name(std::int64_t account_id, std::string_view address, std::string_view name) = 0;
  virtual Result<std::vector<std::string>> correspondents_named(std::int64_t account_id, std::string_view name) = 0;
  // Anomaly detection (guard/anomaly.hpp). The newest INTERNALDATE among the account's
  // messages whose Message-ID is one of `ids` (nullopt: it has none of them): how old the
  // thread a reply continues is.
  virtual Result<std::optional<std::int64_t>> newest_in_thread(std::int64_t account_id,
                                                               const std::vector<std::string>& ids) = 0;
  // What the account submitted to other domains, per hour (hour = unix time / 3600); kept
  // for kSendHistoryHours.
  virtual Status add_send_history(std::int64_t account_id, std::int64_t hour, int messages, int new_recipients) = 0;
  struct SendBaseline {
    int active_days = 0;          // days with at least one message
    int peak_messages = 0;        // the most messages in one hour
    int peak_new_recipients = 0;  // the most new recipients in one hour
  };
  // Over the hours [from_hour, to_hour).
  virtual Result<SendBaseline> send_baseline(std::int64_t account_id, std::int64_t from_hour, std::int64_t to_hour) = 0;
  static constexpr std::int64_t kSendHistoryHours = 24 * 60;
  // TOTP: the secret ("" turns it off) and the step of the last code accepted.
  virtual Status set_totp(std::string_view address, std::string_view secret) = 0;
  // Claims the step of a code just accepted: false if a login already used it or a later one.
  virtual Result<bool> totp_used(std::string_view address, std::int64_t step) = 0;
  // App passwords; names are unique per account.
  virtual Status add_app_password(const AppPassword& p) = 0;
  virtual Result<std::vector<AppPassword>> app_passwords(std::int64_t account_id) = 0;
  virtual Result<bool> revoke_app_password(std::int64_t account_id, std::string_view name) = 0;
  virtual Status app_password_used(std::int64_t id, std::int64_t now, std::string_view ip) = 0;
  // Storage quota in bytes; 0 means unlimited.
  virtual Status set_quota(std::string_view address, std::uint64_t bytes) = 0;
  // Removes the account, its mailboxes and its messages (files included).
  virtual Status remove_account(std::string_view address) = 0;

  virtual Status add_alias(std::string_view address, std::string_view target) = 0;
  virtual Status remove_alias(std::string_view address) = 0;
  virtual Result<std::vector<std::string>> alias_targets(std::string_view address) = 0;
  virtual Result<std::vector<Alias>> list_aliases() = 0;

  virtual Result<std::vector<Mailbox>> list_mailboxes(std::int64_t account_id) = 0;
  virtual Result<std::int64_t> create_mailbox(std::int64_t account_id, std::string_view name,
                                              std::string_view special_use) = 0;
  virtual Result<std::optional<Mailbox>> find_mailbox(std::int64_t account_id,
                                                      std::string_view name) = 0;
  virtual Result<Mailbox> mailbox_by_id(std::int64_t mailbox_id) = 0;
  // Deletes the mailbox and its messages (not its children: IMAP keeps them).
  virtual Status delete_mailbox(std::int64_t account_id, std::string_view name) = 0;
  // Renames the mailbox and every mailbox below it ("from/..."). Renaming INBOX moves its
  // messages into a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
  virtual Status rename_mailbox(std::int64_t account_id, std::string_view from,
                                std::string_view to) = 0;
  virtual Status set_subscribed(std::int64_t account_id, std::string_view name, bool on) = 0;
  // Claims \Recent for the UIDs up to up_to and returns the previous claim: the caller's
  // session holds \Recent for the UIDs in (previous, up_to], no other session gets them.
  virtual Result<std::uint32_t> claim_recent(std::int64_t mailbox_id, std::uint32_t up_to) = 0;

  // DKIM keys (dkim/sign.hpp makes them).
  virtual Status add_dkim_key(const DkimKey& key) = 0;
  virtual Result<std::vector<DkimKey>> dkim_keys(std::string_view domain) = 0;
  // Rotation: next keys become active, active ones retired; retired ones are deleted.
  virtual Status activate_next_dkim_keys(std::string_view domain) = 0;

  // Outbound queue (entries are added by deliver(): NewMessage::outbound).
  virtual Result<std::vector<QueuedMessage>> list_queue() = 0;
  virtual Result<std::optional<QueuedMessage>> queued_message(std::int64_t id) = 0;
  virtual Result<std::string> read_queued(const QueuedMessage& m) = 0;
  // hold/release/retry act on the recipients still pending (retry: due now); drop deletes the
  // message. Returns how many recipients it changed; kNoSuchMailbox-style error if no message.
  virtual Result<std::size_t> queue_action(std::int64_t id, QueueAction action) = 0;
  // Containment: hold every queued message the account submitted, or release or drop (only)
  // its held ones, in one transaction. Returns how many messages it changed.
  virtual Result<std::size_t> account_queue_action(std::int64_t account_id, QueueAction action) = 0;
  // Delivery: messages with recipients due at `now` (at most `limit` messages), each listing
  // only those recipients, now leased until `lease_until` so that a crash in the middle of a
  // delivery retries them then (at least once, never lost).
  virtual Result<std::vector<QueuedMessage>> claim_due(std::int64_t now, std::int64_t lease_until,
                                                       std::size_t limit) = 0;
  // Attempt outcomes (attempts is incremented), then the messages among `finished` whose
  // recipients are all delivered or bounced are deleted; one transaction for all of it.
  virtual Status record_attempts(const std::vector<AttemptRecord>& records,
                                 const std::vector<std::int64_t>& finished) = 0;
  virtual Status set_delay_notified(std::int64_t queue_id) = 0;
  // Claimed recipients that found no free connection: due again at next_attempt (the
  // attempt count is unchanged).
  virtual Status reschedule(const std::vector<std::int64_t>& rcpt_ids, std::int64_t next_attempt) = 0;
  // TLS-RPT: adds to a result's count; lists and drops a finished period's results.
  virtual Status add_tls_result(const TlsResult& r) = 0;
  virtual Result<std::vector<TlsResult>> tls_results_before(std::int64_t period_start) = 0;
  virtual Status delete_tls_results(std::int64_t period) = 0;
  // DMARC: results to report (added up like TLS-RPT's), and reports received about us
  // (a report already stored, by reporter and report ID, is not stored twice).
  virtual Status add_dmarc_result(const DmarcResult& r) = 0;
  virtual Result<std::vector<DmarcResult>> dmarc_results_before(std::int64_t period_start) = 0;
  virtual Status delete_dmarc_results(std::int64_t period) = 0;
  virtual Status add_dmarc_feedback(const std::vector<DmarcFeedback>& rows) = 0;
  // Where an account logs in from: whether this network (and this account at all) is new.
  struct LoginSeen {
    bool new_network = false;
    bool first_login = false;
  };
  virtual Result<LoginSeen> note_login(std::string_view address, std::string_view network, std::string_view service,
                                       std::int64_t now) = 0;
  // The programs an account logs in with (IMAP ID name and version, SMTP EHLO name): whether
  // this one is new (and whether it is the account's first known one).
  struct ClientSeen {
    bool new_client = false;
    bool first_client = false;
  };
  virtual Result<ClientSeen> note_client(std::string_view address, std::string_view client, std::int64_t now) = 0;
  // When the account first logged in from this network (0: never), and whether it has
  // logged in from any other network before that.
  struct NetworkHistory {
    std::int64_t first_seen = 0;
    bool other_networks_before = false;
  };
  virtual Result<NetworkHistory> network_history(std::string_view address, std::string_view network) = 0;
  // Login bans: stored so they survive restarts; lift_ban forgets the network entirely.
  virtual Status put_ban(const Ban& b) = 0;
  virtual Result<std::vector<Ban>> list_bans() = 0;
  virtual Result<bool> lift_ban(std::string_view key) = 0;
  virtual Result<std::vector<DmarcFeedback>> dmarc_feedback_since(std::int64_t since) = 0;
  virtual Result<std::optional<StsRecord>> sts_policy(std::string_view domain) = 0;
  virtual Status put_sts_policy(const StsRecord& policy) = 0;
  // When the earliest waiting recipient is due (unix seconds), if any.
  virtual Result<std::optional<std::int64_t>> next_due() = 0;

  // Asynchronous, group-committed delivery; done runs on a store thread.
  void deliver(NewMessage msg, DeliverCallback done);
  // Several messages atomically (all stored or none); StoredAt entries in order.
  virtual void deliver_all(std::vector<NewMessage> msgs, DeliverCallback done) = 0;
  // Synchronous convenience wrapper (CLI, tests).
  DeliverResult deliver_sync(NewMessage msg);

  // Listings (list_messages, messages_by_uid, changed_since) return the index data; the
  // envelope fields (mail_from, rcpt_to, dsn) are left empty there.
  virtual Result<std::vector<MessageInfo>> list_messages(std::int64_t mailbox_id) = 0;
  // The messages with these UIDs (those that exist), in UID order.
  virtual Result<std::vector<MessageInfo>> messages_by_uid(std::int64_t mailbox_id,
                                                           const std::vector<std::uint32_t>& uids) = 0;
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

  // Called (on a store thread) with the mailbox id after each committed change, so IMAP
  // sessions can report new mail at once (IDLE). Set before the server starts.
  virtual void set_change_listener(std::function<void(std::int64_t mailbox_id)> fn) = 0;

  // Stops background work after finishing every delivery already handed in.
  virtual void close() = 0;
};

// Error code for "no such mailbox" (IMAP TRYCREATE).
inline constexpr int kNoSuchMailbox = 404;

struct SqliteOptions {
  std::string data_dir;
  std::size_t max_batch = 256;  // deliveries per group commit
};

// Opens (creating and migrating as needed) the SQLite store in data_dir.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& opts);

}  // namespace mk::store
