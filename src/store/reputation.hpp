// store/reputation.hpp: the Reputation role of the store: what an account's user does with
// mail, as the filter and the guard need it: correspondents, verdicts on senders, threads,
// and the hourly sending history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"
#include "store/mail.hpp"

namespace mk::store {

class Reputation {
 public:
  virtual ~Reputation() = default;

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
};

}  // namespace mk::store
