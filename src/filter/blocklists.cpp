#include "filter/blocklists.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "base/ip.hpp"
#include "base/strings.hpp"
#include "dns/rdata.hpp"
#include "message/links.hpp"

namespace mk::filter {

namespace asio = boost::asio;

std::string reversed_ip(std::string_view ip) {
  const auto a = IpAddr::parse(ip);
  return a ? a->reverse_labels() : std::string();
}

Listing listing_of(const dns::Answer& a, std::string* code) {
  Listing best = Listing::no;
  for (const auto& rd : a.rdata) {
    const auto ip = dns::parse_address(rd, dns::kA);
    if (!ip) continue;
    boost::system::error_code ec;
    const auto v4 = asio::ip::make_address_v4(*ip, ec);
    if (ec) continue;
    const auto b = v4.to_bytes();
    if (b[0] != 127) continue;  // not an answer in the RFC 5782 convention
    // 127.255.255.x: Spamhaus's "public resolver / over quota / bad key"; 127.0.0.1: URIBL's
    // and SURBL's "blocked"; 127.0.x.255: DNSWL.org's over quota, DBL's "IP queried".
    const bool refused = (b[1] == 255 && b[2] == 255) || *ip == "127.0.0.1" || (b[1] == 0 && b[3] == 255);
    if (!refused) {
      if (code) *code = *ip;
      return Listing::listed;
    }
    best = Listing::refused;
    if (code) *code = *ip;
  }
  return best;
}

std::vector<std::string> link_domains(std::string_view msg, const dmarc::OrgDomains& orgs) {
  return link_domains(message::find_links(msg, 100), orgs);
}

std::vector<std::string> link_domains(const std::vector<std::string>& links, const dmarc::OrgDomains& orgs) {
  std::vector<std::string> out;
  for (const auto& url : links) {
    const auto u = message::split_url(url);
    // No host, or an IPv6 literal: no URI list publishes those.
    if (!u || u->host.empty() || u->host.starts_with('[')) continue;
    std::string h = to_lower(u->host);
    while (!h.empty() && h.back() == '.') h.pop_back();
    const bool ip = reversed_ip(h).size() > 0;
    std::string d = ip ? h : orgs.organizational(h);
    if (d.empty() || std::find(out.begin(), out.end(), d) != out.end()) continue;
    out.push_back(std::move(d));
    if (out.size() == kMaxLinkDomains) break;
  }
  return out;
}

namespace {

struct Query {
  Query(std::string n, std::string z, int k, std::string i)
      : name(std::move(n)), zone(std::move(z)), kind(k), item(std::move(i)) {}
  std::string name, zone;
  int kind = 0;  // 0 DNSBL, 1 DNSWL, 2 URIBL
  std::string item;  // the address or domain asked about
  bool done = false;
  Listing listing = Listing::no;
  std::string code, error;
};

struct State {
  explicit State(asio::any_io_executor ex) : timer(ex) {}
  std::vector<Query> queries;
  std::size_t remaining = 0;
  asio::steady_timer timer;
};

asio::awaitable<void> run_query(dns::Lookup& dns, std::shared_ptr<State> st, std::size_t i) {
  auto r = co_await dns.query(st->queries[i].name, dns::kA);
  Query& q = st->queries[i];
  q.done = true;
  if (!r) q.error = r.error().message;
  else if (r->temporary()) q.error = fmt::format("temporary DNS failure (rcode {})", r->rcode);
  else q.listing = listing_of(*r, &q.code);
  if (--st->remaining == 0) st->timer.cancel();
}

}  // namespace

asio::awaitable<BlocklistResult> check_blocklists(dns::Lookup& dns, const BlocklistConfig& cfg, std::string client_ip,
                                                  std::vector<std::string> link_domains) {
  auto st = std::make_shared<State>(co_await asio::this_coro::executor);
  // A loopback or private client (a local relay, a test) is in no public list: asking costs
  // two lookups per message for nothing.
  const auto client = IpAddr::parse(client_ip);
  const std::string rev = client && client->publicly_routable() ? reversed_ip(client_ip) : std::string();
  if (!rev.empty()) {
    for (const auto& z : cfg.dnsbl) st->queries.emplace_back(rev + "." + z, z, 0, client_ip);
    for (const auto& z : cfg.dnswl) st->queries.emplace_back(rev + "." + z, z, 1, client_ip);
  }
  if (link_domains.size() > kMaxLinkDomains) link_domains.resize(kMaxLinkDomains);
  for (const auto& d : link_domains) {
    // An IPv4 link host is looked up reversed, as URI lists publish them.
    std::string key = d;
    if (const std::string r = reversed_ip(d); !r.empty()) {
      if (d.find(':') != std::string::npos) continue;
      key = r;
    }
    for (const auto& z : cfg.uribl) st->queries.emplace_back(key + "." + z, z, 2, d);
  }
  BlocklistResult out;
  if (st->queries.empty()) co_return out;
  st->remaining = st->queries.size();
  st->timer.expires_after(cfg.timeout);
  for (std::size_t i = 0; i < st->queries.size(); ++i)
    asio::co_spawn(st->timer.get_executor(), run_query(dns, st, i), asio::detached);
  if (st->remaining > 0) {
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  std::vector<std::string> uri_zones_hit;
  for (const auto& q : st->queries) {
    if (!q.done) {
      out.notes.push_back(fmt::format("{}: no answer within {} ms", q.zone, cfg.timeout.count()));
      continue;
    }
    if (!q.error.empty()) {
      out.notes.push_back(fmt::format("{}: {}", q.zone, q.error));
      continue;
    }
    if (q.listing == Listing::refused) {
      out.notes.push_back(fmt::format("{}: refused the query ({})", q.zone, q.code));
      continue;
    }
    if (q.listing != Listing::listed) continue;
    if (q.kind == 0) {
      out.signals.push_back({"DNSBL", cfg.dnsbl_score, fmt::format("{} is listed in {} ({})", q.item, q.zone, q.code)});
    } else if (q.kind == 1) {
      // DNSWL.org's last octet is its trust in the sender: 0 none (listed, but it sends spam
      // too: freemail and ESP ranges), 1 low, 2 medium, 3 high; the score scales with it.
      const auto dot = q.code.rfind('.');
      const int trust = dot == std::string::npos ? 3 : std::clamp(std::atoi(q.code.c_str() + dot + 1), 0, 3);
      if (trust > 0)
        out.signals.push_back({"DNSWL", cfg.dnswl_score * trust / 3,
                               fmt::format("{} is listed in {} ({})", q.item, q.zone, q.code)});
    } else if (std::find(uri_zones_hit.begin(), uri_zones_hit.end(), q.zone) == uri_zones_hit.end()) {
      uri_zones_hit.push_back(q.zone);  // each zone counts once, however many links it lists
      out.signals.push_back({"URIBL", cfg.uribl_score, fmt::format("a link to {} is listed in {} ({})", q.item, q.zone, q.code)});
    }
  }
  co_return out;
}

}  // namespace mk::filter
