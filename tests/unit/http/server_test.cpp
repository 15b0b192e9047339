// http::Server's connection loop over in-memory streams: keep-alive and pipelining, HEAD,
// 100-continue, and every limit (header size, body size, the slow header, the idle wait, the
// requests per connection) answered with its status and the connection closed; the access
// log names the path and never the query.
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "log_capture.hpp"
#include "memory_stream.hpp"

namespace mk::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class HttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "http-server-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    capture_.emplace(dir_ + ".log");
    ASSERT_TRUE(capture_->ok());
    // On both ports, so the loop's behaviour is the same over either; /secure is HTTPS only.
    router_.add({"GET"}, "/hello", [](const Request& r) {
      return Response::text(200, "hello " + r.param("name").value_or("nobody") + (r.tls ? " over tls" : "") + "\n");
    }, Over::both);
    router_.add({"POST"}, "/echo", [](const Request& r) { return Response::text(200, r.body); }, Over::both);
    router_.add({"GET"}, "/bug", [](const Request&) -> Response { throw std::runtime_error("handler bug"); }, Over::both);
    router_.add({"GET"}, "/secure", [](const Request&) { return Response::text(200, "secret\n"); });
    cfg_.header_timeout = 5s;
    cfg_.idle_timeout = 5s;
    cfg_.request_timeout = 5s;
  }
  void TearDown() override {
    server_.reset();
    capture_.reset();
    ::unlink((dir_ + ".log").c_str());
  }
  Server& server() {
    if (!server_) server_ = std::make_unique<Server>(io_, cfg_, router_, tls_, capture_->logger());
    return *server_;
  }
  test::MemoryStream& connect(bool tls = false) {
    return clients_.connect([&, tls](std::shared_ptr<net::Conn> c) { return server().serve(c, tls); });
  }
  void run(std::function<asio::awaitable<void>()> client) { clients_.run(std::move(client)); }
  // One whole response: the header, then the content (every test handler's ends in its
  // only newline).
  static asio::awaitable<std::string> response(test::MemoryStream& c) {
    std::string head = co_await c.expect("\r\n\r\n");
    const auto at = head.find("Content-Length: ");
    if (at == std::string::npos || head.compare(at + 16, 2, "0\r") == 0) co_return head;
    co_return head + co_await c.expect("\n");
  }
  std::string log_text() { return capture_->text(); }

  std::string dir_;
  asio::io_context io_;
  Router router_{"mail.example.org", [](std::string_view h) { return h == "mail.example.org"; }};
  ServerConfig cfg_;
  std::shared_ptr<net::TlsContext> tls_ = std::make_shared<net::TlsContext>(asio::ssl::context::tls_server);
  std::unique_ptr<Server> server_;
  test::MemoryClients clients_{io_};
  std::optional<test::LogCapture> capture_;
};

TEST_F(HttpServer, KeepAliveServesPipelinedRequestsInOrder) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect(true);
    c.send("GET /hello?name=ann&token=s3cret HTTP/1.1\r\nHost: mail.example.org\r\n\r\n"
           "GET /hello?name=bob HTTP/1.1\r\nHost: mail.example.org\r\n\r\n");
    const std::string first = co_await response(c);
    EXPECT_TRUE(first.starts_with("HTTP/1.1 200 OK\r\n")) << first;
    EXPECT_TRUE(first.ends_with("\r\n\r\nhello ann over tls\n")) << first;
    EXPECT_NE(first.find("\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(first.find("\r\nStrict-Transport-Security: max-age=31536000\r\n"), std::string::npos);
    EXPECT_NE(first.find("\r\nContent-Security-Policy: default-src 'none'"), std::string::npos);
    EXPECT_EQ(first.find("Connection: close"), std::string::npos);
    const std::string second = co_await response(c);
    EXPECT_TRUE(second.ends_with("\r\n\r\nhello bob over tls\n")) << second;
    EXPECT_FALSE(c.shut_down());
  });
  const std::string log = log_text();
  EXPECT_NE(log.find("event=http.request"), std::string::npos) << log;
  EXPECT_NE(log.find("path=/hello status=200"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << "the query reached the log: " << log;
}

TEST_F(HttpServer, HeadAnswersAsGetWithoutTheContent) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("HEAD /hello HTTP/1.1\r\nHost: mail.example.org\r\nConnection: close\r\n\r\n");
    const std::string got = co_await c.expect("\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
    EXPECT_NE(got.find("\r\nContent-Length: 13\r\n"), std::string::npos) << got;  // "hello nobody\n"
    EXPECT_NE(got.find("\r\nConnection: close\r\n"), std::string::npos) << got;
    EXPECT_EQ(got.find("Strict-Transport-Security"), std::string::npos) << "HSTS over plain HTTP";
    EXPECT_TRUE(co_await c.expect_shutdown());
    EXPECT_EQ(c.take(), "");
  });
}

