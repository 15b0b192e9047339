// inbound/spam_filter.hpp: the spam filter in the MX (port 25): after sender authentication
// (app/pipeline.hpp, when DNS is available) every accepted message gets the filter's verdict
// (filter/verdict.hpp): an X-Mailkeep-Spam field naming every signal, a log entry, and the
// action: delivered, tagged, delivered into Junk, or refused at SMTP time with 550 5.7.1.
// The classifier uses the instance's global model (`mailkeep spam train`), re-read within
// seconds when it is replaced, plus the recipient's own model: what the user taught by
// moving mail into Junk (spam) or out of it (ham) over IMAP, learned as a correction to the
// global model (filter::Model::learn_over). Without models only the fixed rules apply.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include "filter/blocklist_config.hpp"
#include "inbound/auth_pipeline.hpp"
#include "base/file_change.hpp"
#include "dmarc/dmarc.hpp"
#include "filter/blocklists.hpp"
#include "filter/verdict.hpp"
#include "imap/server/session.hpp"
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

// The instance's global spam model file.
class SpamModel {
 public:
  explicit SpamModel(std::string path) : watch_(std::move(path), kRecheckSeconds) {}
  // Null while there is no (readable) model.
  std::shared_ptr<const filter::Model> current() const;
  static constexpr std::int64_t kRecheckSeconds = 10;

 private:
  mutable std::mutex mu_;
  mutable FileChange watch_;
  mutable std::shared_ptr<const filter::Model> model_;
};

// Each user's model (DIR/user-<account id>.model) and its training from IMAP moves, on a
// thread of its own (reading the messages, writing the model file), so that no IMAP session
// waits for it. Readers get an immutable snapshot; training works on a copy and swaps it in.
class UserModels {
 public:
  UserModels(std::string dir, FilterStore store, const SpamModel& global, log::Logger log);
  ~UserModels();
  UserModels(const UserModels&) = delete;
  UserModels& operator=(const UserModels&) = delete;

  void train(imap::Session::TrainEvent ev);  // queued; returns at once
  // The account's model; null if it never learned anything.
  std::shared_ptr<const filter::Model> of(std::int64_t account_id);
  // Waits until every queued training is done (tests, shutdown).
  void drain();
  static constexpr std::size_t kMaxMessagesPerEvent = 1000;

 private:
  std::string path_of(std::int64_t account_id) const;
  void run();
  void learn(const imap::Session::TrainEvent& ev);

  std::string dir_;
  FilterStore store_;
  const SpamModel& global_;
  log::Logger log_;
  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<imap::Session::TrainEvent> jobs_;
  bool busy_ = false, stop_ = false;
  std::map<std::int64_t, std::shared_ptr<const filter::Model>> models_;  // loaded (or known absent: null)
  std::thread thread_;
};

class InboundPipeline final : public smtp::Pipeline {
 public:
  // auth and dns: null when there is no DNS (dev mode without dns.upstream); then neither
  // sender authentication nor the DNS lists count.
  InboundPipeline(AuthPipeline* auth, dns::Lookup* dns, filter::BlocklistConfig lists, const SpamModel& model,
                  UserModels& users, FilterStore store, filter::Thresholds thresholds, log::Logger log)
      : auth_(auth), dns_(dns), lists_(std::move(lists)), model_(model), users_(users), store_(store),
        thresholds_(thresholds), log_(std::move(log)) {}
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

 private:
  // Our own (hosted) registrable domains, for every recipient's verdict.
  std::vector<std::string> own_domains();
  // The filter's verdicts for the message and each recipient account, into d.
  void judge_message(const smtp::Transaction& txn, const message::Parsed& msg, const mailauth::Assessment& assessment,
                     const std::vector<filter::Signal>& listed, smtp::PipelineDecision& d, Explanation* explain);
  void add_registrable(std::vector<std::string>& to, const std::string& domain) const;
  // What the recipient (account; 0: several or none) knows, for the filter: own and
  // correspondents' domains, the thread, an authenticated known author, contacts whose
  // name the author uses; remembers the names authenticated contacts use.
  void recipient_knowledge(std::int64_t account, const message::Parsed& msg, const mailauth::Assessment* auth,
                           filter::Inputs& in);
  // The account's own spam thresholds, or the instance's.
  filter::Thresholds thresholds_of(std::int64_t account);
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
  filter::Thresholds thresholds_;
  log::Logger log_;
  bool read_only_ = false;
  boost::asio::thread_pool* work_ = nullptr;
};

}  // namespace mk::inbound
