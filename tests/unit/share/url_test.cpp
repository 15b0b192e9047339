// http(s) URLs as browsers read them, and references resolved (share/url.hpp).
#include <gtest/gtest.h>

#include "share/url.hpp"

namespace mk::share {
namespace {

std::string host_of(std::string_view text) {
  auto u = parse_web_url(text);
  return u ? u->host : "error: " + u.error().message;
}

TEST(WebUrl, ParsesWhatBrowsersSend) {
  auto u = parse_web_url("https://Example.ORG/a/b?q=1#frag");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "example.org");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_EQ(u->target(), "/a/b?q=1");
  EXPECT_EQ(u->text(), "https://example.org/a/b?q=1#frag");
  auto p = parse_web_url("  http://example.org:8080  ");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port, 8080);
  EXPECT_EQ(p->target(), "/");
  EXPECT_EQ(p->authority(), "example.org:8080");
  // Spaces and non-ASCII in the path are escaped as a browser does; tabs and newlines vanish.
  auto s = parse_web_url("https://example.org/a b/\xc3\xa9t\xc3\xa9\n?x=<1>");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->target(), "/a%20b/%C3%A9t%C3%A9?x=%3C1%3E");
  EXPECT_EQ(host_of("https://example.org./"), "example.org");
  EXPECT_EQ(host_of("HTTPS:\\\\example.org\\x"), "example.org");
}

TEST(WebUrl, EveryNumericFormOfAnAddressIsThatAddress) {
  // The forms an SSRF tries to slip past a check that only knows dotted quads.
  for (const char* form : {"http://127.0.0.1/", "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/",
                           "http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://127.0.0.%31/",
                           "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"}) {
    auto u = parse_web_url(form);
    ASSERT_TRUE(u) << form << ": " << u.error().message;
    ASSERT_TRUE(u->ip) << form;
    EXPECT_EQ(u->ip->to_string(), "127.0.0.1") << form;
  }
  for (const auto& [form, want] : std::initializer_list<std::pair<const char*, const char*>>{
           {"http://0/", "0.0.0.0"}, {"http://0x/", "0.0.0.0"}, {"http://[::]/", "::"},
           {"http://127.0.0.1./", "127.0.0.1"}, {"http://%30x7f.1/", "127.0.0.1"}}) {
    auto u = parse_web_url(form);
    ASSERT_TRUE(u && u->ip) << form;
    EXPECT_EQ(u->ip->to_string(), want) << form;
  }
  auto v6 = parse_web_url("http://[::1]:8080/x");
  ASSERT_TRUE(v6 && v6->ip);
  EXPECT_EQ(v6->ip->to_string(), "::1");
  EXPECT_EQ(v6->authority(), "[::1]:8080");
  EXPECT_EQ(host_of("http://169.254.169.254/latest/meta-data/"), "169.254.169.254");
  // A name that merely contains digits is a name.
  EXPECT_EQ(host_of("http://1.example/"), "1.example");
  EXPECT_EQ(host_of("http://example.123a/"), "example.123a");
  // A host may be percent-encoded (WHATWG URL); a cut escape leaves a '%', which no name has.
  EXPECT_EQ(host_of("http://ex%61mple.ORG/"), "example.org");
  EXPECT_FALSE(parse_web_url("http://example.org%4/"));
  EXPECT_FALSE(parse_web_url("http://example.org%/"));
}

TEST(WebUrl, RefusesWhatIsNotAPlainWebAddress) {
  for (const char* bad : {"javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/", "data:text/html,x",
                          "gopher://127.0.0.1:25/", "example.org", "", "http://", "http://user:pw@example.org/",
                          "http://a@127.0.0.1/", "http://256.0.0.1/", "http://1.2.3.4.5/", "http://0x100000000/",
                          "http://1.2.3.09/", "http://[::1/", "http://[fe80::1%25eth0]/", "http://exa mple.org/",
                          "http://ex\xc3\xa4mple.org/", "http://example.org:0/", "http://example.org:65536/",
                          "http://example.org:8o/", "http://a..b/"}) {
    EXPECT_FALSE(parse_web_url(bad)) << bad;
  }
  EXPECT_FALSE(parse_web_url("https://example.org/" + std::string(kMaxUrlText, 'a')));
}

TEST(WebUrl, ResolvesReferencesAsRfc3986Says) {
  // RFC 3986 §5.4.1 (normal examples), with an http base.
  auto base = parse_web_url("http://a/b/c/d;p?q");
  ASSERT_TRUE(base);
  const std::pair<const char*, const char*> cases[] = {
      {"g", "http://a/b/c/g"},         {"./g", "http://a/b/c/g"},        {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},            {"//g", "http://g/"},             {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},     {"#s", "http://a/b/c/d;p?q#s"},   {"g#s", "http://a/b/c/g#s"},
      {";x", "http://a/b/c/;x"},       {"", "http://a/b/c/d;p?q"},       {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},         {"..", "http://a/b/"},            {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},        {"../..", "http://a/"},           {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},    {"/./g", "http://a/g"},           {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},       {"..g", "http://a/b/c/..g"},      {"./../g", "http://a/b/g"},
      {"g;x=1/../y", "http://a/b/c/y"}, {"https://b/x", "https://b/x"}, {"/%2e%2e/g", "http://a/g"},
      {"..//x", "http://a/b//x"},      {"\\\\evil/x", "http://evil/x"},
  };
  for (const auto& [ref, want] : cases) {
    auto r = resolve_url(*base, ref);
    ASSERT_TRUE(r) << ref << ": " << r.error().message;
    EXPECT_EQ(r->text(), want) << ref;
  }
  EXPECT_FALSE(resolve_url(*base, "javascript:alert(1)"));
  EXPECT_FALSE(resolve_url(*base, "data:image/png;base64,AAAA"));
}

}  // namespace
}  // namespace mk::share
