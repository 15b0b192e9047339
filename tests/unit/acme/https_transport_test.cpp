// Tests of acme/https_transport.hpp against a server in the same process on 127.0.0.1: the
// reply's fields as the client reads them, the request as the server saw it, the body limit,
// the deadline, and certificate verification (trusted CA file, wrong name, untrusted).
#include "acme/https_transport.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "net/selfsigned.hpp"
#include "net/tls.hpp"

namespace mk::acme {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// One connection: reads a request into `seen`, then writes `raw` (a whole HTTP response)
// unless `silent`, in which case it holds the connection open until the client gives up.
struct Server {
  explicit Server(asio::io_context& io, std::shared_ptr<net::TlsContext> tls = {})
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), tls_(std::move(tls)) {
    asio::co_spawn(io, run(), asio::detached);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  template <class Stream>
  asio::awaitable<void> exchange(Stream& s) {
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(s, buf, req, kTuple);
    if (ec) co_return;
    seen = req;
    if (silent) {
      char c;
      co_await s.async_read_some(asio::buffer(&c, 1), kTuple);
      co_return;
    }
    co_await asio::async_write(s, asio::buffer(raw), kTuple);
  }

  asio::awaitable<void> run() {
    auto [ec, sock] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    if (tls_) {
      asio::ssl::stream<tcp::socket> s(std::move(sock), *tls_);
      auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::server, kTuple);
      handshake_failed = bool(hec);
      if (!hec) co_await exchange(s);
    } else {
      co_await exchange(sock);
    }
  }

  tcp::acceptor acceptor;
  std::shared_ptr<net::TlsContext> tls_;
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  bool silent = false;
  bool handshake_failed = false;
  http::request<http::string_body> seen;
};

Result<HttpReply> run(asio::io_context& io, HttpsTransport& t, const std::string& method, const std::string& url,
                      const std::string& body = {}) {
  std::optional<Result<HttpReply>> out;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    if (method == "GET") out.emplace(co_await t.get(url));
    else if (method == "HEAD") out.emplace(co_await t.head(url));
    else out.emplace(co_await t.post(url, body));
  }, asio::detached);
  io.run();
  io.restart();
  return std::move(*out);
}

std::unique_ptr<HttpsTransport> transport(HttpsSettings s = {}) {
  auto t = HttpsTransport::create(std::move(s));
  EXPECT_TRUE(t) << t.error().message;
  return std::move(*t);
}

TEST(HttpsTransport, ReadsTheFieldsAcmeUsesAndSendsJoseJson) {
  asio::io_context io;
  Server srv(io);
  srv.raw =
      "HTTP/1.1 201 Created\r\nContent-Type: Application/JSON; charset=utf-8\r\nLocation: https://ca/acct/1\r\n"
      "Replay-Nonce: bm9uY2U\r\nRetry-After: 7\r\nLink: <https://ca/dir>;rel=\"index\"\r\n"
      "Link: <https://ca/tos>;rel=\"terms-of-service\"\r\nContent-Length: 2\r\n\r\n{}";
  auto t = transport();
  auto r = run(io, *t, "POST", "http://127.0.0.1:" + std::to_string(srv.port()) + "/acct?x=1", R"({"a":1})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(r->location, "https://ca/acct/1");
  EXPECT_EQ(r->replay_nonce, "bm9uY2U");
  EXPECT_EQ(r->retry_after, std::chrono::seconds(7));
  EXPECT_EQ(r->links, (std::vector<std::string>{"<https://ca/dir>;rel=\"index\"",
                                                "<https://ca/tos>;rel=\"terms-of-service\""}));
  EXPECT_EQ(r->body, "{}");
  EXPECT_EQ(srv.seen.method(), http::verb::post);
  EXPECT_EQ(srv.seen.target(), "/acct?x=1");
  EXPECT_EQ(srv.seen[http::field::content_type], "application/jose+json");
  EXPECT_EQ(srv.seen[http::field::user_agent], "mailkeep");
  EXPECT_EQ(srv.seen[http::field::host], "127.0.0.1:" + std::to_string(srv.port()));
  EXPECT_EQ(srv.seen.body(), R"({"a":1})");
}

TEST(HttpsTransport, HeadIgnoresTheContentLength) {
  asio::io_context io;
  Server srv(io);
  srv.raw = "HTTP/1.1 200 OK\r\nReplay-Nonce: abc\r\nContent-Length: 100\r\n\r\n";
  auto t = transport();
  auto r = run(io, *t, "HEAD", "http://127.0.0.1:" + std::to_string(srv.port()) + "/nonce");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->replay_nonce, "abc");
  EXPECT_EQ(srv.seen.method(), http::verb::head);
}

