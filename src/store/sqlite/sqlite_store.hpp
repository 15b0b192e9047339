// store/sqlite/sqlite_store.hpp: the default Store backend: SQLite (WAL) index plus blob files.
//
// Two connections: one for the synchronous API (guarded by a mutex) and one owned by the
// group-commit thread. WAL lets readers proceed while a batch commits; BEGIN IMMEDIATE and
// the busy timeout serialize writers, including admin CLI processes on the same database.
#pragma once

#include <memory>
#include <mutex>

#include "store/blob.hpp"
#include "store/committer.hpp"
#include "store/sqlite/db.hpp"
#include "store/store.hpp"

namespace mk::store::sqlite {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(StoreConfig opts);
  ~SqliteStore() override;

  Status open();

  Status add_domain(std::string_view name) override;
  Status remove_domain(std::string_view name) override;
  Result<std::vector<std::string>> list_domains() override;
  Result<std::int64_t> domains_version() override;
  Result<bool> has_domain(std::string_view name) override;

  Result<std::optional<Account>> find_account(std::string_view address) override;
  Result<std::vector<Account>> list_accounts() override;
  Result<AccountCounts> account_counts() override;
  Status set_password(std::string_view address, std::string_view hash) override;
  Status set_scram(std::string_view address, std::string_view scram) override;
  Status set_password_breached(std::string_view address) override;
  Status set_require_app_passwords(std::string_view address, bool on) override;
  Status set_outbound_hold(std::int64_t account_id, std::string_view reason) override;
  Status set_forward(std::int64_t account_id, std::string_view to, bool keep) override;
  Result<std::vector<std::string>> new_correspondents(std::int64_t account_id,
                                                     const std::vector<std::string>& addresses) override;
  Result<std::vector<std::string>> correspondent_domains(std::int64_t account_id) override;
  Result<std::int64_t> correspondents_version(std::int64_t account_id) override;
  Status add_sender_verdict(std::int64_t account_id, std::string_view address, bool spam) override;
  Result<std::pair<std::int64_t, std::int64_t>> sender_verdicts(std::int64_t account_id,
                                                                std::string_view address) override;
  Result<std::vector<MessageInfo>> thread_messages(std::int64_t account_id, const std::vector<std::string>& ids,
                                                   std::size_t limit) override;
  Result<std::optional<Account>> account_by_id(std::int64_t id) override;
  Status set_spam_thresholds(std::string_view address, std::string_view thresholds) override;
  Status set_correspondent_name(std::int64_t account_id, std::string_view address, std::string_view name) override;
  Result<std::vector<std::string>> correspondents_named(std::int64_t account_id, std::string_view name) override;
  Status add_correspondents(std::int64_t account_id, const std::vector<std::string>& addresses,
                            std::int64_t now) override;
  Result<std::optional<std::int64_t>> newest_in_thread(std::int64_t account_id,
                                                       const std::vector<std::string>& ids) override;
  Status add_send_history(std::int64_t account_id, std::int64_t hour, int messages, int new_recipients) override;
  Status hold_send_history(std::int64_t account_id, std::int64_t from_hour, std::int64_t to_hour) override;
  Result<SendBaseline> send_baseline(std::int64_t account_id, std::int64_t from_hour, std::int64_t to_hour) override;
  Result<std::vector<SendHour>> send_history(std::int64_t account_id, std::int64_t from_hour,
                                             std::int64_t to_hour) override;
  Status add_received(std::int64_t account_id, const Received& r, std::int64_t now) override;
  void record_received(std::vector<std::int64_t> accounts, Received r, std::vector<std::string> link_domains,
                       std::int64_t now, std::function<void(Status)> done) override;
  Result<std::vector<std::string>> authenticated_writers(std::int64_t account_id,
                                                         const std::vector<std::string>& addresses) override;
  Result<std::vector<std::string>> answerable(std::int64_t account_id, const std::vector<std::string>& addresses,
                                              const std::vector<std::string>& ids) override;
  Result<Correspondence> correspondence(std::int64_t account_id, int cap) override;
  Result<std::vector<std::int64_t>> link_domains_seen(const std::vector<std::string>& domains) override;
  Status add_link_domains(const std::vector<std::string>& domains, std::int64_t now) override;
  Result<ClientSeen> note_client(std::string_view address, std::string_view client, std::int64_t now) override;
  Status set_totp(std::string_view address, std::string_view secret) override;
  Result<bool> totp_used(std::string_view address, std::int64_t step) override;
  Status add_app_password(const AppPassword& p) override;
  Result<std::vector<AppPassword>> app_passwords(std::int64_t account_id) override;
  Result<bool> revoke_app_password(std::int64_t account_id, std::string_view name) override;
  Status app_password_used(std::int64_t id, std::int64_t now, std::string_view ip) override;
  Status set_quota(std::string_view address, std::uint64_t bytes) override;
  Status remove_account(std::string_view address) override;

