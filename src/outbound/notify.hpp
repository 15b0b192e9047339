// outbound/notify.hpp: telling the sender of a queued message what became of it (RFC 3464
// bounces and delay notices), and the admin's "return to sender". The runner sends them as
// deliveries end; the admin API and `mailkeep queue bounce` return a message by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "delivery/server_mail.hpp"
#include "store/queue.hpp"

namespace mk::outbound {

// The longest reason an admin's bounce gives (bytes; longer ones are cut).
inline constexpr std::size_t kMaxReason = 500;

// What one attempt (or the admin) made of a recipient.
struct RcptOutcome {
  store::RcptState state = store::RcptState::queued;  // queued = deferred
  std::string status;  // enhanced code for a DSN
  std::string error;   // reply or reason
  std::string remote;  // MX host that answered
};

// Where notices come from and go through: our hostname (Reporting-MTA), the queue's lifetime
// (a delay notice says until when it is retried), the queue (the original message) and
// server mail (to a local sender's mailbox, else queued from <>).
struct Notifier {
  std::string hostname;
  std::int64_t max_age_s = 0;
  store::Queue& queue;
  delivery::ServerMail& mail;
  log::Logger log;

  // The notice for these recipients of m (those whose NOTIFY asks for it); none for a
  // message from <> or when none asks. A failure is logged and returned.
  Status notify_sender(const store::QueuedMessage& m, const std::vector<std::pair<store::QueueRcpt, RcptOutcome>>& rcpts,
                       bool delayed) const;
  // Returns queued message `id` to its sender: a bounce naming `reason` (UTF-8, made one line
  // of at most kMaxReason bytes) for each recipient
  // still queued or held, then the message leaves the queue (kept if the bounce cannot be
  // written). Returns how many recipients the bounce names (0: none was left, or the sender
  // is <>). Errc::not_found for an unknown id. Blocks on the store.
  Result<std::size_t> return_to_sender(std::int64_t id, const std::string& reason) const;
};

// "NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@b" -> the value of key (ORCPT, stored last, to_end).
std::string dsn_param(std::string_view dsn, std::string_view key, bool to_end);
// Whether a recipient's NOTIFY asks for this kind of notice ("FAILURE", "DELAY").
bool wants(std::string_view rcpt_dsn, std::string_view what);

}  // namespace mk::outbound
