// inbound/spam_filter.hpp: the spam filter in the MX (port 25): after sender authentication
// (app/pipeline.hpp, when DNS is available) every accepted message gets the filter's verdict
// (filter/verdict.hpp): an X-Mailkeep-Spam field naming every signal, a log entry, and the
// action: delivered, tagged, delivered into Junk, or refused at SMTP time with 550 5.7.1.
// The classifier uses the instance's global model, plus the recipient's own model. The global
// one is the admin's bulk training (`mailkeep spam train`, re-read within seconds when it is
// replaced) plus what the server learnt from all its users and from mail it can trust
// (filter/learning.hpp, inbound/global_learning.hpp), so a new user starts with it. A user's
// own model holds what the user taught: moving mail into Junk (spam) or out of it (ham),
// deleting unread mail from Junk (spam), replying to a message (ham), learned as a correction
// to the global model (filter::Model::learn_over). Without models only the fixed rules apply.
// Learning never holds up delivery or IMAP: it runs on threads of its own, and its failures
// are logged.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/thread_pool.hpp>

#include "filter/blocklist_config.hpp"
#include "inbound/auth_pipeline.hpp"
#include "base/file_change.hpp"
#include "dmarc/dmarc.hpp"
#include "filter/blocklists.hpp"
#include "filter/learning.hpp"
#include "filter/verdict.hpp"
#include "imap/server/session.hpp"
#include "inbound/known_domains.hpp"
#include "store/directory.hpp"
#include "store/mail.hpp"
#include "store/reputation.hpp"
#include "store/roles.hpp"

namespace mk::inbound {

// The store roles the filter uses: accounts and hosted domains, what each account knows of
// its correspondents and threads (reputation), and the messages it reads (a thread's, the
// ones a user moved, for training).
struct FilterStore {
  store::Directory& directory;
  store::Reputation& reputation;
  store::Mail& mail;
  template <store::Provides<store::Directory, store::Reputation, store::Mail> S>
  FilterStore(S& s) : directory(s), reputation(s), mail(s) {}  // NOLINT: implicit by design
};

// The instance's global spam model: the file `mailkeep spam train` writes (`path`) plus the
// server's learnt correction (`learned_path`, filter/learning.hpp), summed; the learnt part
// counts once it is filter::shared_ready. In the server its learner hands it over as it learns
// (set_learned); elsewhere (check-message) its file is read like the other.
class SpamModel {
 public:
  explicit SpamModel(std::string path, std::string learned_path = {});
  // Null while there is no (readable, ready) model.
  std::shared_ptr<const filter::Model> current() const;
  // The admin's bulk-trained model alone (what the learner learns a correction to); null: none.
  std::shared_ptr<const filter::Model> base() const;
  // Both at once, consistent with each other: the global model and the bulk-trained one.
  std::pair<std::shared_ptr<const filter::Model>, std::shared_ptr<const filter::Model>> current_and_base() const;
  // The learner's model, from now on instead of the learnt file's.
  void set_learned(std::shared_ptr<const filter::Model> learned);
  static constexpr std::int64_t kRecheckSeconds = 10;

 private:
  // Re-reads a replaced file (under mu_).
  void refresh() const;
  static std::shared_ptr<const filter::Model> combine(const std::shared_ptr<const filter::Model>& base,
                                                      const std::shared_ptr<const filter::Model>& learned);
  mutable std::mutex mu_;
  mutable FileChange watch_;
  mutable std::optional<FileChange> learned_watch_;  // until set_learned
  mutable std::shared_ptr<const filter::Model> base_, learned_, combined_;
  mutable bool stale_ = true;  // combined_ is not base_ + learned_ yet
};

class GlobalLearner;

// Each user's model (DIR/user-<account id>.model) and its training from what the user does:
// IMAP moves into and out of Junk, unread mail deleted from Junk, replies sent over
// submission. On a thread of its own (reading the messages, writing the model file), so that
// no IMAP or SMTP session waits for it. Readers get an immutable snapshot; training works on a
// copy and swaps it in. Each message learnt is offered to the shared model too (`shared`, if
// any), which takes it within its bounds; a message is learnt once per account and label.
class UserModels {
 public:
  UserModels(std::string dir, FilterStore store, const SpamModel& global, log::Logger log,
             GlobalLearner* shared = nullptr);
  ~UserModels();
  UserModels(const UserModels&) = delete;
  UserModels& operator=(const UserModels&) = delete;

