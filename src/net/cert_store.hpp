// net/cert_store.hpp: the certificate every TLS listener presents, replaceable while the
// server runs, and the answers to ACME TLS-ALPN-01 challenges.
//
// All listeners (SMTP STARTTLS, submission 465/587, IMAP 993/143, HTTPS) share one server
// context; install() makes that context ask the store at each handshake which certificate
// to present. A renewed certificate is set() once and every new connection presents it
// from then on, without a restart; connections already open keep the one they started with.
// A client offering ALPN "acme-tls/1" for a name with a pending challenge gets that
// challenge's certificate, and the protocol selected; for any other name it is refused.
// STANDARDS: RFC 8737 (TLS-ALPN-01: the acmeIdentifier extension, ALPN "acme-tls/1"),
// RFC 6066 §3 (SNI), RFC 7301 (ALPN).
// SECURITY: a certificate is swapped in only with the key it was issued for (checked); the
// challenge certificates are presented only to clients that ask for acme-tls/1, never on an
// ordinary connection.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::net {

class CertStore {
 public:
  // What a handshake presents: a leaf, its chain and its key.
  struct Identity;

  CertStore();
  ~CertStore();
  CertStore(const CertStore&) = delete;
  CertStore& operator=(const CertStore&) = delete;

  // Presents this chain (PEM, leaf first) and key (PEM) from the next handshake on.
  Status set(std::string_view chain_pem, std::string_view key_pem);
  // The same from files.
  Status load(const std::string& chain_file, const std::string& key_file);

  // The certificate presented now.
  struct Info {
    std::vector<std::string> names;  // subjectAltName dNSNames
    std::int64_t not_before = 0, not_after = 0;  // unix seconds
    std::string issuer;              // one line
    bool self_signed = false;
  };
  std::optional<Info> current() const;

  // RFC 8737 §3: from now on, a handshake for `name` offering acme-tls/1 gets this
  // certificate (acme::tls_alpn01_certificate makes it), until remove_challenge.
  Status put_challenge(const std::string& name, std::string_view cert_pem, std::string_view key_pem);
  void remove_challenge(const std::string& name);

  // Makes ctx present this store's certificate and answer TLS-ALPN-01. The store must
  // outlive every connection made with ctx.
  void install(SSL_CTX* ctx);

 private:
  static int on_client_hello(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                     unsigned int inlen, void* arg);
  std::shared_ptr<const Identity> identity() const;
  std::shared_ptr<const Identity> challenge(std::string_view name) const;

  mutable std::mutex mu_;
  std::shared_ptr<const Identity> current_;
  std::map<std::string, std::shared_ptr<const Identity>, std::less<>> challenges_;
};

// Information about a PEM chain's leaf (not_after, names, issuer), or an error if it does not parse.
Result<CertStore::Info> describe_chain(std::string_view chain_pem);

}  // namespace mk::net