  Status add_alias(std::string_view address, std::string_view target) override;
  Status remove_alias(std::string_view address) override;
  Result<std::vector<std::string>> alias_targets(std::string_view address) override;
  Result<std::vector<Alias>> list_aliases() override;

  Result<std::vector<Mailbox>> list_mailboxes(std::int64_t account_id) override;
  Result<std::optional<Mailbox>> find_mailbox(std::int64_t account_id, std::string_view name) override;
  Result<Mailbox> mailbox_by_id(std::int64_t mailbox_id) override;
  Status delete_mailbox(std::int64_t account_id, std::string_view name) override;
  Status set_subscribed(std::int64_t account_id, std::string_view name, bool on) override;
  Result<std::uint32_t> claim_recent(std::int64_t mailbox_id, std::uint32_t up_to) override;

  Status add_dkim_key(const DkimKey& key) override;
  Result<std::vector<DkimKey>> dkim_keys(std::string_view domain) override;
  Status activate_next_dkim_keys(std::string_view domain) override;

  Result<std::vector<QueuedMessage>> list_queue() override;
  Result<QueueStats> queue_stats() override;
  Result<std::optional<QueuedMessage>> queued_message(std::int64_t id) override;
  Result<std::string> read_queued(const QueuedMessage& m) override;
  Result<std::size_t> queue_action(std::int64_t id, QueueAction action) override;
  Result<std::size_t> account_queue_action(std::int64_t account_id, QueueAction action) override;
  Result<std::vector<QueuedMessage>> claim_due(std::int64_t now, std::int64_t lease_until, std::size_t limit) override;
  Status record_attempts(const std::vector<AttemptRecord>& records, const std::vector<std::int64_t>& finished) override;
  Status set_delay_notified(std::int64_t queue_id) override;
  Status reschedule(const std::vector<std::int64_t>& rcpt_ids, std::int64_t next_attempt) override;
  Result<std::optional<std::int64_t>> next_due() override;
  Status add_tls_result(const TlsResult& r) override;
  Result<std::vector<TlsResult>> tls_results_before(std::int64_t period_start) override;
  Status delete_tls_results(std::int64_t period) override;
  Status add_dmarc_result(const DmarcResult& r) override;
  Result<std::vector<DmarcResult>> dmarc_results_before(std::int64_t period_start) override;
  Status delete_dmarc_results(std::int64_t period) override;
  Status add_daily_counts(const std::vector<DailyCount>& rows) override;
  Result<std::vector<DailyCount>> daily_counts(std::int64_t from_day, std::int64_t to_day) override;
  Status add_dmarc_feedback(const std::vector<DmarcFeedback>& rows) override;
  Result<LoginSeen> note_login(std::string_view address, std::string_view network, std::string_view service,
                               std::int64_t now) override;
  Result<NetworkHistory> network_history(std::string_view address, std::string_view network) override;
  Status put_ban(const Ban& b) override;
  Result<std::vector<Ban>> list_bans() override;
  Result<std::int64_t> active_ban_count(std::int64_t now) override;
  Result<bool> lift_ban(std::string_view key) override;
  Result<std::vector<DmarcFeedback>> dmarc_feedback_since(std::int64_t since) override;
  Result<std::optional<StsRecord>> sts_policy(std::string_view domain) override;
  Status put_sts_policy(const StsRecord& policy) override;