  void train(imap::Session::TrainEvent ev);  // queued; returns at once
  // The account sent a message replying to these Message-IDs (message::Parsed::thread_ids):
  // the messages of its mailboxes it answers are ham. Queued; returns at once.
  void replied(std::int64_t account_id, std::vector<std::string> thread_ids);
  // The account's model; null if it never learned anything.
  std::shared_ptr<const filter::Model> of(std::int64_t account_id);
  // Waits until every queued training is done (tests, shutdown).
  void drain();
  static constexpr std::size_t kMaxMessagesPerEvent = 1000;
  static constexpr std::size_t kMaxQueue = 10000;
  // A reply teaches from the message(s) it names first (In-Reply-To), at most this many.
  static constexpr std::size_t kMaxRepliedMessages = 2;
  // Messages remembered as learnt (per account and label), so none counts twice.
  static constexpr std::size_t kMaxRemembered = 8192;

 private:
  struct Job {
    imap::Session::TrainEvent ev;
    std::vector<std::string> replied_to;  // a reply (then ev holds only the account)
  };
  // One message the user's act is about.
  struct Lesson {
    std::string blob;  // its file: the same message in several mailboxes is one
    std::string text;
  };
  std::string path_of(std::int64_t account_id) const;
  void run();
  void learn(Job& job);
  // The messages of a training event (the bytes of gone ones moved out of it), or of a reply.
  std::vector<Lesson> lessons_of(imap::Session::TrainEvent& ev);
  std::vector<Lesson> lessons_of_reply(std::int64_t account_id, const std::vector<std::string>& ids);
  // What the user read and kept beside spam they moved into Junk (TrainEvent::kept), learnt
  // as ham later, not at once: a user who read several spam and moves them one at a time,
  // newest first, would otherwise teach the older ones as ham (they are still there, read).
  // A pending set is learnt at the account's first spam event after newer mail has reached
  // its folder (its UIDNEXT has passed `uidnext` by more than the ham the user moved out of
  // Junk into it since, `moved_in`: the user has moved on from that clean-up); until then the
  // sets of further moves join it. Then only what is still there, still read, not also in a
  // Junk folder (a COPY into Junk leaves the spam where it was, the same file), not from a
  // sender the user judged spam more often than ham (store::Reputation::sender_verdicts: the
  // COPY in Junk may be gone since) and learnt under neither label before (as far as the
  // learner remembers: kMaxRemembered, not across a restart) counts, newest first, at most
  // `most` (the spam those moves taught). A spam event that learns nothing new (every message
  // learnt before) has no budget to give: its kept mail joins a set of the same folder, but
  // it starts none and releases none as another folder (it may still release one whose
  // folder had newer mail). One pending set per account, lost with a restart (kept after a
  // store error, for the next spam event); a ham event the learner's queue dropped is not in
  // `moved_in`.
  struct Kept {
    std::int64_t mailbox = 0;
    std::vector<std::uint32_t> uids;  // newest first, at most TrainEvent::kMaxKept
    std::size_t most = 0;
    std::uint32_t uidnext = 0;
    std::vector<std::uint32_t> moved_in;  // UIDs of ham moved in since (those below `uidnext` go)
  };
  // At most this many moved_in UIDs are kept (more: the oldest go, and newer mail may be
  // seen sooner than it came).
  static constexpr std::size_t kMaxMovedIn = 1000;
  // Whether one of the account's Junk folders (`junk`: their ids, listed at the first call)
  // holds a message stored in this file.
  Result<bool> in_junk(std::int64_t account_id, const std::string& blob,
                       std::optional<std::vector<std::int64_t>>& junk);
  // Whether newer mail has reached the pending set's folder since it was named.
  bool moved_on(const Kept& kept);
  // Learns `kept` as ham over `base` into `model`; how many it learnt. A store error (logged)
  // ends it there and sets `failed`: the set waits for the account's next spam event, less
  // the budget it spent (nothing is learnt that could not be checked).
  std::size_t learn_kept(std::int64_t account_id, const Kept& kept, const filter::Model& base,
                         filter::Model& model, bool& failed);
  // Logs filter.train_failed and marks the job being learnt as failed (job_failed_).
  void train_failed(const std::string& error);
  // True the first time this account learns this message with this label.
  bool first_time(std::int64_t account_id, const std::string& blob, bool spam);
  // Whether this account learnt this message with this label (within kMaxRemembered).
  bool remembered(std::int64_t account_id, const std::string& blob, bool spam) const;

