// Tests for http/router.hpp and http/message.hpp: which handler answers, 404/405, HEAD,
// the plain port's redirect that never names a host that is not ours, and the small
// parsers handlers rely on (query parameters, Host).
#include "http/router.hpp"

#include <gtest/gtest.h>

namespace mk::http {
namespace {

Request get(std::string path, bool tls = true, std::string host = "mail.example.org") {
  Request r;
  r.method = "GET";
  const auto q = path.find('?');
  r.path = path.substr(0, q);
  if (q != std::string::npos) r.query = path.substr(q + 1);
  r.tls = tls;
  r.host = std::move(host);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add({"GET"}, "/exact", [](const Request&) { return Response::text(200, "exact"); });
    router_.add({"POST"}, "/exact", [](const Request&) { return Response::text(200, "posted"); });
    router_.add({"GET"}, "/files/", [](const Request& r) { return Response::text(200, "file " + r.path); },
                Over::https, /*prefix=*/true);
    router_.add({"GET"}, "/plain-only", [](const Request&) { return Response::text(200, "plain"); }, Over::http);
    router_.add({"GET"}, "/either", [](const Request& r) { return Response::text(200, r.tls ? "s" : "p"); }, Over::both);
  }
  Router router_{"mail.example.org",
                 [](std::string_view h) { return h == "mail.example.org" || h == "mta-sts.example.org"; }, 8443};
};

TEST_F(RouterTest, ExactAndPrefixRoutes) {
  EXPECT_EQ(router_.route(get("/exact")).body, "exact");
  EXPECT_EQ(router_.route(get("/exact?x=1")).body, "exact");
  EXPECT_EQ(router_.route(get("/files/a/b")).body, "file /files/a/b");
  EXPECT_EQ(router_.route(get("/exact/more")).status, 404);
  EXPECT_EQ(router_.route(get("/files")).status, 404);
  EXPECT_EQ(router_.route(get("/")).status, 404);
}

TEST_F(RouterTest, AKnownPathWithAnotherMethodIs405WithAllow) {
  Request r = get("/exact");
  r.method = "DELETE";
  const Response res = router_.route(r);
  EXPECT_EQ(res.status, 405);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0], (std::pair<std::string, std::string>("Allow", "GET, HEAD, POST")));
  r.method = "POST";
  EXPECT_EQ(router_.route(r).body, "posted");
  r.method = "HEAD";
  EXPECT_EQ(router_.route(r).body, "exact");  // the server drops the content
  r.method = "get";  // methods are case-sensitive (RFC 9110 §9.1)
  EXPECT_EQ(router_.route(r).status, 405);
}

TEST_F(RouterTest, ThePlainPortAnswersItsOwnRoutesAndRedirectsTheRest) {
  EXPECT_EQ(router_.route(get("/plain-only", false)).body, "plain");
  EXPECT_EQ(router_.route(get("/plain-only", true)).status, 404);
  EXPECT_EQ(router_.route(get("/either", false)).body, "p");
  EXPECT_EQ(router_.route(get("/either", true)).body, "s");
  const Response r = router_.route(get("/exact?a=1&b=2", false, "mta-sts.example.org"));
  EXPECT_EQ(r.status, 301);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "https://mta-sts.example.org:8443/exact?a=1&b=2");
  // An unknown path is redirected too (the HTTPS side says 404).
  EXPECT_EQ(router_.route(get("/nothing", false)).status, 301);
}

TEST_F(RouterTest, ARedirectNeverNamesAForeignHost) {
  for (const char* host : {"evil.example", "", "example.org"}) {
    const Response r = router_.route(get("/x", false, host));
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].second, "https://mail.example.org:8443/x") << host;
  }
  Router standard("mail.example.org", [](std::string_view) { return false; });
  EXPECT_EQ(standard.route(get("/x", false)).headers[0].second, "https://mail.example.org/x");  // 443 is implied
}

TEST(HttpMessage, QueryParametersAreFormDecoded) {
  Request r = get("/p?emailaddress=me%40example.org&name=A+B&empty=&flag&bad=%zz&emailaddress=second");
  EXPECT_EQ(r.param("emailaddress"), "me@example.org");  // the first one
  EXPECT_EQ(r.param("name"), "A B");
  EXPECT_EQ(r.param("empty"), "");
  EXPECT_EQ(r.param("flag"), "");
  EXPECT_EQ(r.param("bad"), std::nullopt);
  EXPECT_EQ(r.param("missing"), std::nullopt);
  EXPECT_EQ(form_decode("%41%4a%4A%"), std::nullopt);
  EXPECT_EQ(form_decode("%41%4a%4A"), "AJJ");
  EXPECT_EQ(form_decode("100%25"), "100%");
}

TEST(HttpMessage, HostHeaders) {
  EXPECT_EQ(host_of("Mail.Example.ORG"), "mail.example.org");
  EXPECT_EQ(host_of("mail.example.org:8443"), "mail.example.org");
  EXPECT_EQ(host_of("mail.example.org."), "mail.example.org");
  EXPECT_EQ(host_of("[2001:db8::1]:443"), "[2001:db8::1]");
  EXPECT_EQ(host_of(" mail.example.org "), "mail.example.org");
  for (const char* bad : {"", "mail.example.org:port", "a b", "evil.example/path", "x:1234567", "[::1", "a\r\nb",
                          "user@host"})
    EXPECT_EQ(host_of(bad), "") << bad;
}

TEST(HttpMessage, XmlEscaping) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
}

}  // namespace
}  // namespace mk::http
