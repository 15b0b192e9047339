// certs/manager.hpp: keeps the certificate the listeners present valid, without a restart.
//
// Three sources, chosen by the configuration (app/ wires it):
// - files (tls.cert and tls.key, e.g. kept by certbot): reloaded when either file changes;
// - ACME: the manager asks the CA (through an Issuer) for the names that resolve (see
//   certs/renewal.hpp), at start when the stored certificate is missing or does not cover
//   them, and again when a third of its lifetime is left; failures back off. The chain is
//   kept in DATA_DIR/tls/acme-cert.pem, written atomically;
// - neither: the self-signed certificate stays (nothing to do).
// Each new certificate goes to net::CertStore, which every listener asks at each handshake.
// SECURITY: a certificate is presented only with its own key (CertStore checks); a failed
// renewal keeps the current certificate; the CA's answer is written only once it has been
// accepted by the store.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "base/duration.hpp"
#include "base/file_change.hpp"
#include "base/log.hpp"
#include "certs/renewal.hpp"
#include "dns/lookup.hpp"
#include "net/cert_store.hpp"

namespace mk::certs {

// What the CA answered.
struct IssueResult {
  std::optional<std::string> chain_pem;  // set on success
  std::string error;                     // why not
  std::optional<std::chrono::seconds> retry_after;
  bool names_failed = false;  // the CA could not validate some of the names (challenge failed)
};

// Obtains a certificate for names and the key (PEM) it must be issued for: the ACME client
// in the server, a script in tests.
class Issuer {
 public:
  virtual ~Issuer() = default;
  virtual boost::asio::awaitable<IssueResult> issue(std::vector<std::string> names, std::string key_pem) = 0;
};

struct ManagerConfig {
  std::string hostname;
  // ACME: where the chain is kept and the key it is issued for.
  std::string chain_file;
  std::string key_file;
  // Files: watched for changes (both empty with ACME).
  std::string watch_cert, watch_key;
  // The hosted domains now (their web names get into the certificate).
  std::function<std::vector<std::string>()> domains;
  // How often names and files are looked at again between renewals.
  Duration recheck{std::chrono::hours(1)};
  Duration file_recheck{std::chrono::seconds(10)};  // two stat(2) calls
  // The wait after the n-th failure in a row (certs::backoff unless a test says otherwise).
  std::function<Duration(int, std::optional<std::chrono::seconds>)> backoff = certs::backoff;
};

class Manager {
 public:
  // issuer and dns may be null for the files mode.
  Manager(boost::asio::io_context& io, ManagerConfig cfg, net::CertStore& store, Issuer* issuer, dns::Lookup* dns,
          log::Logger log);
  ~Manager();
  // Loads what is there now (the stored ACME certificate, or the files) into the store and
  // starts the loop on the io_context.
  void start();
  void stop();
  // Looks again now (SIGHUP): the files, or whether the CA must be asked (after a key
  // rollover, a new domain).
  void wake();

  // For tests and `check`: the names the last order asked for, and how many succeeded.
  const std::vector<std::string>& last_order() const { return last_order_; }
  int issued() const { return issued_; }

 private:
  boost::asio::awaitable<void> run_acme();
  boost::asio::awaitable<void> run_files();
  std::optional<Held> held() const;
  // The names to order now: the wanted ones that resolve to the hostname's addresses (a name
  // pointing elsewhere, at a website or another provider, cannot pass a challenge here),
  // at most kMaxNames, only the hostname while the others are set aside after a failure.
  boost::asio::awaitable<std::vector<std::string>> names_to_order();
  boost::asio::awaitable<bool> sleep(Duration d);

  boost::asio::io_context& io_;
  // The loop, wake() and stop() touch the timer and flags on this strand only (the io
  // context runs on several threads).
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  ManagerConfig cfg_;
  net::CertStore& store_;
  Issuer* issuer_;
  dns::Lookup* dns_;
  log::Logger log_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool woken_ = false;
  std::vector<std::string> last_order_;
  // After a multi-name order failed validation: until then, the hostname alone is ordered
  // (a certificate for the mail server matters more than for the web names).
  std::int64_t set_aside_until_ = 0;
  int issued_ = 0;
  std::unique_ptr<FileChange> cert_change_, key_change_;
};

}  // namespace mk::certs
