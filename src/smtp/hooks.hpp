// smtp/hooks.hpp: what the SMTP server asks of the rest of mailkeep about a message once
// DATA is complete: the MX's pipeline (sender authentication, receiver policy, filter;
// inbound/) and submission's containment (guard/). Interfaces only, so that those modules
// depend on the protocol, never on the server's I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/log.hpp"
#include "message/parsed.hpp"
#include "smtp/reply.hpp"
#include "smtp/session.hpp"

namespace mk::smtp {

// What the MX decides about a received message before it is stored: sender authentication
// now, filtering later (PRODUCT.md's pipeline). Submission does not run it.
struct PipelineDecision {
  std::optional<Reply> reject;  // refuse the message with this reply (5xx, or 4xx to retry)
  std::string fields;           // header fields to add on top (Authentication-Results)
  // The message as received, rewritten (forged fields removed, a phishing warning added);
  // null: unchanged.
  std::shared_ptr<const message::Parsed> content;
  bool junk = false;            // deliver into the recipients' Junk folders
  bool warned = false;          // delivered with a visible phishing warning (content rewritten)
  std::vector<std::int64_t> junk_accounts;  // or into these accounts' Junk only (per-recipient verdicts)
  std::vector<log::Field> log;  // what to record in the delivery log line
  // Why it was refused, junked or warned about, as a fixed word for the metrics
  // ("dmarc_reject", "spam", "phishing", ...); empty: delivered as it was.
  std::string reason;
  // The DMARC result sender authentication reached ("pass", "fail", "none", ...); empty: not
  // checked (DNS unreachable).
  std::string dmarc;
  // The CPU time the spam and phishing verdicts took (seconds, the thread's own); < 0: not
  // measured (refused before them, or a pipeline without them).
  double verdict_cpu_seconds = -1;
};

// Containment of submitted mail (guard/): may refuse a message (and hold the account).
class SubmissionGuard {
 public:
  virtual ~SubmissionGuard() = default;
  // `msg`: the message's content (txn.message moved into it), parsed once.
  virtual std::optional<Reply> check(const Transaction& txn, const message::Parsed& msg, const std::string& account,
                                     const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) = 0;
};

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // `msg` is the message as received (without our trace fields, txn.trace), parsed once for
  // every stage; it stays alive until the coroutine ends.
  virtual boost::asio::awaitable<PipelineDecision> check(const Transaction& txn, const message::Parsed& msg,
                                                         std::string helo, std::string remote_ip) = 0;
};

}  // namespace mk::smtp
