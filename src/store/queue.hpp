// store/queue.hpp: the Queue role of the store: the durable outbound queue. Entries are
// added by Mail::deliver() (NewMessage::outbound), in the same commit as local deliveries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

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

// The outcome of one delivery attempt for one queued recipient.
struct AttemptRecord {
  std::int64_t rcpt_id = 0;
  RcptState state = RcptState::queued;
  std::int64_t next_attempt = 0;
  std::string error;
};

// What is waiting to leave (metrics, the dashboard): recipients not yet delivered nor bounced.
struct QueueStats {
  std::int64_t messages = 0;         // messages with a recipient waiting (queued or held)
  std::int64_t recipients = 0;       // recipients queued
  std::int64_t held_recipients = 0;  // recipients held (containment or the admin)
  std::int64_t oldest = 0;           // when the oldest message with a queued recipient was queued (unix s); 0: none
};

// mailkeep queue hold|release|retry|drop.
enum class QueueAction { hold, release, retry, drop };

class Queue {
 public:
  virtual ~Queue() = default;

  // Outbound queue (entries are added by deliver(): NewMessage::outbound).
  virtual Result<std::vector<QueuedMessage>> list_queue() = 0;
  virtual Result<QueueStats> queue_stats() = 0;
  virtual Result<std::optional<QueuedMessage>> queued_message(std::int64_t id) = 0;
  virtual Result<std::string> read_queued(const QueuedMessage& m) = 0;
  // hold/release/retry act on the recipients still pending (retry: due now); drop deletes the
  // message. Returns how many recipients it changed; Errc::not_found if there is no such message.
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
  // When the earliest waiting recipient is due (unix seconds), if any.
  virtual Result<std::optional<std::int64_t>> next_due() = 0;
};

}  // namespace mk::store
