#include "certs/acme_issuer.hpp"

#include <variant>

#include "acme/x509.hpp"

namespace mk::certs {

namespace asio = boost::asio;

AcmeIssuer::AcmeIssuer(acme::Transport& transport, const AcmeSettings& settings, std::string account_key_pem,
                       http::AcmeChallenges& challenges, net::CertStore& store, log::Logger log)
    : client_(transport, settings.directory, std::move(account_key_pem),
              settings.contact.empty() ? std::vector<std::string>{} : std::vector<std::string>{"mailto:" + settings.contact},
              log),
      challenge_(settings.challenge == Challenge::tls_alpn01 ? acme::ChallengeType::tls_alpn01
                                                             : acme::ChallengeType::http01),
      challenges_(challenges),
      store_(store),
      log_(std::move(log)) {}

asio::awaitable<IssueResult> AcmeIssuer::issue(std::vector<std::string> names, std::string key_pem) {
  acme::IssueResult r = co_await client_.issue(std::move(names), std::move(key_pem), *this, challenge_);
  IssueResult out;
  if (auto* issued = std::get_if<acme::Issued>(&r)) {
    out.chain_pem = std::move(issued->chain_pem);
    co_return out;
  }
  const auto& f = std::get<acme::Failure>(r);
  out.error = std::string(acme::kind_name(f.kind)) + ": " + f.message;
  out.retry_after = f.retry_after;
  out.names_failed = f.kind == acme::Failure::Kind::challenge_failed;
  co_return out;
}

void AcmeIssuer::put_http01(const std::string& token, const std::string& key_authorization) {
  challenges_.put(token, key_authorization);
}

void AcmeIssuer::remove_http01(const std::string& token) { challenges_.remove(token); }

void AcmeIssuer::put_tls_alpn01(const std::string& name, const std::string& key_authorization) {
  // The CA's validation then fails with its own message, which the manager logs.
  auto cert = acme::tls_alpn01_certificate(name, key_authorization);
  Status s = cert ? store_.put_challenge(name, cert->cert_pem, cert->key_pem) : Status(cert.error());
  if (!s) log_.error("tls.acme_challenge_failed", {{"name", name}, {"error", s.error().message}});
}

void AcmeIssuer::remove_tls_alpn01(const std::string& name) { store_.remove_challenge(name); }

}  // namespace mk::certs
