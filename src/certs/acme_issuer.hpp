// certs/acme_issuer.hpp: the certificate manager's Issuer backed by an ACME CA (acme::Client),
// answering the CA's challenges through the server itself: HTTP-01 from the web server's
// challenge answers (http/acme_challenge.hpp), TLS-ALPN-01 from the certificate store every
// listener shares (net/cert_store.hpp).
// SECURITY: challenge answers live only while their order is in progress (acme::Client takes
// each one back, whatever happens).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "acme/client.hpp"
#include "base/log.hpp"
#include "certs/manager.hpp"
#include "certs/settings.hpp"
#include "http/acme_challenge.hpp"
#include "net/cert_store.hpp"

namespace mk::certs {

class AcmeIssuer final : public Issuer, private acme::Responder {
 public:
  // transport, challenges and store must outlive it. contact: an email address or "".
  AcmeIssuer(acme::Transport& transport, const AcmeSettings& settings, std::string account_key_pem,
             http::AcmeChallenges& challenges, net::CertStore& store, log::Logger log);

  boost::asio::awaitable<IssueResult> issue(std::vector<std::string> names, std::string key_pem) override;

 private:
  void put_http01(const std::string& token, const std::string& key_authorization) override;
  void remove_http01(const std::string& token) override;
  void put_tls_alpn01(const std::string& name, const std::string& key_authorization) override;
  void remove_tls_alpn01(const std::string& name) override;

  acme::Client client_;
  acme::ChallengeType challenge_;
  http::AcmeChallenges& challenges_;
  net::CertStore& store_;
  log::Logger log_;
};

}  // namespace mk::certs
