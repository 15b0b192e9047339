#include "net/tls.hpp"

#include <openssl/err.h>

#include <fmt/format.h>

namespace mk::net {
namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// TLS 1.2 suites: ECDHE key exchange and AEAD only (RFC 9325 §4.2). TLS 1.3 suites are
// all AEAD and keep OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

Result<std::shared_ptr<TlsContext>> make_server_tls(const std::string& cert_file,
                                                    const std::string& key_file, TlsMin min) {
  auto ctx = std::make_shared<TlsContext>(TlsContext::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, min == TlsMin::tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // Idle connections (IMAP IDLE) give their 34 KB of record buffers back.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1)
    return err("TLS cipher list rejected: " + openssl_error());
  SSL_CTX_set_ecdh_auto(c, 1);
  if (SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1)
    return err("TLS groups rejected: " + openssl_error());
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1)
    return err(fmt::format("cannot load certificate {}: {}", cert_file, openssl_error()));
  if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return err(fmt::format("cannot load private key {}: {}", key_file, openssl_error()));
  if (SSL_CTX_check_private_key(c) != 1)
    return err(fmt::format("private key {} does not match certificate {}", key_file, cert_file));
  return ctx;
}

Result<std::shared_ptr<TlsContext>> make_client_tls(const std::string& extra_ca) {
  auto ctx = std::make_shared<TlsContext>(TlsContext::tls_client);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_default_verify_paths(c) != 1) return err("cannot load the system CA certificates: " + openssl_error());
  if (!extra_ca.empty() && SSL_CTX_load_verify_locations(c, extra_ca.c_str(), nullptr) != 1)
    return err(fmt::format("cannot load CA certificates from {}: {}", extra_ca, openssl_error()));
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_dane_enable(c) <= 0) return err("cannot enable DANE: " + openssl_error());
  return ctx;
}

TlsSummary summarize(SSL* ssl) {
  TlsSummary s;
  if (!ssl) return s;  // a test stream that only pretends to be TLS
  s.version = SSL_get_version(ssl);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (cipher) {
    s.cipher = SSL_CIPHER_get_name(cipher);
    s.bits = SSL_CIPHER_get_bits(cipher, nullptr);
  }
  return s;
}

}  // namespace mk::net