  Result<std::vector<MessageInfo>> list_messages(std::int64_t mailbox_id) override;
  Result<std::vector<MessageInfo>> messages_by_uid(std::int64_t mailbox_id,
                                                   const std::vector<std::uint32_t>& uids) override;
  Result<bool> has_blob(std::int64_t mailbox_id, std::string_view blob) override;
  Result<std::vector<MessageInfo>> changed_since(std::int64_t mailbox_id, std::uint64_t modseq) override;
  Result<std::vector<std::uint32_t>> expunged_since(std::int64_t mailbox_id, std::uint64_t modseq) override;
  Result<FlagResult> update_flags(std::int64_t mailbox_id, const std::vector<std::uint32_t>& uids,
                                  const FlagUpdate& update) override;
  Result<std::vector<std::uint32_t>> expunge(std::int64_t mailbox_id,
                                             const std::vector<std::uint32_t>& uids) override;
  Result<CopyResult> copy_messages(std::int64_t from_mailbox, const std::vector<std::uint32_t>& uids,
                                   std::int64_t to_mailbox, bool move) override;
  void set_change_listener(std::function<void(std::int64_t mailbox_id)> fn) override {
    on_commit_ = std::move(fn);
  }
  Result<std::string> read_message(const MessageInfo& info) override;
  Result<std::string> read_message_start(const MessageInfo& info, std::size_t max_bytes) override;
  Result<std::vector<std::optional<std::string>>> read_summaries(std::int64_t mailbox_id,
                                                                 std::span<const std::uint32_t> uids) override;
  Status save_summaries(std::int64_t mailbox_id,
                        std::span<const std::pair<std::uint32_t, std::string>> summaries) override;
  Result<std::int64_t> add_web_session(const WebSession& s) override;  // sqlite_web.cpp
  Result<std::optional<WebSession>> web_session(std::string_view secret_hash) override;
  Status touch_web_session(std::int64_t id, std::int64_t now, std::string_view ip) override;
  Result<std::vector<WebSession>> web_sessions(std::int64_t account_id) override;
  Result<bool> remove_web_session(std::int64_t account_id, std::int64_t id) override;
  Result<std::size_t> remove_web_sessions(std::int64_t account_id, std::int64_t keep) override;
  Result<std::size_t> expire_web_sessions(std::int64_t idle_before, std::int64_t created_before) override;
  Status add_api_token(const ApiToken& t) override;
  Result<std::optional<ApiToken>> api_token(std::string_view secret_hash) override;
  Result<std::vector<ApiToken>> api_tokens(std::int64_t account_id) override;
  Result<bool> revoke_api_token(std::int64_t account_id, std::string_view name) override;
  Status api_token_used(std::int64_t id, std::int64_t now, std::string_view ip) override;
  void close() override;

  // Deletes blob files no index row refers to (leftovers of a batch that never committed).
  // Only safe while no delivery is in flight: the server calls it at start-up.
  Result<std::size_t> recover() override;

  // Runs `write` in the committer's next batch (CommitJob::write), before any mail submitted
  // after it; `done` gets the outcome on the committer's thread. For small records written
  // on the MX's path, which must not wait for the write lock while a batch of mail is synced.
  void queue_batched(std::function<Status(Db&)> write, std::function<void(Status)> done);
  // The same, waiting for the outcome.
  Status write_batched(std::function<Status(Db&)> write);

 protected:
  Result<std::int64_t> insert_account(const std::string& address, std::string_view hash,
                                      const std::vector<NewMailbox>& mailboxes) override;
  Result<std::int64_t> insert_mailbox(std::int64_t account_id, std::string_view name, std::string_view special_use,
                                      std::uint32_t uidvalidity_floor) override;
  Status rename_tree(std::int64_t account_id, std::string_view from, std::string_view to) override;
  void commit(std::vector<NewMessage> msgs, DeliverCallback done) override;

 private:
  Status migrate();
  Status open_read_only();
  Result<std::int64_t> create_mailbox_locked(Db& db, std::int64_t account_id, std::string_view name,
                                             std::string_view special_use, std::uint32_t uidvalidity_floor);
  void commit_batch(std::vector<CommitJob>& batch);
  Status insert_delivery(const NewMessage& m, const std::string& blob, std::vector<StoredAt>& stored);
  Status insert_outbound(const NewMessage& m, const std::string& blob);  // sqlite_queue.cpp
  Result<std::vector<QueuedMessage>> select_queue(std::string_view where, std::int64_t arg);
  Result<std::vector<QueuedMessage>> select_queue_locked(std::string_view where, std::int64_t arg,
                                                         std::string_view rcpt_where = "1");
  Result<std::vector<MessageInfo>> select_messages(std::string_view where, std::int64_t a,
                                                   std::int64_t b);
  Status remove_unreferenced(const std::vector<std::string>& blobs);

  StoreConfig opts_;
  std::mutex mu_;  // guards db_
  Db db_;
  Db writer_;      // group-commit thread only
  BlobStore blobs_;
  std::unique_ptr<Committer> committer_;
  std::function<void(std::int64_t)> on_commit_;
};

}  // namespace mk::store::sqlite
