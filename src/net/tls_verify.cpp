#include "net/tls_verify.hpp"

#include <openssl/x509_vfy.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

namespace mk::net {

bool verify_server(SSL* ssl, const std::string& host, bool is_address) {
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  if (is_address) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

std::string handshake_failure(SSL* ssl, const boost::system::error_code& ec) {
  if (ec == boost::beast::error::timeout || ec == boost::asio::error::timed_out) return "timed out";
  const long v = SSL_get_verify_result(ssl);
  if (v != X509_V_OK) return ec.message() + " (" + X509_verify_cert_error_string(v) + ")";
  return ec.message();
}

}  // namespace mk::net
