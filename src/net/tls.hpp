// net/tls.hpp: server TLS contexts.
//
// STANDARDS: RFC 8996 (no TLS 1.0/1.1), RFC 9325 (TLS recommendations: AEAD ciphers with
// forward secrecy only, no compression, no renegotiation).
// SECURITY: the context is built once at start-up from the configured certificate and key;
// a failure to load them is a configuration error, reported before any listener opens.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "base/result.hpp"

namespace mk::net {

using TlsContext = boost::asio::ssl::context;

enum class TlsMin { tls12, tls13 };

Result<std::shared_ptr<TlsContext>> make_server_tls(const std::string& cert_file,
                                                    const std::string& key_file, TlsMin min);

// Outbound SMTP: TLS 1.2+, the system's CA store. Peer verification is not enforced by the
// handshake: the caller reads the verdict (SSL_get_verify_result) and decides by policy
// (opportunistic STARTTLS delivers anyway; MTA-STS and DANE do not).
// extra_ca: a PEM bundle trusted in addition to the system store (private CAs, test rigs).
Result<std::shared_ptr<TlsContext>> make_client_tls(const std::string& extra_ca = {});

struct TlsSummary {
  std::string version;
  std::string cipher;
  int bits = 0;
};
// Empty for a null ssl (ByteStream::ssl() of a stream without a real TLS connection).
TlsSummary summarize(SSL* ssl);

}  // namespace mk::net
