// audit/shipper.hpp: sends the security log, record by record as it is written, to one or
// more remote collectors, so that an attacker who deletes the local log cannot delete what
// was already said.
//
// STANDARDS: RFC 5425 (syslog over TLS, octet-counted frames), RFC 5424 (the message; see
// audit/syslog.hpp for what each record becomes).
//
// How: the security log itself is the spool. Each collector has a link that reads the log
// file from the first record the collector does not have and sends it; a link never holds
// more than one batch in memory, so a collector that is away for a day costs no memory and
// loses nothing. mailkeep's own collector says where its copy stands when the link opens and
// acknowledges what it stored durably; a collector that answers nothing (rsyslog) is sent
// each record once, and the link remembers in DATA/log-shipping/ what it wrote so far.
// A link whose collector is more than `spool_records` behind skips the oldest of them (counted,
// logged and written to the security log itself), so the newest records go first.
// Operational log lines (`operational`, warn and above by default) go to the same collectors,
// from a bounded queue in memory (audit/line_queue.hpp): best effort, never spooled to disk.
// Every `heartbeat` the link sends a heartbeat signed with the server's log key, carrying the
// log's head, so the collector can tell silence, truncation and impersonation apart.
//
// SECURITY: the collector's certificate is verified against `ca_file` (or the system's CAs)
// and the configured name; nothing is sent before the handshake verifies. The shipper runs on
// a thread of its own (the self-check on another): a slow or absent collector never delays
// mail, mail never waits for it, and the links never wait for a long verification. Only the
// log's records, its head and signatures leave the host; the key does not.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/remote_settings.hpp"
#include "audit/signing.hpp"
#include "base/duration.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace mk::audit {

class Log;

struct LinkState {
  std::string collector;
  bool connected = false;
  bool acknowledged = false;  // the collector acknowledges (mailkeep's collector)
  std::uint64_t sent = 0;     // last record written to the connection
  std::uint64_t acked = 0;    // last record the collector said it stored
  std::uint64_t skipped = 0;  // records never sent because the backlog passed spool_records
  std::uint64_t lines_sent = 0;    // operational log lines written to the connection
  std::uint64_t lines_missed = 0;  // operational lines let go (the queue was full) before sent
};

class Shipper {
 public:
  // Checks the settings and loads the TLS material; an error is a configuration error.
  static Result<std::unique_ptr<Shipper>> make(const RemoteSettings& settings, std::string log_path,
                                               std::string host, SigningKey key,
                                               std::string state_dir, log::Logger logger,
                                               Log* audit);
  ~Shipper();  // stops the links and joins the thread
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  void start();
  void stop();
  // A record was appended: the links read the log now instead of at their next poll.
  void wake();
  std::vector<LinkState> state() const;
  // Where the operational lines to ship are put (log::Sink::set_tap), with the level set in
  // `operational`; null when they are not shipped.
  std::shared_ptr<log::Tap> tap() const;

  struct Impl;

 private:
  explicit Shipper(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mk::audit
