// audit/collector.hpp: `mailkeep collector`, the receiving end of log shipping, for a second
// machine the mail server's attacker does not control.
//
// STANDARDS: RFC 5425 (syslog over TLS), RFC 5424 (messages; audit/syslog.hpp), RFC 6587
// §3.4.2 (LF-framed lines from plain senders).
//
// Each configured server names itself with a heartbeat signed by its log key; the connection
// is then that server's, and the collector answers with where its copy of the chain stands.
// Security records are checked against the chain as they arrive: a record that links is
// appended to DATA/servers/NAME/security.log (the security log's own format, so `audit verify`
// and `collector verify` read it), made durable, and acknowledged; one that does not (edited,
// missing records, an old copy, a new chain) is kept in DATA/servers/NAME/unlinked.log with the
// reason and reported. A server's operational log lines go to DATA/servers/NAME/operational.log;
// other syslog (rsyslog) is stored per sending host in DATA/syslog/HOST.log when accept_plain is
// on. Those files are capped (max_log_size) and each line is stamped with its arrival time.
//
// SECURITY: everything received is untrusted. TLS is required (and a client certificate when
// client_ca is set); frames are bounded; a security record or heartbeat is taken only for a
// configured server and only after its signature verifies, so one server (or an attacker
// holding it) cannot write another's history. The collector only appends: nothing a sender
// says can remove or rewrite what was stored.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/collector_alerts.hpp"
#include "audit/log.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace mk::audit {

struct CollectorServer {
  std::string name;        // the HOSTNAME its messages carry (its server.hostname)
  std::string public_key;  // "ed25519:BASE64", from `mailkeep log key` on that server
};

struct CollectorSettings {
  std::vector<std::pair<std::string, std::uint16_t>> listen;  // numeric address, port
  std::string data_dir;
  std::string tls_cert, tls_key;
  std::string client_ca;  // when set, senders must present a certificate this CA signed
  // Off by default: any TLS client may send plain syslog; turn it on with client_ca set, or on
  // a network only trusted senders reach.
  bool accept_plain = false;
  std::size_t max_connections = 200;
  // Each server's operational.log stops growing here, and so do the plain syslog files, all
  // together (the stored chains never do): a sender cannot fill the disk they need.
  std::uint64_t max_log_size = 1ull << 30;
  std::vector<CollectorServer> servers;
  AlertSettings alerts;
  std::string hostname;  // this machine's name, in alerts; default: gethostname()
};

inline constexpr std::size_t kCollectorMaxFrame = 64 * 1024;

class Collector {
 public:
  // Opens the stores (verifying every stored chain) and binds the listeners.
  static Result<std::unique_ptr<Collector>> make(const CollectorSettings& settings,
                                                 log::Logger logger);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  // Serves until SIGINT/SIGTERM.
  int run();

  struct Impl;

 private:
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where a server's stored chain lives: the segment records are added to now.
std::string collector_chain_path(const std::string& data_dir, const std::string& server);
// Every stored segment of a server's chain, oldest first, the current one last. A new segment
// begins where records never arrived (a gap, which is alerted): earlier ones are kept as
// security.upto-SEQ.log, each verifiable on its own (audit::verify with segment = true).
std::vector<std::string> collector_segments(const std::string& data_dir, const std::string& server);
// Checks a server's whole stored history: each segment's chain, that each begins at record 1
// or where segments.log recorded a gap, that each is named for its last record, and that no
// recorded segment is missing.
VerifyReport verify_collected(const std::string& data_dir, const std::string& server);

}  // namespace mk::audit
