// acme/https_transport.cpp: HTTPS requests to the ACME server with Boost.Beast (see
// https_transport.hpp).
#include "acme/https_transport.hpp"

#include <openssl/ssl.h>

#include <ctime>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "base/strings.hpp"
#include "net/tls_verify.hpp"

namespace mk::acme {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The part of an exchange after the connection is up, for TLS and (loopback) plain TCP alike.
template <class Stream>
asio::awaitable<Result<HttpReply>> talk(Stream& stream, const http::request<http::string_body>& req, bool head,
                                        const HttpsSettings& s, const std::string& what) {
  auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
  if (wec) co_return err(fmt::format("{}: sending the request: {}", what, wec.message()));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(s.max_header));
  parser.body_limit(s.max_body);
  parser.skip(head);  // RFC 9110 §9.3.2: a HEAD response has no body whatever it says
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
  if (rec == http::error::body_limit)
    co_return err(fmt::format("{}: the response is larger than {} bytes", what, s.max_body));
  if (rec) co_return err(fmt::format("{}: reading the response: {}", what, rec.message()));
  auto& res = parser.get();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  std::string_view type(res[http::field::content_type].data(), res[http::field::content_type].size());
  reply.content_type = to_lower(trim(type.substr(0, type.find(';'))));
  reply.location = std::string(res[http::field::location]);
  reply.replay_nonce = std::string(trim(std::string_view(res["Replay-Nonce"].data(), res["Replay-Nonce"].size())));
  if (auto ra = res.find(http::field::retry_after); ra != res.end())
    reply.retry_after = parse_retry_after(std::string_view(ra->value().data(), ra->value().size()),
                                          static_cast<std::int64_t>(std::time(nullptr)));
  for (auto range = res.equal_range(http::field::link); range.first != range.second; ++range.first)
    reply.links.emplace_back(range.first->value());
  reply.body = std::move(res.body());
  co_return reply;
}

std::string host_header(const Url& u) {
  std::string h = u.ip_literal && u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != (u.https ? 443 : 80)) h += ":" + std::to_string(u.port);
  return h;
}

}  // namespace

Result<std::unique_ptr<HttpsTransport>> HttpsTransport::create(HttpsSettings settings) {
  auto tls = net::make_client_tls(settings.ca_file);
  if (!tls) return tls.error();
  return std::unique_ptr<HttpsTransport>(new HttpsTransport(std::move(settings), std::move(*tls)));
}

asio::awaitable<Result<HttpReply>> HttpsTransport::get(const std::string& url) {
  return exchange(Method::get, url, {});
}
asio::awaitable<Result<HttpReply>> HttpsTransport::head(const std::string& url) {
  return exchange(Method::head, url, {});
}
asio::awaitable<Result<HttpReply>> HttpsTransport::post(const std::string& url, const std::string& jose_json) {
  return exchange(Method::post, url, jose_json);
}

asio::awaitable<Result<HttpReply>> HttpsTransport::exchange(Method method, std::string url_text,
                                                            std::string body) {
  using namespace asio::experimental::awaitable_operators;
  const char* verb = method == Method::get ? "GET" : method == Method::head ? "HEAD" : "POST";
  const std::string what = fmt::format("{} {}", verb, log_safe(url_text));
  auto url = parse_url(url_text);
  if (!url) co_return url.error();
  // RFC 8555 §6.1: ACME is HTTPS. Plain HTTP only reaches a test server on this machine.
  if (!url->https && !is_loopback_host(*url))
    co_return err(fmt::format("{}: plain http:// is refused except to loopback hosts", what));

  const auto deadline = std::chrono::steady_clock::now() + s_.timeout;
  auto ex = co_await asio::this_coro::executor;

  // Resolve (the system resolver), bounded by the same deadline.
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex, deadline);
  auto resolved = co_await (resolver.async_resolve(url->host, std::to_string(url->port), kTuple) ||
                            timer.async_wait(kTuple));
  if (resolved.index() == 1) co_return err(fmt::format("{}: resolving {} timed out", what, url->host));
  auto [rec, endpoints] = std::get<0>(std::move(resolved));
  if (rec) co_return err(fmt::format("{}: resolving {}: {}", what, url->host, rec.message()));

  http::request<http::string_body> req{method == Method::get    ? http::verb::get
                                       : method == Method::head ? http::verb::head
                                                                : http::verb::post,
                                       url->target, 11};
  req.set(http::field::host, host_header(*url));
  req.set(http::field::user_agent, s_.user_agent);
  req.set(http::field::connection, "close");
  if (method == Method::post) {
    // RFC 8555 §6.2: the only media type a CA accepts for requests.
    req.set(http::field::content_type, "application/jose+json");
    req.body() = std::move(body);
  }
  req.prepare_payload();

  if (!url->https) {
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kTuple);
    if (cec) co_return err(fmt::format("{}: connecting: {}", what, cec.message()));
    auto reply = co_await talk(stream, req, method == Method::head, s_, what);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return reply;
  }

  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls_);
  beast::get_lowest_layer(stream).expires_at(deadline);
  SSL* ssl = stream.native_handle();
  // The handshake itself fails when the chain or the name does not verify.
  if (!net::verify_server(ssl, url->host, url->ip_literal))
    co_return err(fmt::format("{}: cannot check the server's name", what));
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, kTuple);
  if (cec) co_return err(fmt::format("{}: connecting: {}", what, cec.message()));
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (hec) co_return err(fmt::format("{}: TLS handshake: {}", what, net::handshake_failure(ssl, hec)));
  auto reply = co_await talk(stream, req, method == Method::head, s_, what);
  // No close_notify exchange: the response is complete, and "Connection: close" ends it.
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return reply;
}

}  // namespace mk::acme