  std::string dir_;
  FilterStore store_;
  const SpamModel& global_;
  log::Logger log_;
  GlobalLearner* shared_;
  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<Job> jobs_;
  bool busy_ = false, stop_ = false;
  std::map<std::int64_t, std::shared_ptr<const filter::Model>> models_;  // loaded (or known absent: null)
  std::map<std::int64_t, Kept> pending_kept_;  // by account; learner thread only
  std::deque<std::string> remembered_order_;  // learner thread only
  bool job_failed_ = false;                   // learner thread only: the job logged train_failed
  std::set<std::string> remembered_;
  std::thread thread_;
};

class InboundPipeline final : public smtp::Pipeline {
 public:
  // auth and dns: null when there is no DNS (dev mode without dns.upstream); then neither
  // sender authentication nor the DNS lists count.
  InboundPipeline(AuthPipeline* auth, dns::Lookup* dns, filter::BlocklistConfig lists, const SpamModel& model,
                  UserModels& users, FilterStore store, filter::Thresholds thresholds, log::Logger log)
      : auth_(auth), dns_(dns), lists_(std::move(lists)), model_(model), users_(users), store_(store),
        hosted_(store_.directory, orgs_), known_(store_.reputation, orgs_), thresholds_(thresholds),
        log_(std::move(log)) {}
  boost::asio::awaitable<smtp::PipelineDecision> check(const smtp::Transaction& txn, const message::Parsed& msg,
                                                       std::string helo, std::string remote_ip) override;

  // What check-message shows of the chain's work beside its decision.
  struct Explanation {
    bool auth_checked = false;  // sender authentication ran (there is DNS)
    mailauth::Assessment auth;
    std::vector<std::string> list_notes;  // DNS lists that could not be asked
    bool filtered = false;                // the filter ran (sender authentication did not refuse)
    filter::Verdict verdict;              // the message's verdict (the sole recipient account's)
    bool model = false;                   // the instance's trained model took part
  };
  // check(), telling what it found when `explain` is set.
  boost::asio::awaitable<smtp::PipelineDecision> evaluate(const smtp::Transaction& txn, const message::Parsed& msg,
                                                          std::string helo, std::string remote_ip,
                                                          Explanation* explain);
  // check-message: the same decisions, but nothing learnt is kept (contact names).
  void set_read_only(bool read_only) { read_only_ = read_only; }
  // Where the verdicts are worked out (net/offload.hpp); null: in the caller's thread.
  void set_work_pool(boost::asio::thread_pool* work) { work_ = work; }
  // The shared model's learner, and whether the MX auto-learns from trusted verdicts
  // (filter/learning.hpp); none: it does not.
  void set_learner(GlobalLearner* learner, bool auto_learn) {
    learner_ = learner;
    auto_learn_ = auto_learn;
  }

 private:
  // The filter's verdicts for the message and each recipient account, into d.
  void judge_message(const smtp::Transaction& txn, const message::Parsed& msg, const mailauth::Assessment& assessment,
                     const std::vector<filter::Signal>& listed, smtp::PipelineDecision& d, Explanation* explain);
  // What the recipient (account; 0: several or none) knows, for the filter: own and
  // correspondents' domains, the thread, an authenticated known author, contacts whose
  // name the author uses; remembers the names authenticated contacts use.
  void recipient_knowledge(std::int64_t account, const message::Parsed& msg, const mailauth::Assessment* auth,
                           filter::Inputs& in);
  // The reads the store could not answer for one verdict, for its log line.
  struct Unread {
    std::string reads, first_error;  // "thread, sender verdicts"; the first one's error
    bool lost = false;               // one had no list kept from before to stand in for it
    void note(std::string_view what, const std::string& error, bool substituted);
  };
  // recipient_knowledge's reads, each failure noted in `unread`.
  void gather_knowledge(std::int64_t account, const message::Parsed& msg, const mailauth::Assessment* auth,
                        filter::Inputs& in, Unread& unread);
  // The account's own spam thresholds, or the instance's.
  filter::Thresholds thresholds_of(std::int64_t account);
  // Offers the message to the shared model when its verdict is trusted evidence
  // (filter::auto_learn_label), with the features its verdicts worked out (`analysis`); what
  // it did goes into d's log ("autolearn").
  void auto_learn(filter::MessageAnalysis& analysis, const filter::Verdict& v, bool known_sender,
                  std::int64_t account, smtp::PipelineDecision& d);
  // Recipient accounts of one message that get a verdict of their own (the rest share the
  // message's).
  static constexpr std::size_t kMaxPersonalVerdicts = 20;

  AuthPipeline* auth_;
  dns::Lookup* dns_;
  filter::BlocklistConfig lists_;
  dmarc::OrgDomains orgs_;
  const SpamModel& model_;
  UserModels& users_;
  FilterStore store_;
  HostedDomainsCache hosted_;  // our own domains
  KnownDomainsCache known_;    // the domains each account writes to
  filter::Thresholds thresholds_;
  log::Logger log_;
  bool read_only_ = false;
  boost::asio::thread_pool* work_ = nullptr;
  GlobalLearner* learner_ = nullptr;
  bool auto_learn_ = false;
};

}  // namespace mk::inbound
