// mk-test-acme-issue: runs mailkeep's ACME client (acme/client.hpp) with the real HTTPS
// transport against a CA, answering HTTP-01 from a tiny HTTP listener of its own on
// 127.0.0.1:PORT, or TLS-ALPN-01 (RFC 8737) from a TLS listener on 127.0.0.1:TLS-PORT that
// serves acme::tls_alpn01_certificate() to clients offering ALPN "acme-tls/1", so that an
// integration test can get a certificate from pebble. Writes the chain and the new
// certificate key; on failure prints "acme failed: KIND: MESSAGE" to stderr and exits 1.
// Exits 4 when a challenge answer is still served after issue() returned.
// usage: mk-test-acme-issue --directory URL --http-port PORT [--tls-port PORT
//        --challenge tls-alpn-01] [--ca-file PEM] [--chain-out F] [--key-out F]
//        [--account-key F] [--contact URL] [--timeout SECONDS] NAME...
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "acme/client.hpp"
#include "acme/https_transport.hpp"
#include "acme/x509.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kPrefix = "/.well-known/acme-challenge/";

class MapResponder final : public mk::acme::Responder {
 public:
  void put_http01(const std::string& token, const std::string& ka) override { http01[token] = ka; }
  void remove_http01(const std::string& token) override { http01.erase(token); }
  // RFC 8737 §3: the certificate the TLS listener serves for `name`.
  void put_tls_alpn01(const std::string& name, const std::string& ka) override {
    auto cc = mk::acme::tls_alpn01_certificate(name, ka);
    if (!cc) std::fprintf(stderr, "acme-issue: %s\n", cc.error().message.c_str());
    else alpn[name] = std::move(*cc);
  }
  void remove_tls_alpn01(const std::string& name) override { alpn.erase(name); }
  std::map<std::string, std::string> http01;
  std::map<std::string, mk::acme::ChallengeCertificate> alpn;
};

// One request per connection: GET /.well-known/acme-challenge/TOKEN.
asio::awaitable<void> answer(tcp::socket socket, const MapResponder& responder) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(10));
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  auto [rec, rn] = co_await http::async_read(stream, buffer, req, kTuple);
  if (rec) co_return;
  http::response<http::string_body> res{http::status::not_found, req.version()};
  const std::string target(req.target());
  if (target.compare(0, kPrefix.size(), kPrefix) == 0) {
    auto it = responder.http01.find(target.substr(kPrefix.size()));
    if (it != responder.http01.end()) {
      res.result(http::status::ok);
      res.body() = it->second;
    }
  }
  std::fprintf(stderr, "acme-issue: %s %s -> %d\n", std::string(req.method_string()).c_str(), target.c_str(),
               res.result_int());
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(false);
  res.prepare_payload();
  co_await http::async_write(stream, res, kTuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

// RFC 8737 §4: only clients that offer "acme-tls/1" get the challenge certificate.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  static const unsigned char kProto[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kProto, sizeof kProto, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// The certificate for the SNI name, from what the client put into the responder.
int select_certificate(SSL* ssl, int*, void* arg) {
  const auto* responder = static_cast<const MapResponder*>(arg);
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  auto it = sni ? responder->alpn.find(sni) : responder->alpn.end();
  std::fprintf(stderr, "acme-issue: TLS-ALPN-01 hello for %s -> %s\n", sni ? sni : "(no SNI)",
               it == responder->alpn.end() ? "refused" : "served");
  if (it == responder->alpn.end()) return SSL_TLSEXT_ERR_ALERT_FATAL;
  BIO* cb = BIO_new_mem_buf(it->second.cert_pem.data(), static_cast<int>(it->second.cert_pem.size()));
  BIO* kb = BIO_new_mem_buf(it->second.key_pem.data(), static_cast<int>(it->second.key_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  const bool ok = cert && key && SSL_use_certificate(ssl, cert) == 1 && SSL_use_PrivateKey(ssl, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  return ok ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL;
}

asio::awaitable<void> handshake(tcp::socket socket, asio::ssl::context& ctx) {
  asio::ssl::stream<tcp::socket> tls(std::move(socket), ctx);
  asio::steady_timer guard(tls.get_executor(), std::chrono::seconds(10));
  guard.async_wait([&tls](boost::system::error_code ec) {
    if (!ec) tls.lowest_layer().cancel();
  });
  auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (!ec) co_await tls.async_shutdown(kTuple);
  guard.cancel();
}

asio::awaitable<void> serve_tls(tcp::acceptor& acceptor, asio::ssl::context& ctx) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), handshake(std::move(socket), ctx), asio::detached);
  }
}

asio::awaitable<void> serve(tcp::acceptor& acceptor, const MapResponder& responder) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), answer(std::move(socket), responder), asio::detached);
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::trunc);
  f << data;
  return bool(f);
}

}  // namespace

