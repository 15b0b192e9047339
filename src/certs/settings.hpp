// certs/settings.hpp: [acme] in mailkeep.toml, where certificates come from. The defaults
// here are the only ones (app/config.cpp binds each key to its field).
#pragma once

#include <string>

namespace mk::certs {

enum class Challenge { http01, tls_alpn01 };

struct AcmeSettings {
  // The CA's ACME directory; "" turns ACME off (tls.cert and tls.key, or a self-signed one).
  std::string directory = "https://acme-v02.api.letsencrypt.org/directory";
  // An address the CA may write to about the account (expiry notices); optional.
  std::string contact;
  // Extra CA certificates (PEM) trusted for the ACME server's own HTTPS (a private CA).
  std::string ca_file;
  // How the CA checks the names: HTTP-01 on port 80 (default) or TLS-ALPN-01 on port 443.
  Challenge challenge = Challenge::http01;
};

}  // namespace mk::certs
