// dns/deadline.hpp: the DNS of one message under one deadline.
//
// The MX's lookups for a message (SPF and its includes, DKIM keys, DMARC, ARC, reverse DNS)
// go through a DeadlineLookup: each query ends at its per-query timeout or at the message's
// deadline, whichever comes first, and once the deadline has passed every further query fails
// at once. A resolver that does not answer thus costs one bounded wait per message, never a
// sum of timeouts that keeps the client waiting for minutes. It also tells whether anything
// answered at all, so the MX can say 451 4.4.3 ("try again later") instead of judging the
// message on failed lookups.
//
// A query that runs out of time is abandoned, not cancelled: it runs to its end on its own
// and holds only the inner Lookup (which must outlive it) and its own state.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "dns/lookup.hpp"

namespace mk::dns {

// The error code of a query that ran out of time (Error::code).
inline constexpr int kDeadline = 4403;

class DeadlineLookup final : public Lookup {
 public:
  using Clock = std::chrono::steady_clock;
  DeadlineLookup(Lookup& inner, Clock::duration budget, Clock::duration per_query);

  boost::asio::awaitable<Result<Answer>> query(std::string name, int type) override;

  // Queries with a definite answer (a record set, no data or NXDOMAIN).
  int answered() const { return answered_; }
  // Queries that failed: no answer in time, a local failure, or SERVFAIL.
  int failed() const { return failed_; }
  // Nothing answered and something failed: the resolver is unreachable (or the budget was
  // spent before the first answer), so no verdict can rest on these lookups.
  bool unreachable() const { return answered_ == 0 && failed_ > 0; }

 private:
  Lookup& inner_;
  Clock::time_point deadline_;
  Clock::duration per_query_;
  int answered_ = 0;
  int failed_ = 0;
};

}  // namespace mk::dns
