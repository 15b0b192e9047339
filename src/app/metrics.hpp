// app/metrics.hpp: the Prometheus endpoint (/metrics on its own listener, [metrics]).
//
// The services count into one metrics::Registry as things happen (connections and sessions,
// SMTP messages by outcome and reason, refusals by status code, deliveries by TLS mode, DNS
// queries by result, store latency). What is a state rather than an event is read at each
// scrape: the queue, held accounts and active bans from the store, the certificate presented
// now, the log shipper's links, and the security events written to the security log since the
// server started, by any process (a `mailkeep` command releasing a hold counts too).
// The metric names and labels are listed in docs/metrics.md; the alert rules in
// deploy/prometheus/mailkeep-alerts.yml use them.
// STANDARDS: Prometheus text exposition format 0.0.4.
// SECURITY: the endpoint tells how the server is attacked, so it listens on loopback unless a
// bearer token guards it (config.cpp refuses anything else), and then over TLS only. A port
// already taken stops the server (another program there would answer for it). Labels never carry what a peer
// sent: event names in the security log (a file an intruder may have edited) outside the
// known set are counted as "other".
#pragma once

#include <memory>
#include <string>

#include "audit/shipper.hpp"
#include "base/metrics.hpp"
#include "base/result.hpp"
#include "http/router.hpp"
#include "net/cert_store.hpp"
#include "store/directory.hpp"
#include "store/queue.hpp"
#include "store/security.hpp"

namespace mk::app {

// What the scrape-time metrics are read from; each may be null (not counted).
struct MetricsSources {
  store::Queue* queue = nullptr;
  store::Directory* directory = nullptr;  // held accounts
  store::Security* security = nullptr;    // active bans
  const net::CertStore* certs = nullptr;  // the certificate from the CA, once there is one
  std::string cert_file;                  // else the file the listeners were started with
  const audit::Shipper* shipper = nullptr;
  std::string security_log;  // path; "" for none
};

// Registers the scrape-time collectors; the sources must outlive the registry's scrapes.
void collect_at_scrape(metrics::Registry& registry, MetricsSources sources);

// GET /metrics, answered with the registry's exposition; token (non-empty): the bearer token
// every request must carry. Host must be an address, localhost or `hostname` (403 otherwise:
// DNS rebinding). Every other path is 404.
std::unique_ptr<http::Router> make_metrics_router(metrics::Registry& registry, std::string token,
                                                  std::string hostname);

// The token in token_file: its first line, at least 16 characters; a file other users of the
// machine may read is refused.
Result<std::string> read_metrics_token(const std::string& token_file);

}  // namespace mk::app
