// share/url.hpp: the web addresses "share a link" fetches: http and https URLs parsed the
// way browsers read them, relative references (a redirect's Location, a page's og:image)
// resolved against the page's address, and the host classified before any connection.
//
// STANDARDS: RFC 3986 (§3 syntax, §5.2 reference resolution and remove_dot_segments), the
// WHATWG URL Standard's host parser for http(s) (§3.5 IPv4 parser: "http://2130706433/",
// "http://0x7f.1/" and "http://0177.0.0.1/" are all 127.0.0.1; backslashes as slashes; tabs
// and newlines removed; leading and trailing C0 controls and spaces trimmed).
// SECURITY: the input is a user's or a web page's text. Parsing is bounded by kMaxUrl and
// linear; a host is a DNS name of LDH labels, an IPv4 address in any of the numeric forms a
// browser accepts (normalised here, so the address check sees what a browser would connect
// to), or a bracketed IPv6 literal without a zone. Credentials in a URL (user:pass@) are
// refused rather than sent on. Whether an address may be fetched is share/fetch.hpp's call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ip.hpp"
#include "base/result.hpp"

namespace mk::share {

inline constexpr std::size_t kMaxUrlText = 4096;

struct WebUrl {
  bool https = true;
  std::string host;       // lower-case name, or the address's text form for an IP
  std::optional<IpAddr> ip;  // set when the host is an address (any of its forms)
  std::uint16_t port = 443;
  std::string path = "/";  // percent-encoded, dot segments removed, "/" at least
  std::string query;       // without the "?" ("" for none)
  bool has_query = false;
  std::string fragment;    // without the "#"; never sent to the server
  bool has_fragment = false;

  // "https://host:port/path?query#fragment", the default port left out, IPv6 in brackets.
  std::string text() const;
  // What the request line names: path and query.
  std::string target() const;
  // The Host header: the host, and the port when it is not the scheme's default.
  std::string authority() const;
};

// An absolute http or https URL; an error naming what is wrong with it.
Result<WebUrl> parse_web_url(std::string_view text);

// A reference (absolute, scheme-relative, absolute-path, relative or query-only) resolved
// against base; an error if the result is not an http(s) URL.
Result<WebUrl> resolve_url(const WebUrl& base, std::string_view reference);

}  // namespace mk::share