TEST_F(HttpServer, ABodyIsReadAfter100Continue) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect(true);
    c.send("POST /echo HTTP/1.1\r\nHost: mail.example.org\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(co_await c.expect("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
    c.send("hello");
    const std::string got = co_await c.expect("hello");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  });
}

TEST_F(HttpServer, AnOversizedHeaderGets431AndTheConnectionCloses) {
  cfg_.max_header_size = 1024;
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("GET /hello HTTP/1.1\r\nHost: mail.example.org\r\nX-Filler: " + std::string(2000, 'a') + "\r\n\r\n");
    const std::string got = co_await c.expect("\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
}

TEST_F(HttpServer, AnOversizedBodyGets413BeforeItIsRead) {
  cfg_.max_body_size = 1024;
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    // Only the header is sent: the length alone is refused, nothing waits for the body.
    c.send("POST /echo HTTP/1.1\r\nHost: mail.example.org\r\nContent-Length: 5000000\r\n\r\n");
    const std::string got = co_await c.expect("\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 413 Content Too Large\r\n")) << got;
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
}

TEST_F(HttpServer, MalformedRequestsGet400) {
  const std::vector<std::string> bad = {
      "GET /hello HTTP/1.1\r\nHost mail.example.org\r\n\r\n",  // no colon
      "GET /hello HTTP/1.1\r\n\r\n",                            // 1.1 without Host
      "GET http://mail.example.org/hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\n",  // a proxy's form
      "GET /hello HTTP/1.1\r\nHost: mail.example.org\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // TLS on the plain port
      // RFC 9112 §6: framing a proxy and this server could read differently (smuggling).
      "POST /echo HTTP/1.1\r\nHost: mail.example.org\r\nTransfer-Encoding: gzip\r\n\r\n"
      "GET /hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: mail.example.org\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: mail.example.org\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
      "0\r\n\r\n",
      "GET /hello HTTP/1.1\r\nHost: mail.example.org\r\nHost: evil.example\r\n\r\n"};
  run([&]() -> asio::awaitable<void> {
    for (const auto& request : bad) {
      auto& c = connect();
      c.send(request);
      const std::string got = co_await c.expect("\r\n\r\n");
      EXPECT_TRUE(got.starts_with("HTTP/1.1 400 Bad Request\r\n")) << testing::PrintToString(request) << " -> " << got;
      EXPECT_TRUE(co_await c.expect_shutdown());
      EXPECT_EQ(c.output().find("hello"), std::string::npos) << "a second request was answered";
    }
  });
}

TEST_F(HttpServer, AHeaderTooSlowToArriveGets408) {
  cfg_.header_timeout = 300ms;
  Clock::time_point sent;
  Clock::duration waited{};
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    sent = Clock::now();
    c.send("GET /hello HTTP/1.1\r\nHost: mail.ex");  // and nothing more
    const std::string got = co_await c.expect("\r\n\r\n");
    waited = Clock::now() - sent;
    EXPECT_TRUE(got.starts_with("HTTP/1.1 408 Request Timeout\r\n")) << got;
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
  EXPECT_GE(waited, 300ms);  // the server's bound, from below only
  EXPECT_NE(log_text().find("status=408"), std::string::npos);
}

