// store/reputation.hpp: the Reputation role of the store: what an account's user does with
// mail, as the filter and the guard need it: correspondents (written to, and who wrote to it),
// verdicts on senders, threads, the hourly sending history, and the link domains the server
// has seen.
#pragma once

#include <cstdint>
#include <functional>
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
  // A number that changes whenever the account's correspondents gain an address, taken from
  // a sequence of the whole store (so an account that reuses a deleted one's id cannot meet
  // its number): what a copy of correspondent_domains kept in memory is checked against
  // before each verdict, on any node. 0: the account never had a correspondent.
  virtual Result<std::int64_t> correspondents_version(std::int64_t account_id) = 0;
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
  // The hours in [from_hour, to_hour) the account sent mail in, oldest first.
  struct SendHour {
    std::int64_t hour = 0;
    int messages = 0;
    int new_recipients = 0;
  };
  virtual Result<std::vector<SendHour>> send_history(std::int64_t account_id, std::int64_t from_hour,
                                                     std::int64_t to_hour) = 0;
  static constexpr std::int64_t kSendHistoryHours = 24 * 60;
  // The hours [from_hour, to_hour) led to a hold of the account's outbound mail: they stay
  // recorded but are no longer its history (send_history skips them, send_baseline's peaks
  // too), so the burst that was held neither counts against the account again once it is
  // released (after a restart too) nor teaches its baseline what is normal. Its days still
  // count as active ones: one hold must not take an account below the days the burst check
  // needs (guard/anomaly.hpp) nor cost it trust. Sending recorded in such an hour after this
  // starts that hour afresh.
  virtual Status hold_send_history(std::int64_t account_id, std::int64_t from_hour, std::int64_t to_hour) = 0;

  // Correspondence the MX saw (guard/trust.hpp: known correspondents include people who wrote
  // to the account). One message the MX delivered to the account, not into Junk: its author,
  // whether sender authentication vouched for that author (DMARC pass, or SPF or DKIM aligned
  // with the From: domain), its Message-ID, and the addresses a reply to it may go to
  // (`answerable`, lower-case; which ones is the caller's rule).
  struct Received {
    std::string author;
    bool authenticated = false;
    std::string message_id;
    std::vector<std::string> answerable;
  };
  virtual Status add_received(std::int64_t account_id, const Received& r, std::int64_t now) = 0;
  // The MX's record of one accepted message (add_received for each of `accounts`, and
  // add_link_domains), queued without waiting: written with the store's next commit, before
  // any mail handed to the store after this call (so the message it describes is never seen
  // without it); `done` gets the outcome, on the store's thread.
  virtual void record_received(std::vector<std::int64_t> accounts, Received r, std::vector<std::string> link_domains,
                               std::int64_t now, std::function<void(Status)> done) = 0;
  // Of `addresses`, those whose mail reached the account with its author authenticated.
  virtual Result<std::vector<std::string>> authenticated_writers(std::int64_t account_id,
                                                                 const std::vector<std::string>& addresses) = 0;
  // Of `addresses`, those answerable (above) for a received message whose Message-ID is one
  // of `ids`.
  virtual Result<std::vector<std::string>> answerable(std::int64_t account_id, const std::vector<std::string>& addresses,
                                                      const std::vector<std::string>& ids) = 0;
  struct Correspondence {
    int writers = 0;   // authenticated authors whose mail reached the account
    int answered = 0;  // addresses it wrote to whose authenticated mail reached it afterwards
    // Those addresses (lower-case), as many, spread over their domains first: the first
    // answer from each domain, then the second, and so on (a per-domain count keeps variety).
    std::vector<std::string> answered_addresses;
  };
  // Each counted up to `cap` (the reader needs no more, and the count stays cheap).
  virtual Result<Correspondence> correspondence(std::int64_t account_id, int cap) = 0;
  // Received messages are remembered this long (a reply to older mail counts as new).
  static constexpr std::int64_t kReceivedKeepSeconds = 180 * 86400;

  // Server-wide: when the server first saw each of `domains` (registrable domains of links)
  // in mail, in the same order; 0 for never.
  virtual Result<std::vector<std::int64_t>> link_domains_seen(const std::vector<std::string>& domains) = 0;
  virtual Status add_link_domains(const std::vector<std::string>& domains, std::int64_t now) = 0;
};

}  // namespace mk::store
