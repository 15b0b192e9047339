// outbound/runner.hpp: delivers the outbound queue to remote MX hosts.
//
// A loop claims due recipients from the store (leasing them, so a crash retries them rather
// than losing them), groups them by domain and delivers each group over one connection per
// chunk, up to connections_per_domain at once. Each recipient ends delivered (2xx), bounced
// (5xx, a null MX, a non-existent domain, or expiry after max_age) or deferred with
// exponential backoff. Bounces and delay notices (RFC 3464) go to the sender: into their
// mailbox when the sender is local, else through this queue with a null reverse path.
// Routing: MX by preference, else the domain's own A/AAAA (RFC 5321 §5.1); a null MX
// (RFC 7505) refuses mail. TLS: opportunistic STARTTLS; a failed handshake falls back to
// plain text for this attempt (MTA-STS/DANE enforcement comes on top of this).
#pragma once

#include <atomic>
#include <map>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "delivery/server_mail.hpp"
#include "dns/resolver.hpp"
#include "net/tls.hpp"
#include "outbound/client.hpp"
#include "outbound/notify.hpp"
#include "outbound/settings.hpp"
#include "tlspolicy/mta_sts.hpp"
#include "store/directory.hpp"
#include "store/keys.hpp"
#include "store/mail.hpp"
#include "store/queue.hpp"
#include "store/reports.hpp"
#include "store/roles.hpp"

namespace mk::outbound {

// The settings of [outbound] and what the server wires in.
struct RunnerConfig : Settings {
  std::string hostname;  // EHLO name, Reporting-MTA
  // Remote verdicts on mail an account submitted: recipients delivered and refused (5xx)
  // in one attempt, for containment (guard/). Called on a runner thread.
  std::function<void(std::int64_t account_id, int delivered, int refused)> on_verdicts;
  // Bounces of mail we forwarded go straight back to its original sender (SRS).
  const srs::Srs* srs = nullptr;
  // Delivery outcomes by TLS mode; null: not counted.
  metrics::Registry* metrics = nullptr;
};

// The store roles the runner uses: the queue it drains, the mail it generates (DSNs and
// TLS reports, queued like any message, to a local sender directly), the MTA-STS cache and
// the TLS-RPT results.
struct RunnerStore {
  store::Queue& queue;
  store::Mail& mail;
  store::Directory& directory;
  store::Keys& keys;
  store::Reports& reports;
  template <store::Provides<store::Queue, store::Mail, store::Directory, store::Keys, store::Reports> S>
  RunnerStore(S& s) : queue(s), mail(s), directory(s), keys(s), reports(s) {}  // NOLINT: implicit by design
};

class Runner {
 public:
  Runner(boost::asio::io_context& io, RunnerConfig cfg, RunnerStore store, dns::Resolver& resolver,
         std::shared_ptr<net::TlsContext> tls, log::Logger log);
  void start();
  // New mail was queued: look now rather than at the next scheduled round.
  void wake();
  // Stops claiming; connections in flight are closed (their recipients retry after the lease).
  void stop();
  // The admin returns a queued message to its sender: a bounce (RFC 3464) for every recipient
  // not yet delivered, status 5.0.0 with `reason`, then the message leaves the queue. Returns
  // how many recipients the bounce names (0: none was left, or the sender is <>, which gets
  // no notification). Errc::not_found for an unknown id. Blocks on the store: call it on the
  // work pool.
  Result<std::size_t> return_to_sender(std::int64_t id, const std::string& reason);

 private:
  struct Host {
    std::string name;
    std::vector<std::string> addrs;
    // DANE (RFC 7672): secure TLSA records for _25._tcp.name make authenticated TLS mandatory.
    std::vector<dns::Tlsa> tlsa;
    std::string unusable;  // why this host may not be used (a bogus or failed TLSA lookup)
  };
  struct Route {
    std::vector<Host> hosts;
    bool temporary = false;  // DNS failure: retry later
    std::string status, error;  // a failure for every recipient of the domain
    std::optional<tlspolicy::StsPolicy> sts;  // the domain's MTA-STS policy, if any
    bool mx_secure = false;                   // the MX RRset was DNSSEC-validated
  };
  using Outcome = RcptOutcome;
  // One message's recipients at one domain.
  struct Job {
    store::QueuedMessage msg;  // only this domain's recipients
  };

  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<Route> route(const std::string& domain);
  // A host's IPv6 and IPv4 addresses, and whether every answer was DNSSEC-secure.
  struct Addresses {
    std::vector<std::string> ips;
    bool secure = true;
    bool trouble = false;  // a lookup failed (SERVFAIL, bogus, timeout)
  };
  boost::asio::awaitable<Addresses> addresses(std::string host);
  // RFC 8461 §5.1: the cached policy, refreshed when the TXT id changes or it expired.
  boost::asio::awaitable<std::optional<tlspolicy::StsPolicy>> sts_policy(const std::string& domain);
  boost::asio::awaitable<void> deliver(std::string domain, std::vector<Job> jobs);
  // mx_validated: the MX host is vouched for by DNSSEC or MTA-STS (for REQUIRETLS).
  boost::asio::awaitable<bool> send_one(Connection& c, const std::string& mx, bool mx_validated, const Job& job,
                                        std::vector<Outcome>& out);
  // Outcomes are recorded in batches (one store transaction, one fsync, per batch).
  struct Batch {
    std::vector<store::AttemptRecord> records;
    std::vector<std::int64_t> finished;
  };
  // For the metrics: tls, how the session that carried them was protected ("dane", "mta-sts",
  // "tls", "plaintext"; "none" without a session), and policy, what the domain asked for
  // (outbound/tls_requirement.hpp's TlsMode names).
  void finish(const Job& job, const std::vector<Outcome>& outcomes, Batch& batch, std::string_view tls = "none",
              std::string_view policy = "opportunistic");
  // TLS-RPT (RFC 8460): count a session's result ("" = success) under the domain's policy.
  void tls_result(const std::string& domain, const Route& rt, const Host& h, const std::string& ip,
                  std::string result_type);
  boost::asio::awaitable<void> report_loop();
  boost::asio::awaitable<void> send_reports(std::int64_t before);
  void flush(Batch& batch);
  Notifier notifier();  // bounces and delay notices (outbound/notify.hpp)
  std::int64_t backoff(int attempts) const;

  boost::asio::io_context& io_;
  RunnerConfig cfg_;
  RunnerStore store_;
  dns::Resolver& resolver_;
  std::shared_ptr<net::TlsContext> tls_;
  log::Logger log_;
  delivery::ServerMail server_mail_;  // DSNs and TLS reports
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer wake_timer_;
  boost::asio::steady_timer report_timer_;
  std::atomic<bool> stopping_{false};
  bool woken_ = false;  // strand_ only
  std::size_t active_ = 0;  // delivery tasks running (strand_ only)
  std::map<std::string, std::size_t> domain_active_;  // per destination domain (strand_ only)
  std::mutex conns_mu_;
  std::set<Connection*> conns_;
};

}  // namespace mk::outbound