TEST(HttpsTransport, RefusesABodyOverTheLimit) {
  asio::io_context io;
  Server srv(io);
  srv.raw = "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x');
  HttpsSettings s;
  s.max_body = 1000;
  auto t = transport(s);
  auto r = run(io, *t, "GET", "http://127.0.0.1:" + std::to_string(srv.port()) + "/dir");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("larger than 1000 bytes"), std::string::npos) << r.error().message;
}

TEST(HttpsTransport, GivesUpAtTheDeadline) {
  asio::io_context io;
  Server srv(io);
  srv.silent = true;
  HttpsSettings s;
  s.timeout = std::chrono::milliseconds(200);
  auto t = transport(s);
  auto r = run(io, *t, "GET", "http://127.0.0.1:" + std::to_string(srv.port()) + "/dir");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("reading the response"), std::string::npos) << r.error().message;
}

TEST(HttpsTransport, RefusesPlainHttpBeyondLoopbackAndBadUrls) {
  asio::io_context io;
  auto t = transport();
  struct Case {
    std::string url, error;
  } cases[] = {
      {"http://acme-v02.api.letsencrypt.org/directory", "plain http:// is refused except to loopback hosts"},
      {"http://192.0.2.1/directory", "plain http:// is refused except to loopback hosts"},
      {"ftp://127.0.0.1/", "URL is not http(s)"},
      {"https://user@127.0.0.1/", "URL has userinfo"},
  };
  for (const auto& c : cases) {
    auto r = run(io, *t, "GET", c.url);
    ASSERT_FALSE(r) << c.url;
    EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
  }
}

// TLS: a server certificate for the given names; the client trusts it through ca_file or not.
struct TlsCase {
  std::vector<std::string> dns, ips;
  bool trust;
  std::string host;  // what the URL names
  std::string error;  // "" when the exchange must succeed
};

TEST(HttpsTransport, VerifiesTheCertificateAndItsName) {
  const std::string dir = ::testing::TempDir() + "acme_tls_" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0700);
  const TlsCase cases[] = {
      {{"localhost"}, {"127.0.0.1"}, true, "127.0.0.1", ""},
      {{"localhost"}, {}, true, "localhost", ""},
      {{"other.example"}, {}, true, "127.0.0.1", "TLS handshake"},  // the address is not named
      {{"localhost"}, {"127.0.0.1"}, false, "127.0.0.1", "TLS handshake"},  // not trusted
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string cert = dir + "/c" + std::to_string(++n) + ".pem", key = dir + "/k" + std::to_string(n) + ".pem";
    ASSERT_TRUE(net::write_self_signed(cert, key, c.dns, c.ips));
    auto server_tls = net::make_server_tls(cert, key, net::TlsMin::tls12);
    ASSERT_TRUE(server_tls) << server_tls.error().message;
    asio::io_context io;
    Server srv(io, *server_tls);
    srv.raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    HttpsSettings s;
    if (c.trust) s.ca_file = cert;
    s.timeout = std::chrono::seconds(10);
    auto t = transport(s);
    auto r = run(io, *t, "GET", "https://" + c.host + ":" + std::to_string(srv.port()) + "/dir");
    if (c.error.empty()) {
      ASSERT_TRUE(r) << c.host << ": " << r.error().message;
      EXPECT_EQ(r->body, "hello");
      EXPECT_EQ(srv.seen[http::field::host], c.host + ":" + std::to_string(srv.port()));
    } else {
      ASSERT_FALSE(r) << c.host;
      EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
      EXPECT_EQ(srv.seen.method(), http::verb::unknown);  // no request got through
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mk::acme
