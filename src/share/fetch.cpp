// share/fetch.cpp: the SSRF-safe page fetch of "share a link" (see fetch.hpp).
#include "share/fetch.hpp"

#include <openssl/ssl.h>

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "base/strings.hpp"
#include "dns/rdata.hpp"
#include "net/tls_verify.hpp"
#include "message/header.hpp"
#include "net/interfaces.hpp"

namespace mk::share {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A response body kept up to a cap: the rest is not read (Beast's string_body would reserve a
// Content-Length the server claims, and its body_limit refuses a long page outright, where a
// preview needs only the page's start).
struct CappedBody {
  struct value_type {
    std::string bytes;
    std::size_t cap = 0;
    bool truncated = false;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class Buffers>
    std::size_t put(const Buffers& buffers, beast::error_code& ec) {
      std::size_t taken = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        const std::size_t room = body_.cap - std::min(body_.cap, body_.bytes.size());
        const std::size_t n = std::min(room, b.size());
        body_.bytes.append(static_cast<const char*>(b.data()), n);
        taken += b.size();
        if (n < b.size()) {
          body_.truncated = true;
          ec = http::error::body_limit;  // stops the read; truncated says it was ours
          return taken;
        }
      }
      ec = {};
      return taken;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// RFC 6890 names of the blocks a fetch refuses, for the error the user reads.
std::string block_name(const IpAddr& ip) {
  const auto in = [&](const char* cidr) {
    auto n = IpNetwork::parse(cidr);
    return n && n->contains(ip);
  };
  if (ip.v4) {
    if (in("127.0.0.0/8")) return "a loopback address";
    if (in("169.254.0.0/16")) return "a link-local address (cloud metadata services live there)";
    if (in("10.0.0.0/8") || in("172.16.0.0/12") || in("192.168.0.0/16")) return "a private address";
    if (in("100.64.0.0/10")) return "a shared (carrier-grade NAT) address";
    if (in("0.0.0.0/8")) return "a \"this network\" address";
    if (in("224.0.0.0/4")) return "a multicast address";
    return "a reserved or documentation address";
  }
  if (in("::1/128")) return "a loopback address";
  if (in("fe80::/10")) return "a link-local address";
  if (in("fc00::/7")) return "a unique-local (private) address";
  if (in("ff00::/8")) return "a multicast address";
  return "an address outside the public unicast range";
}

std::string type_of(std::string_view content_type, std::string* charset) {
  const auto p = message::parse_params(content_type);
  if (charset) *charset = to_lower(p.param("charset").value_or(""));
  return p.type;
}

// The part of an exchange after the connection is up, for TLS and plain TCP alike.
template <class Stream>
asio::awaitable<Result<Fetched>> talk(Stream& stream, const WebUrl& url, const std::string& agent,
                                      std::size_t max_body, std::string* location) {
  http::request<http::empty_body> req{http::verb::get, url.target(), 11};
  req.set(http::field::host, url.authority());
  req.set(http::field::user_agent, agent);
  req.set(http::field::accept, "text/html,application/xhtml+xml,image/*;q=0.8,*/*;q=0.5");
  req.set(http::field::accept_encoding, "identity");
  req.set(http::field::connection, "close");
  auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
  if (wec) co_return err(fmt::format("{}: sending the request failed: {}", url.host, wec.message()));
  beast::flat_buffer buffer(64 * 1024);
  http::response_parser<CappedBody> parser;
  parser.header_limit(32 * 1024);
  parser.body_limit(boost::none);  // the body type caps itself
  parser.get().body().cap = max_body;
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
  const bool ours = rec == http::error::body_limit && parser.get().body().truncated;
  // A TLS server that closes without close_notify ended a body delimited by the close; a
  // body with a length it did not reach is incomplete.
  const bool cut = rec == asio::ssl::error::stream_truncated && parser.is_header_done();
  if (cut && !parser.need_eof()) co_return err(fmt::format("{} closed the connection in the middle of its answer", url.host));
  if (rec && !ours && !cut) {
    if (rec == beast::error::timeout || rec == asio::error::operation_aborted)
      co_return err(fmt::format("{} did not answer in time", url.host));
    co_return err(fmt::format("{}: reading the answer failed: {}", url.host, rec.message()));
  }
  auto& res = parser.get();
  Fetched f;
  f.url = url;
  f.status = static_cast<int>(res.result_int());
  const auto ct = res[http::field::content_type];
  f.content_type = type_of(std::string_view(ct.data(), ct.size()), &f.charset);
  const auto ce = res[http::field::content_encoding];
  if (!ce.empty() && !iequals(trim(std::string_view(ce.data(), ce.size())), "identity"))
    co_return err(fmt::format("{} sent a compressed answer although asked not to", url.host));
  f.body = std::move(res.body().bytes);
  f.truncated = res.body().truncated;
  if (location) *location = std::string(res[http::field::location]);
  co_return f;
}

}  // namespace

bool port_allowed(std::uint16_t port) { return port == 80 || port == 443 || port >= 1024; }

std::string refused_address(const IpAddr& ip, const FetchPolicy& policy) {
  // This machine's own addresses first: no allow list reaches the server's own listeners.
  if (std::find(policy.own.begin(), policy.own.end(), ip) != policy.own.end()) return "this server's own address";
  for (const auto& n : policy.allow)
    if (n.contains(ip)) return "";
  if (!net::is_public_address(ip)) return block_name(ip);
  return "";
}

asio::awaitable<Result<std::vector<IpAddr>>> Fetcher::addresses(const WebUrl& url) {
  std::vector<IpAddr> out;
  if (url.ip) {
    out.push_back(*url.ip);
  } else {
    bool temporary = false;
    for (int type : {dns::kA, dns::kAaaa}) {
      auto a = co_await dns_.query(url.host, type);
      if (!a || a->temporary()) {
        temporary = true;
        continue;
      }
      for (const auto& d : a->rdata)
        if (auto text = dns::parse_address(d, type))
          if (auto ip = IpAddr::parse(*text)) out.push_back(*ip);
    }
    if (out.empty())
      co_return err(temporary ? fmt::format("{} could not be resolved now (DNS did not answer)", url.host)
                              : fmt::format("{} does not exist (no address in DNS)", url.host));
  }
  // Every address must pass, not just one: an answer that mixes a public address with an
  // internal one is how a rebinding attack would try its luck.
  for (const auto& ip : out)
    if (auto why = refused_address(ip, policy_); !why.empty())
      // The address itself is not shown: it would tell users what internal names resolve to.
      co_return err(url.ip ? fmt::format("refused: {} is {}", url.host, why)
                           : fmt::format("refused: {} resolves to {}", url.host, why));
  co_return out;
}

asio::awaitable<Result<Fetcher::Hop>> Fetcher::hop(WebUrl url, std::size_t max_body,
                                                   std::chrono::steady_clock::time_point deadline) {
  if (!port_allowed(url.port))
    co_return err(fmt::format("refused: port {} is not a web port (80, 443 or 1024 and above)", url.port));
  auto ips = co_await addresses(url);
  if (!ips) co_return ips.error();
  auto ex = co_await asio::this_coro::executor;
  std::string last = "no address";
  for (const auto& ip : *ips) {
    const tcp::endpoint ep(asio::ip::make_address(ip.to_string()), url.port);
    Hop h;
    Result<Fetched> got = err("");
    if (!url.https) {
      beast::tcp_stream stream(ex);
      stream.expires_at(deadline);
      auto [cec] = co_await stream.async_connect(ep, kTuple);
      if (cec) {
        last = cec == beast::error::timeout ? "connecting timed out" : cec.message();
        continue;
      }
      got = co_await talk(stream, url, policy_.user_agent, max_body, &h.location);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    } else {
      beast::ssl_stream<beast::tcp_stream> stream(ex, *tls_);
      beast::get_lowest_layer(stream).expires_at(deadline);
      SSL* ssl = stream.native_handle();
      // The handshake itself fails when the chain or the name does not verify.
      if (!net::verify_server(ssl, url.host, url.ip.has_value()))
        co_return err(fmt::format("{}: cannot check the server's certificate", url.host));
      auto [cec] = co_await beast::get_lowest_layer(stream).async_connect(ep, kTuple);
      if (cec) {
        last = cec == beast::error::timeout ? "connecting timed out" : cec.message();
        continue;
      }
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
      if (hec) co_return err(fmt::format("{}: TLS failed: {}", url.host, net::handshake_failure(ssl, hec)));
      got = co_await talk(stream, url, policy_.user_agent, max_body, &h.location);
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    if (!got) co_return got.error();
    h.answer = std::move(*got);
    co_return h;
  }
  co_return err(fmt::format("{} could not be reached: {}", url.host, last));
}

asio::awaitable<Result<Fetched>> Fetcher::get(WebUrl url, std::size_t max_body,
                                              std::chrono::steady_clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  for (int redirects = 0;; ++redirects) {
    // One deadline for everything, DNS included (the resolver's own timeout is longer).
    asio::steady_timer timer(ex, deadline);
    auto raced = co_await (hop(url, max_body, deadline) || timer.async_wait(kTuple));
    if (raced.index() == 1) co_return err(fmt::format("{} did not answer in time", url.host));
    auto h = std::get<0>(std::move(raced));
    if (!h) co_return h.error();
    const int status = h->answer.status;
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      if (h->location.empty()) co_return err(fmt::format("{} redirected without saying where", url.host));
      if (redirects >= policy_.max_redirects)
        co_return err(fmt::format("more than {} redirects", policy_.max_redirects));
      auto next = resolve_url(url, h->location);
      if (!next) co_return err(fmt::format("{} redirected to an address that is not a web page: {}", url.host,
                                           next.error().message));
      url = std::move(*next);
      continue;
    }
    if (status != 200) co_return err(fmt::format("{} answered HTTP {}", url.host, status));
    h->answer.redirects = redirects;
    co_return std::move(h->answer);
  }
}

}  // namespace mk::share
