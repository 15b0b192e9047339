// net/tls_verify.hpp: a TLS client that must verify its server (the ACME CA, a shared link's
// web site, the log collector): the chain and the name are checked during the handshake,
// which fails when they do not hold; and what to say when it failed.
#pragma once

#include <string>

#include <openssl/ssl.h>

#include <boost/system/error_code.hpp>

namespace mk::net {

// Before the handshake: the peer's certificate must verify and name `host` (an address when
// `is_address`, the caller having parsed it; SNI is sent for names). False when OpenSSL
// refuses the name.
bool verify_server(SSL* ssl, const std::string& host, bool is_address);

// Why a verifying handshake failed: the error ("... certificate verify failed"), with the
// certificate's problem when it had one ("(certificate has expired)"); "timed out" for a
// timeout.
std::string handshake_failure(SSL* ssl, const boost::system::error_code& ec);

}  // namespace mk::net
