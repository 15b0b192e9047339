// share/fetch.hpp: the one way mailkeep fetches a web page a user names (share a link): a
// GET over http or https, redirects followed, every address checked before it is used.
//
// STANDARDS: RFC 9110 (§15.4 redirects: 301, 302, 303, 307, 308 with Location; §8.3
// Content-Type), RFC 9112 (HTTP/1.1 message framing, chunked coding), RFC 6125 / RFC 9525
// (the server's certificate names the host), RFC 6066 §3 (SNI), RFC 6890 (special-purpose
// address blocks).
// SECURITY: server-side request forgery is the threat: a user (or a page's og:image, or a
// redirect) names an address inside the network this server sits in (127.0.0.1, ::1, a
// private range, 169.254.169.254 and other cloud metadata services, this machine's own public
// addresses). Names are resolved through mailkeep's own resolver and every address of the
// answer must be public (net::is_public_address) or in the admin's explicit allow list; the
// connection then goes to exactly the address that was checked, so a second, rebinding
// answer is never asked for. Each redirect is a new URL checked the same way. Ports are 80,
// 443 or 1024 and above (no SMTP, SSH, ... on a public host). One deadline covers the whole
// fetch (redirects, DNS, connect, TLS, reading); bodies are read up to a cap and no further;
// compressed bodies are refused (Accept-Encoding: identity). https certificates are verified
// against the system store; a failure ends the fetch. The URL's path and query never reach a
// log (they can hold tokens): only the host does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/ip.hpp"
#include "base/result.hpp"
#include "dns/lookup.hpp"
#include "net/tls.hpp"
#include "share/url.hpp"

namespace mk::share {

struct FetchPolicy {
  // Networks fetched from although not public: `[share] fetch_allow` (empty by default; the
  // tests' loopback web site is let through this way, and nothing else).
  std::vector<IpNetwork> allow;
  // This machine's own addresses but loopback (filled by the server at start): refused even
  // when public or in `allow`. Loopback is refused by default like every internal block; an
  // `allow` entry that names it (tests do) lets shares reach whatever listens there.
  std::vector<IpAddr> own;
  std::chrono::milliseconds timeout{5000};  // the whole share: the page, its redirects, the image
  int max_redirects = 5;
  std::size_t max_html = 2 * 1024 * 1024;   // read this much of a page and stop
  std::size_t max_image = 1024 * 1024;      // a larger image is not attached
  std::string user_agent = "Mozilla/5.0 (compatible; mailkeep-share/1; link preview)";
};

// Why the policy refuses to connect to ip ("" when it may): "a loopback address", ...
std::string refused_address(const IpAddr& ip, const FetchPolicy& policy);
// Ports a fetch may use: 80, 443, and 1024 and above.
bool port_allowed(std::uint16_t port);

struct Fetched {
  WebUrl url;  // where the body came from, after redirects
  int status = 0;
  std::string content_type;  // lower-case, parameters removed
  std::string charset;       // the Content-Type's charset parameter ("" if none)
  std::string body;
  bool truncated = false;    // the body was longer than the cap: this is its start
  int redirects = 0;
};

class Fetcher {
 public:
  // dns: the server's resolver. tls: a client context (net::make_client_tls).
  Fetcher(dns::Lookup& dns, std::shared_ptr<net::TlsContext> tls, FetchPolicy policy)
      : dns_(dns), tls_(std::move(tls)), policy_(std::move(policy)) {}

  const FetchPolicy& policy() const { return policy_; }

  // GET url, following redirects, until `deadline`; bodies cut at max_body. A final answer
  // other than 200 is an error naming the status.
  boost::asio::awaitable<Result<Fetched>> get(WebUrl url, std::size_t max_body,
                                              std::chrono::steady_clock::time_point deadline);

 private:
  // One request to one URL (no redirect followed): its answer and Location.
  struct Hop {
    Fetched answer;
    std::string location;
  };
  boost::asio::awaitable<Result<Hop>> hop(WebUrl url, std::size_t max_body,
                                          std::chrono::steady_clock::time_point deadline);
  // The addresses to try for url's host, every one of them allowed; an error naming the
  // refused address otherwise.
  boost::asio::awaitable<Result<std::vector<IpAddr>>> addresses(const WebUrl& url);

  dns::Lookup& dns_;
  std::shared_ptr<net::TlsContext> tls_;
  FetchPolicy policy_;
};

}  // namespace mk::share
