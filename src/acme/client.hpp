// acme/client.hpp: the ACME client: gets a certificate for a set of DNS names from an ACME CA
// (Let's Encrypt, or Debian's pebble in tests), answering the CA's challenges through a
// Responder that the rest of the server implements. It does one issuance per call; when to
// renew, backoff between failed calls, storing and serving the certificate are the
// caller's (the certificate manager's).
//
// STANDARDS: RFC 8555 (ACME: §7.3 account, §7.4 order and finalize, §7.5 authorizations,
// §8.3 HTTP-01, §6.5 nonces, §6.6 errors, §7.4.2 certificate download), RFC 8737 (TLS-ALPN-01),
// RFC 7807 (problem documents).
// SECURITY: everything the CA sends is untrusted input, parsed by acme/proto.hpp with bounds;
// a response that does not fit the schema ends the issuance with Kind::bad_response, never a
// crash. The account key signs requests and is never logged; neither are JWS payloads.
// Every challenge answer given to the Responder is taken back before issue() returns, whatever
// happened (also when the coroutine is destroyed mid-way).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "acme/jws.hpp"
#include "acme/proto.hpp"
#include "acme/transport.hpp"
#include "base/duration.hpp"
#include "base/log.hpp"

namespace mk::acme {

// What the client needs from the rest of the server to answer challenges. Calls are
// synchronous and made from the coroutine running issue().
class Responder {
 public:
  virtual ~Responder() = default;
  // RFC 8555 §8.3: answer GET http://NAME/.well-known/acme-challenge/<token> on port 80 with
  // key_authorization (text/plain or application/octet-stream).
  virtual void put_http01(const std::string& token, const std::string& key_authorization) = 0;
  virtual void remove_http01(const std::string& token) = 0;
  // RFC 8737 §3: serve, to TLS clients on port 443 that offer ALPN "acme-tls/1" and SNI
  // `name`, a self-signed certificate for `name` with the critical acmeIdentifier extension
  // holding SHA-256(key_authorization); acme/x509.hpp tls_alpn01_certificate() builds it.
  virtual void put_tls_alpn01(const std::string& name, const std::string& key_authorization) = 0;
  virtual void remove_tls_alpn01(const std::string& name) = 0;
};

enum class ChallengeType { http01, tls_alpn01 };
std::string_view challenge_name(ChallengeType t);  // "http-01", "tls-alpn-01"

struct Issued {
  std::string chain_pem;  // the leaf first, then the intermediates, as the CA served them
  std::int64_t not_before = 0, not_after = 0;  // the leaf's, unix seconds
};

// Why issue() failed, for the caller's retry policy.
struct Failure {
  enum class Kind {
    transport,         // the CA could not be reached or the exchange broke: retry later
    rate_limited,      // urn:ietf:params:acme:error:rateLimited: wait at least retry_after
    ca_error,          // any other problem document or 5xx (serverInternal...): retry later
    challenge_failed,  // the CA could not validate a name (or the order went invalid):
                       // fix DNS/ports first; message has the CA's detail per name
    bad_response,      // the CA sent what RFC 8555 does not allow: retry later
    timeout,           // polling ran out of Settings::poll_timeout or max_polls
    config,            // the caller's input cannot work: a key that is no P-256 key, a name
                       // that is no DNS name, a CA that requires external account binding
  } kind = Kind::ca_error;
  std::string message;
  std::optional<std::chrono::seconds> retry_after;  // from the CA's Retry-After, when given
  std::string problem;  // the ACME error name ("rateLimited") when the CA sent one
};
std::string_view kind_name(Failure::Kind k);

using IssueResult = std::variant<Issued, Failure>;

struct Settings {
  // RFC 8555 §6.5: a badNonce error is retried with the nonce that came with it. Pebble
  // rejects 5% of good nonces on purpose.
  int max_bad_nonce_retries = 5;
  // RFC 8555 §7.5.1: poll authorizations and orders at the Retry-After the CA gives, else
  // at this interval.
  Duration poll_interval = std::chrono::seconds(2);
  // Bounds of one wait (an authorization becoming valid, an order ready, an order issued):
  // both its time and its number of polls. A Retry-After is cut to what is left.
  Duration poll_timeout = std::chrono::minutes(2);
  int max_polls = 60;
};

class IssueFlow;

// One client per account and CA. Not thread-safe: one issue() at a time.
class Client {
 public:
  // account_key_pem: the ECDSA P-256 key (PEM) of the ACME account (acme::new_p256_key_pem
  // makes one; the caller keeps it). contact: "mailto:..." URLs, may be empty.
  Client(Transport& transport, std::string directory_url, std::string account_key_pem,
         std::vector<std::string> contact, log::Logger logger = {}, Settings settings = {});

  // Creates or finds the account (termsOfServiceAgreed), orders a certificate for `names`
  // (DNS names, no wildcards, at most kMaxNames), answers each pending authorization with
  // the `challenge` type (no fallback to the other type: the caller knows which port it
  // serves), polls until the CA has validated them, finalizes with a CSR for cert_key_pem
  // (EC or RSA; the first name is also the CN), and downloads the chain. The chain is
  // checked to name every name and carry cert_key_pem's public key.
  boost::asio::awaitable<IssueResult> issue(std::vector<std::string> names, std::string cert_key_pem,
                                            Responder& responder,
                                            ChallengeType challenge = ChallengeType::http01);

  // The account URL ("kid") once known, for logs and CAA accounturi (RFC 8657); "" before.
  const std::string& account_url() const { return account_url_; }

 private:
  friend class IssueFlow;
  Transport& transport_;
  std::string directory_url_;
  Result<AccountKey> key_;
  std::vector<std::string> contact_;
  log::Logger log_;
  Settings settings_;
  std::optional<Directory> directory_;
  std::string nonce_;
  std::string account_url_;
};

}  // namespace mk::acme
