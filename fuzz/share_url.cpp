// Fuzzes the URLs "share a link" reads (share/url.hpp): a user's link, and a page's
// redirect or og:image resolved against it. Never a crash; whatever parses is an http(s) URL
// whose text parses again to the same URL, so the address the fetch checks is the one it
// connects to.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "share/url.hpp"

namespace {

void same_again(const mk::share::WebUrl& u) {
  auto again = mk::share::parse_web_url(u.text());
  if (!again || again->text() != u.text() || again->host != u.host || again->port != u.port ||
      again->ip.has_value() != u.ip.has_value() || (u.ip && !(*again->ip == *u.ip)))
    std::abort();
  if (u.path.empty() || u.path.front() != '/') std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Up to the first newline: the page's URL; after it: a reference found in the page.
  const std::size_t nl = in.find('\n');
  const std::string_view first = in.substr(0, nl);
  auto base = mk::share::parse_web_url(first);
  if (base) same_again(*base);
  if (nl != std::string_view::npos) {
    const auto ref = in.substr(nl + 1);
    auto r = mk::share::resolve_url(base ? *base : *mk::share::parse_web_url("http://example.org/a/b?c"), ref);
    if (r) same_again(*r);
  }
  return 0;
}
