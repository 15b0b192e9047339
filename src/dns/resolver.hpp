// dns/resolver.hpp: asynchronous DNS through libunbound, with DNSSEC validation.
//
// One Resolver per process. Queries are coroutines; libunbound resolves on its own thread
// and hands results back through a pipe that the io_context watches, so no io thread blocks.
// Upstream: full recursion from the root by default, or the forwarders named in the config
// (tests point it at a local DNS server). DNSSEC: answers carry libunbound's secure/bogus
// verdict; DANE uses only secure answers and treats bogus ones as failures.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "base/metrics.hpp"
#include "base/result.hpp"
#include "dns/config.hpp"
#include "dns/lookup.hpp"
#include "dns/rdata.hpp"

namespace mk::dns {

class Resolver final : public Lookup {
 public:
  static Result<std::unique_ptr<Resolver>> create(boost::asio::io_context& io, const Config& cfg);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Shutdown: pending queries end with an error and no new ones start, so the io_context
  // can run out of work.
  void stop();
  // Counts queries by result into the registry from now on (cached, ok, nxdomain, servfail,
  // bogus, timeout, failed). Call before the first query.
  void count_into(metrics::Registry& registry);

  // The answer, or an error for a timeout or a local failure. Await it from a strand (every
  // connection and queue coroutine runs on one).
  boost::asio::awaitable<Result<Answer>> query(std::string name, int type) override;

 private:
  struct Impl;
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mk::dns
