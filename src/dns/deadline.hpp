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
// and holds only the inner Lookup (which must outlive it) and its own state. A caller may
// abandon a query too (stop awaiting it): the query keeps the lookup's shared state alive,
// so the DeadlineLookup itself may be gone by the time it ends.
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
  int answered() const { return st_->answered; }
  // Queries that failed: no answer in time, a local failure, or SERVFAIL.
  int failed() const { return st_->failed; }
  // Nothing answered and something failed: the resolver is unreachable (or the budget was
  // spent before the first answer), so no verdict can rest on these lookups.
  bool unreachable() const { return st_->answered == 0 && st_->failed > 0; }

 private:
  // What a query still in flight needs: it may be abandoned by its caller (the DNS lists stop
  // waiting at their own timeout) and outlive this object, so it holds the state, not `this`.
  struct State {
    Lookup& inner;
    Clock::time_point deadline;
    Clock::duration per_query;
    int answered = 0;
    int failed = 0;
  };
  std::shared_ptr<State> st_;
};

}  // namespace mk::dns
