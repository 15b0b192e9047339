// audit/collector_alerts.hpp: how the log collector tells people that something is wrong
// with a server it watches: silence, a chain that no longer links, a log that went back in
// time, a clock jump, or the server's own report that its log was tampered with.
//
// Every alert is appended to DATA/alerts.log (one JSON object per line) when it is raised,
// then delivered in the background: a JSON POST to a webhook (http:// or https://, the
// certificate verified) and a mail through an SMTP relay (STARTTLS when offered), side by
// side. A failed delivery is retried for ten minutes and logged; delivery never delays
// receiving.
// SECURITY: an alert's text comes partly from what the server sent (its name, a record's
// fields); it is JSON-escaped in the webhook and the log, and the mail's header fields carry
// only the kind and the configured server name.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "base/duration.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace mk::audit {

struct AlertSettings {
  std::string webhook;    // "http://host:port/path" or "https://..."; empty: no webhook
  std::string ca_file;    // extra CA for an https webhook (a private CA); the system's are used too
  std::string mail_to;    // empty: no mail
  std::string mail_from;  // default collector@<this host>
  std::string relay = "127.0.0.1:25";
  Duration silence_after{std::chrono::seconds(45)};  // no record and no heartbeat for this long
};

struct Alert {
  std::string kind;  // silence, resumed, gap, broken, restarted, replayed, edited, rewound,
                     // diverged, clock, tampered, damaged, overflow
  std::string server;
  std::string detail;
};

class AlertSender {
 public:
  AlertSender(boost::asio::io_context& io, AlertSettings settings, std::string data_dir,
              std::string hostname, log::Logger logger);
  ~AlertSender();
  // Checks the settings (the webhook's URL, the CA file) at start-up.
  static Status check(const AlertSettings& settings);
  // Records the alert now and starts its delivery.
  void raise(Alert a);
  const AlertSettings& settings() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mk::audit
