// guard/containment.hpp: what happens when an account exceeds its sending limits or looks
// compromised (guard/limits.hpp, guard/anomaly.hpp, guard/content.hpp): its queued outbound
// mail is held, the message is refused with 4.7.1, later submissions are refused at MAIL
// FROM, the user and the admin are mailed and the security log records it. `mailkeep
// account release|drop-held` ends it (app/accounts.cpp).
// For each submission it gathers what the pure decisions need: the account's history
// (guard/trust.hpp), where it logs in from, and what the message's content shows (its
// fingerprint, link domains the server has not seen, the inbound filter's verdict, the
// thread it replies to). Containment holds rather than fails open: a hold the store cannot
// record is enforced in memory, and history it cannot read earns no trust.
#pragma once

#include <concepts>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "reports/alerts.hpp"
#include "audit/log.hpp"
#include "dmarc/dmarc.hpp"
#include "filter/model.hpp"
#include "filter/thresholds.hpp"
#include "guard/limits.hpp"
#include "inbound/known_domains.hpp"
#include "smtp/hooks.hpp"
#include "store/directory.hpp"
#include "store/mail.hpp"
#include "store/queue.hpp"
#include "store/reputation.hpp"
#include "store/security.hpp"
#include "store/roles.hpp"

namespace mk::guard {

inline constexpr std::int64_t kNewNetworkWindow = 3600;  // seconds after a first login from a network

// The store roles containment uses: the account and its hold flag, its login history, what
// it sent and received (reputation), the thread a reply continues (mail), and its queued mail.
struct ContainmentStore {
  store::Directory& directory;
  store::Security& security;
  store::Reputation& reputation;
  store::Mail& mail;
  store::Queue& queue;
  template <store::Provides<store::Directory, store::Security, store::Reputation, store::Mail, store::Queue> S>
  ContainmentStore(S& s)  // NOLINT: implicit by design
      : directory(s), security(s), reputation(s), mail(s), queue(s) {}
};

// How submitted mail gets the inbound filter's verdict (content.hpp's FILTER_SPAM).
struct ContentFilter {
  filter::Thresholds thresholds;  // [spam]
  // The instance's global model and the bulk-trained one, consistent with each other
  // (inbound::SpamModel::current_and_base): the first scores (null: rules only), the second's
  // training sets the rules' weight (filter::hand_rule_weight; null: the rules count in full).
  std::function<std::pair<std::shared_ptr<const filter::Model>, std::shared_ptr<const filter::Model>>()> models;
};

class Containment final : public smtp::SubmissionGuard {
 public:
  Containment(Limits limits, ContainmentStore store, reports::Alerts& alerts, audit::Log* audit, log::Logger log,
              ContentFilter filter = {})
      : limits_(limits, store.reputation, {}, log), store_(store), alerts_(alerts), audit_(audit), log_(std::move(log)),
        filter_(std::move(filter)) {}
  std::optional<smtp::Reply> check(const smtp::Transaction& txn, const message::Parsed& msg, const std::string& account,
                                   const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) override;
  // Remote verdicts on the account's mail (outbound::RunnerConfig::on_verdicts).
  void verdicts(std::int64_t account_id, int delivered, int refused);

 private:
  // What the anomaly detector needs to know about the message beyond its recipients.
  guard::MessageTraits traits_of(std::int64_t account_id, const message::Parsed& msg);
  // The account's history (trust.hpp); what cannot be read counts as none.
  History history_of(std::int64_t account_id, std::int64_t now);
  // What the message's content shows (content.hpp).
  Content content_of(std::int64_t account_id, const message::Parsed& msg, const std::vector<std::string>& remote_rcpts);
  // Messages of a thread read for its participants.
  static constexpr std::size_t kThreadMessagesRead = 5;
  // History counts beyond which trust grows no more.
  static constexpr int kHistoryCountCap = 100;
  // Holds the account's outbound mail and tells everyone. `address`: the account's.
  void hold(std::int64_t account_id, const std::string& address, const SendingLimits::Decision& d,
            const std::string& remote_ip, std::int64_t now);
  // Stores the hold flag; a hold that could not be stored is kept here and enforced in memory
  // (every submission of the account refused) while each later submission tries again.
  // Once stored, the sending that led to it (before `held_at`, when it was decided) is closed
  // (SendingLimits::close_history).
  bool store_hold(std::int64_t account_id, const std::string& reason, std::int64_t held_at);
  std::optional<std::string> unstored_hold(std::int64_t account_id);
  guard::SendingLimits limits_;
  ContainmentStore store_;
  reports::Alerts& alerts_;
  audit::Log* audit_;
  log::Logger log_;
  ContentFilter filter_;
  dmarc::OrgDomains orgs_;
  inbound::HostedDomainsCache hosted_{store_.directory, orgs_};
  std::mutex mu_;
  struct UnstoredHold {
    std::string reason;
    std::int64_t held_at = 0;
  };
  std::map<std::int64_t, UnstoredHold> unstored_holds_;  // by account id
};

}  // namespace mk::guard
