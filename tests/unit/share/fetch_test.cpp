// The SSRF-safe fetch of "share a link" (share/fetch.hpp) against a web server on loopback
// and a mock resolver: what it refuses before connecting, redirects, caps and the deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "await.hpp"
#include "dns/mock.hpp"
#include "share/fetch.hpp"

namespace mk::share {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

TEST(FetchPolicy, RefusesEveryInternalAddressByDefault) {
  FetchPolicy p;
  for (const char* a : {"127.0.0.1", "127.255.0.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",
                        "169.254.169.254", "224.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1",
                        "fd00:ec2::254", "fc00::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1",
                        "2001:db8::1", "ff02::1"})
    EXPECT_NE(refused_address(ip(a), p), "") << a;
  for (const char* a : {"8.8.8.8", "93.184.216.34", "11.0.0.80", "2606:4700::1111"}) EXPECT_EQ(refused_address(ip(a), p), "") << a;
  EXPECT_EQ(refused_address(ip("169.254.169.254"), p), "a link-local address (cloud metadata services live there)");
  EXPECT_EQ(refused_address(ip("::ffff:127.0.0.1"), p), "a loopback address");
}

TEST(FetchPolicy, TheAllowListLetsExactlyItsNetworksThrough) {
  FetchPolicy p;
  p.allow.push_back(*IpNetwork::parse("127.0.0.1/32"));
  p.own.push_back(ip("11.0.0.80"));
  EXPECT_EQ(refused_address(ip("127.0.0.1"), p), "");
  EXPECT_NE(refused_address(ip("127.0.0.2"), p), "");
  EXPECT_NE(refused_address(ip("::1"), p), "");
  EXPECT_EQ(refused_address(ip("11.0.0.80"), p), "this server's own address");
  EXPECT_TRUE(port_allowed(80) && port_allowed(443) && port_allowed(1024) && port_allowed(8080));
  EXPECT_FALSE(port_allowed(25) || port_allowed(22) || port_allowed(6) || port_allowed(1023));
}

// A web server on 127.0.0.1 answering each path with a canned response ("" : never answers).
class Site {
 public:
  Site() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Site() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void on(std::string path, std::string response) { routes_[std::move(path)] = std::move(response); }
  int requests() const { return requests_; }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto sock = std::make_shared<tcp::socket>(std::move(s));
      auto buf = std::make_shared<asio::streambuf>();
      asio::async_read_until(*sock, *buf, "\r\n\r\n", [this, sock, buf](boost::system::error_code rec, std::size_t) {
        if (rec) return;
        ++requests_;
        std::string head(asio::buffers_begin(buf->data()), asio::buffers_end(buf->data()));
        const std::string path = head.substr(4, head.find(' ', 4) - 4);
        auto it = routes_.find(path);
        const std::string out = it == routes_.end() ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" : it->second;
        if (out.empty()) {
          held_.push_back(sock);  // never answered
          return;
        }
        auto data = std::make_shared<std::string>(out);
        asio::async_write(*sock, asio::buffer(*data), [sock, data](boost::system::error_code, std::size_t) {
          boost::system::error_code ignored;
          sock->shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
      accept();
    });
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::map<std::string, std::string> routes_;
  std::vector<std::shared_ptr<tcp::socket>> held_;
  std::atomic<int> requests_{0};
};

std::string page(std::string body, std::string type = "text/html; charset=utf-8", std::string extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra + "\r\n" + body;
}
std::string redirect(std::string to, int status = 302) {
  return "HTTP/1.1 " + std::to_string(status) + " Moved\r\nLocation: " + to + "\r\nContent-Length: 0\r\n\r\n";
}

class FetchTest : public ::testing::Test {
 protected:
  FetchTest() {
    dns_.add_address("site.example", "127.0.0.1");
    dns_.add_address("mixed.example", "127.0.0.1");
    dns_.add_address("mixed.example", "10.0.0.1");
    dns_.add_address("inside.example", "127.0.0.2");
    dns_.add_cname("alias.example", "inside.example");
    dns_.add_address("mapped.example", "::ffff:127.0.0.2");  // an IPv4-mapped AAAA answer
    allow_.allow.push_back(*IpNetwork::parse("127.0.0.1/32"));
    site_.on("/page", page("<title>hello</title>"));
    site_.on("/r1", redirect("/r2", 301));
    site_.on("/r2", redirect("http://site.example:" + std::to_string(site_.port()) + "/page", 307));
    site_.on("/loop", redirect("/loop"));
    site_.on("/to-loopback", redirect("http://127.0.0.2:" + std::to_string(site_.port()) + "/page"));
    site_.on("/to-v6", redirect("http://[::1]:" + std::to_string(site_.port()) + "/page"));
    site_.on("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"));
    site_.on("/to-decimal", redirect("http://2130706434:" + std::to_string(site_.port()) + "/page"));
    site_.on("/to-file", redirect("file:///etc/passwd"));
    site_.on("/big", page(std::string(100000, 'x')));
    site_.on("/liar", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000000000\r\n\r\n" +
                          std::string(5000, 'y'));
    site_.on("/chunked", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    site_.on("/gzip", page("\x1f\x8b", "text/html", "Content-Encoding: gzip\r\n"));
    site_.on("/hang", "");
    site_.on("/exact", page(std::string(1000, 'e')));
    site_.on("/fat-header", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Pad: " + std::string(40000, 'p') +
                                "\r\nContent-Length: 2\r\n\r\nok");
  }

  Result<Fetched> get(const FetchPolicy& policy, const std::string& url, std::size_t cap = 1 << 20,
                      std::chrono::milliseconds budget = 5000ms) {
    auto tls = net::make_client_tls();
    EXPECT_TRUE(tls);
    Fetcher f(dns_, *tls, policy);
    auto parsed = parse_web_url(url);
    EXPECT_TRUE(parsed) << url;
    return test::await(f.get(*parsed, cap, std::chrono::steady_clock::now() + budget));
  }
  std::string at(const std::string& path, const char* host = "site.example") {
    return "http://" + std::string(host) + ":" + std::to_string(site_.port()) + path;
  }

  dns::MockLookup dns_;
  Site site_;
  FetchPolicy allow_;
};

TEST_F(FetchTest, TheDefaultRefusesLoopbackBeforeConnecting) {
  auto r = get(FetchPolicy{}, at("/page"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "refused: site.example resolves to a loopback address");
  EXPECT_FALSE(get(FetchPolicy{}, at("/page", "127.0.0.1")));
  EXPECT_FALSE(get(FetchPolicy{}, at("/page", "2130706433")));
  EXPECT_EQ(site_.requests(), 0);
}

TEST_F(FetchTest, AnAllowedSiteIsFetchedAndRedirectsFollowed) {
  auto r = get(allow_, at("/page"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "text/html");
  EXPECT_EQ(r->charset, "utf-8");
  EXPECT_EQ(r->body, "<title>hello</title>");
  auto via = get(allow_, at("/r1"));
  ASSERT_TRUE(via) << via.error().message;
  EXPECT_EQ(via->redirects, 2);
  EXPECT_EQ(via->url.path, "/page");
  auto loop = get(allow_, at("/loop"));
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().message, "more than 5 redirects");
  auto missing = get(allow_, at("/nothing"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos);
}

TEST_F(FetchTest, EveryRedirectAndEveryAnswerIsCheckedAgain) {
  const int before = site_.requests();
  for (const char* path : {"/to-loopback", "/to-v6", "/to-metadata", "/to-decimal"}) {
    auto r = get(allow_, at(path));
    ASSERT_FALSE(r) << path;
    EXPECT_TRUE(r.error().message.starts_with("refused: ")) << path << ": " << r.error().message;
  }
  EXPECT_FALSE(get(allow_, at("/to-file")));
  EXPECT_EQ(site_.requests(), before + 5);  // the redirecting requests only, never their targets
  // A name with one allowed and one internal address, and a CNAME to an internal name.
  auto mixed = get(allow_, at("/page", "mixed.example"));
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().message, "refused: mixed.example resolves to a private address");  // no address shown
  auto mapped = get(allow_, at("/page", "mapped.example"));
  ASSERT_FALSE(mapped);
  EXPECT_EQ(mapped.error().message, "refused: mapped.example resolves to a loopback address");
  EXPECT_FALSE(get(allow_, at("/page", "alias.example")));
  EXPECT_FALSE(get(allow_, "http://site.example:25/"));
  EXPECT_EQ(site_.requests(), before + 5);
}

TEST_F(FetchTest, BodiesStopAtTheCap) {
  auto big = get(allow_, at("/big"), 1000);
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_TRUE(big->truncated);
  EXPECT_EQ(big->body, std::string(1000, 'x'));
  // A Content-Length of a terabyte is not believed (nothing is reserved for it).
  auto liar = get(allow_, at("/liar"), 2000);
  ASSERT_TRUE(liar) << liar.error().message;
  EXPECT_TRUE(liar->truncated);
  EXPECT_EQ(liar->body.size(), 2000u);
  auto chunked = get(allow_, at("/chunked"));
  ASSERT_TRUE(chunked) << chunked.error().message;
  EXPECT_EQ(chunked->body, "hello world");
  EXPECT_FALSE(chunked->truncated);
  EXPECT_FALSE(get(allow_, at("/gzip")));
  auto exact = get(allow_, at("/exact"), 1000);  // exactly the cap: whole, not cut
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_FALSE(exact->truncated);
  EXPECT_EQ(exact->body.size(), 1000u);
  EXPECT_FALSE(get(allow_, at("/fat-header")));  // a header over 32 KiB
}

TEST_F(FetchTest, OneDeadlineCoversTheWholeFetch) {
  const auto started = std::chrono::steady_clock::now();
  auto r = get(allow_, at("/hang"), 1000, 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("did not answer in time"), std::string::npos) << r.error().message;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 30s);  // a hang guard
}

}  // namespace
}  // namespace mk::share