TEST_F(HttpServer, AnIdleKeptAliveConnectionIsClosedQuietly) {
  cfg_.idle_timeout = 200ms;
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("GET /hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\n");
    (void)co_await response(c);
    EXPECT_TRUE(co_await c.expect_shutdown());
    EXPECT_EQ(c.take(), "");  // no 408 to a client that asked nothing
  });
}

TEST_F(HttpServer, TheLastRequestAllowedOnAConnectionSaysClose) {
  cfg_.max_requests_per_connection = 2;
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("GET /hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\nGET /hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\n");
    const std::string first = co_await response(c);
    EXPECT_EQ(first.find("Connection: close"), std::string::npos) << first;
    const std::string second = co_await response(c);
    EXPECT_NE(second.find("\r\nConnection: close\r\n"), std::string::npos) << second;
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
}

TEST_F(HttpServer, Http10ClosesUnlessAskedToKeepAlive) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string kept = co_await response(c);
    EXPECT_TRUE(kept.starts_with("HTTP/1.0 200 OK\r\n")) << kept;
    EXPECT_NE(kept.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << kept;
    c.send("GET /hello HTTP/1.0\r\n\r\n");
    const std::string closed = co_await response(c);
    EXPECT_NE(closed.find("\r\nConnection: close\r\n"), std::string::npos) << closed;
    EXPECT_TRUE(co_await c.expect_shutdown());
  });
}

TEST_F(HttpServer, AFailingHandlerGets500AndTheServerGoesOn) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("GET /bug HTTP/1.1\r\nHost: mail.example.org\r\n\r\n");
    const std::string got = co_await c.expect("\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 500 Internal Server Error\r\n")) << got;
    EXPECT_TRUE(co_await c.expect_shutdown());
    auto& d = connect();
    d.send("GET /hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\n");
    EXPECT_TRUE((co_await response(d)).starts_with("HTTP/1.1 200 OK\r\n"));
  });
  EXPECT_NE(log_text().find("event=http.handler_failed"), std::string::npos);
}

TEST_F(HttpServer, AFailedHandshakeEndsTheConnectionSilently) {
  // Set up before the connection starts: its handshake runs as soon as it is spawned.
  auto mc = test::memory_conn(io_.get_executor());
  mc.peer->fail_tls();
  test::spawn_conn(io_.get_executor(), mc, server().serve(mc.conn, true));
  run([&]() -> asio::awaitable<void> {
    mc.peer->send("GET /hello HTTP/1.1\r\nHost: mail.example.org\r\n\r\n");
    EXPECT_TRUE(co_await mc.peer->expect_closed());
    EXPECT_EQ(mc.peer->take(), "");
  });
  EXPECT_TRUE(mc.done);
  EXPECT_NE(log_text().find("event=http.tls_failed"), std::string::npos);
}

TEST_F(HttpServer, ThePlainPortRedirectsToHttps) {
  run([&]() -> asio::awaitable<void> {
    auto& c = connect();
    c.send("GET /secure?name=x HTTP/1.1\r\nHost: mail.example.org:80\r\n\r\n");
    const std::string got = co_await response(c);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 301 Moved Permanently\r\n")) << got;
    EXPECT_NE(got.find("\r\nLocation: https://mail.example.org/secure?name=x\r\n"), std::string::npos) << got;
    EXPECT_EQ(got.find("secret"), std::string::npos);
  });
}

TEST(HttpSerialize, TheResponseIsExactlyItsFields) {
  Response r = Response::text(404, "gone\n");
  r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=y");
  const std::string s = serialize(r, false, true, false, 1);
  const auto date = s.find("Date: ");
  ASSERT_NE(date, std::string::npos);
  const std::string rest = s.substr(s.find("\r\n", date) + 2);
  EXPECT_EQ(s.substr(0, date), "HTTP/1.1 404 Not Found\r\n");
  EXPECT_EQ(rest,
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Frame-Options: DENY\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "Cross-Origin-Opener-Policy: same-origin\r\n"
            "Cross-Origin-Resource-Policy: same-origin\r\n"
            "X-Evil: a  Set-Cookie: x=y\r\n"  // no header splitting
            "\r\n"
            "gone\n");
}

}  // namespace
}  // namespace mk::http