int main(int argc, char** argv) {
  std::string directory, ca_file, chain_out, key_out, account_key_file, contact, challenge = "http-01";
  int http_port = 0, tls_port = 0, timeout = 120;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--directory") directory = value();
    else if (a == "--ca-file") ca_file = value();
    else if (a == "--chain-out") chain_out = value();
    else if (a == "--key-out") key_out = value();
    else if (a == "--account-key") account_key_file = value();
    else if (a == "--contact") contact = value();
    else if (a == "--http-port") http_port = std::atoi(value().c_str());
    else if (a == "--tls-port") tls_port = std::atoi(value().c_str());
    else if (a == "--challenge") challenge = value();
    else if (a == "--timeout") timeout = std::atoi(value().c_str());
    else names.push_back(a);
  }
  const bool alpn = challenge == "tls-alpn-01";
  if (directory.empty() || http_port <= 0 || names.empty() || (alpn && tls_port <= 0) ||
      (!alpn && challenge != "http-01")) {
    std::fprintf(stderr, "usage: %s --directory URL --http-port PORT [--tls-port PORT --challenge tls-alpn-01] "
                         "[--ca-file PEM] [--chain-out F] [--key-out F] [--account-key F] [--contact URL] "
                         "[--timeout SECONDS] NAME...\n", argv[0]);
    return 2;
  }
  std::string account_key = account_key_file.empty() ? std::string() : slurp(account_key_file);
  if (account_key.empty()) {
    account_key = *mk::acme::new_p256_key_pem();
    if (!account_key_file.empty()) write_file(account_key_file, account_key);
  }
  auto cert_key = mk::acme::new_p256_key_pem();
  if (!cert_key) return 3;

  asio::io_context io;
  MapResponder responder;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(http_port)));
  asio::co_spawn(io, serve(acceptor, responder), asio::detached);
  // RFC 8737 §3: TLS 1.2 or later.
  asio::ssl::context tls_ctx(asio::ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(tls_ctx.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_alpn_select_cb(tls_ctx.native_handle(), select_alpn, nullptr);
  SSL_CTX_set_tlsext_servername_callback(tls_ctx.native_handle(), select_certificate);
  SSL_CTX_set_tlsext_servername_arg(tls_ctx.native_handle(), &responder);
  tcp::acceptor tls_acceptor(io);
  if (alpn) {
    tls_acceptor = tcp::acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(tls_port)));
    asio::co_spawn(io, serve_tls(tls_acceptor, tls_ctx), asio::detached);
  }

  mk::acme::HttpsSettings hs;
  hs.ca_file = ca_file;
  auto transport = mk::acme::HttpsTransport::create(hs);
  if (!transport) {
    std::fprintf(stderr, "acme-issue: %s\n", transport.error().message.c_str());
    return 3;
  }
  mk::log::Logger logger(std::make_shared<mk::log::Sink>(2, mk::log::Format::kv, mk::log::Level::debug));
  mk::acme::Settings settings;
  settings.poll_interval = std::chrono::milliseconds(500);
  mk::acme::Client client(**transport, directory, account_key, contact.empty() ? std::vector<std::string>{}
                                                                              : std::vector<std::string>{contact},
                          logger, settings);

  // Hang guard: the whole run.
  asio::steady_timer guard(io, std::chrono::seconds(timeout));
  guard.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      std::fprintf(stderr, "acme-issue: no result within %d s\n", timeout);
      std::_Exit(3);
    }
  });
  int status = 3;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto result = co_await client.issue(names, *cert_key, responder,
                                            alpn ? mk::acme::ChallengeType::tls_alpn01 : mk::acme::ChallengeType::http01);
        if (auto* f = std::get_if<mk::acme::Failure>(&result)) {
          std::fprintf(stderr, "acme failed: %s: %s\n", std::string(mk::acme::kind_name(f->kind)).c_str(),
                       f->message.c_str());
          status = 1;
        } else {
          const auto& issued = std::get<mk::acme::Issued>(result);
          status = 0;
          std::fprintf(stderr, "acme-issue: issued, account %s, not_after %lld\n", client.account_url().c_str(),
                       static_cast<long long>(issued.not_after));
          if (chain_out.empty()) std::cout << issued.chain_pem;
          else if (!write_file(chain_out, issued.chain_pem)) status = 3;
          if (!key_out.empty() && !write_file(key_out, *cert_key)) status = 3;
        }
        if (!responder.http01.empty() || !responder.alpn.empty()) {
          std::fprintf(stderr, "acme-issue: challenge answers still served after issue()\n");
          status = 4;
        }
        guard.cancel();
        acceptor.close();
        boost::system::error_code ignored;
        tls_acceptor.close(ignored);
        co_return;
      },
      asio::detached);
  io.run();
  return status;
}
