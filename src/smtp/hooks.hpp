// smtp/hooks.hpp: what the SMTP server asks of the rest of mailkeep about a message once
// DATA is complete: the MX's pipeline (sender authentication, receiver policy, filter;
// inbound/) and submission's containment (guard/). Interfaces only, so that those modules
// depend on the protocol, never on the server's I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/log.hpp"
#include "smtp/reply.hpp"
#include "smtp/session.hpp"

namespace mk::smtp {

// What the MX decides about a received message before it is stored: sender authentication
// now, filtering later (PRODUCT.md's pipeline). Submission does not run it.
struct PipelineDecision {
  std::optional<Reply> reject;  // refuse the message with this reply (5xx, or 4xx to retry)
  std::string fields;           // header fields to add on top (Authentication-Results)
  std::optional<std::string> content;  // the message as received, rewritten (forged fields removed)
  bool junk = false;            // deliver into the recipients' Junk folders
  std::vector<std::int64_t> junk_accounts;  // or into these accounts' Junk only (per-recipient verdicts)
  std::vector<log::Field> log;  // what to record in the delivery log line
  // The message's own Message-ID (without brackets, "" if none) when a stage parsed it
  // already: the store indexes it for thread lookups without parsing the message again.
  std::optional<std::string> message_id;
};

// Containment of submitted mail (guard/): may refuse a message (and hold the account).
class SubmissionGuard {
 public:
  virtual ~SubmissionGuard() = default;
  virtual std::optional<Reply> check(const Transaction& txn, const std::string& account,
                                     const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) = 0;
};

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // `content` is the message as received (without our trace fields); it stays alive until
  // the coroutine ends.
  virtual boost::asio::awaitable<PipelineDecision> check(const Transaction& txn, std::string_view content,
                                                         std::string helo, std::string remote_ip) = 0;
};

}  // namespace mk::smtp
