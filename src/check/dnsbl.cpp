// check/dnsbl.cpp: DNS block list lookups of the server's addresses (see dnsbl.hpp).
#include "check/dnsbl.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/ip.hpp"
#include "base/strings.hpp"
#include "check/lookup.hpp"
#include "dns/rdata.hpp"

namespace mk::check {

namespace asio = boost::asio;

namespace {

// Spamhaus's return codes for its combined zone (zen): which of its lists, by the last octet.
std::string spamhaus_list(unsigned last) {
  if (last == 2) return "SBL, spam sources";
  if (last == 3) return "SBL CSS, snowshoe spam";
  if (last >= 4 && last <= 7) return "XBL, exploited or infected hosts";
  if (last == 9) return "DROP, hijacked networks";
  if (last == 10 || last == 11) return "PBL, addresses that should not send mail directly";
  return {};
}

std::string spamhaus_refusal(unsigned last) {
  if (last == 252) return "the query key is mistyped";
  if (last == 254) return "queries through public or forwarding resolvers are refused";
  if (last == 255) return "too many queries from this resolver";
  return "the query was refused";
}

}  // namespace

std::string list_query(std::string_view ip_text, std::string_view zone) {
  auto ip = IpAddr::parse(ip_text);
  if (!ip) return {};
  return ip->reverse_labels() + "." + std::string(zone);
}

bool publicly_routable(std::string_view text) {
  auto ip = IpAddr::parse(text);
  return ip && ip->publicly_routable();
}

ListVerdict interpret(const Blocklist& list, const Result<dns::Answer>& answer) {
  if (transient(answer)) return {Listing::unknown, fmt::format("the lookup failed ({})", failure_text(answer))};
  if (answer->nxdomain || answer->rdata.empty()) return {Listing::not_listed, {}};
  std::string refused;
  for (const auto& rd : answer->rdata) {
    auto text = dns::parse_address(rd, dns::kA);
    auto ip = text ? IpAddr::parse(*text) : std::nullopt;
    if (!ip) continue;
    const auto& b = ip->bytes;
    if (b[0] != 127)
      return {Listing::unknown, fmt::format("it answered {}, which is not a block list answer (does your resolver "
                                            "rewrite \"no such name\" answers?)",
                                            *text)};
    if (b[1] == 255 && b[2] == 255) {
      refused = fmt::format("{}: {}", *text, list.zone == "zen.spamhaus.org" ? spamhaus_refusal(b[3]) : "the query was refused");
      continue;
    }
    if (b[1] == 0 && b[3] == 255) {  // DNSWL.org's over quota, Spamhaus DBL's "IP queried"
      refused = fmt::format("{}: the query was refused (over quota, or not a query this list answers)", *text);
      continue;
    }
    if (*text == "127.0.0.1") {  // RFC 5782 §5: never a listing; lists use it to say "stop asking"
      refused = fmt::format("{}: the list answers every query so (it may have shut down)", *text);
      continue;
    }
    std::string what = list.zone == "zen.spamhaus.org" ? spamhaus_list(b[3]) : std::string();
    return {Listing::listed, what.empty() ? *text : fmt::format("{}: {}", *text, what)};
  }
  if (!refused.empty()) return {Listing::unknown, "the list refused to answer (" + refused + ")", true};
  return {Listing::unknown, "its answer holds no address"};
}

std::vector<Finding> dnsbl_findings(const std::string& ip, const std::vector<std::pair<Blocklist, ListVerdict>>& verdicts,
                                    bool forwarding) {
  std::vector<Finding> out;
  std::vector<std::string> clean;
  for (const auto& [list, v] : verdicts) {
    const std::string subject = fmt::format("{} on {}", ip, list.zone);
    if (v.listing == Listing::not_listed) {
      clean.emplace_back(list.zone);
    } else if (v.listing == Listing::listed) {
      const std::string url = fmt::format(fmt::runtime(std::string(list.lookup_url)), ip);
      out.push_back(Finding::failed("dnsbl", subject,
                                    fmt::format("listed ({}): receivers that consult {} refuse or junk mail from it",
                                                v.detail, list.zone),
                                    fmt::format("find out why and request removal at {}", url)));
    } else {
      out.push_back(Finding::unknown(
          "dnsbl", subject, v.detail,
          forwarding ? "leave [dns] upstream empty so mailkeep resolves from the root servers itself (lists refuse "
                       "queries that come through shared resolvers), or forward to a local resolver that does not "
                       "forward in turn"
                     : "run the check again later; lists answer only resolvers that do not send too many queries"));
    }
  }
  if (!clean.empty())
    out.insert(out.begin(), Finding::pass("dnsbl", fmt::format("{} is not listed on {}", ip, fmt::join(clean, ", "))));
  return out;
}

asio::awaitable<std::vector<Finding>> check_dnsbls(dns::Lookup& dns, std::vector<std::string> ips, bool forwarding) {
  std::vector<Finding> out;
  for (const auto& ip : ips) {
    if (!publicly_routable(ip)) continue;
    const bool v6 = ip.find(':') != std::string::npos;
    std::vector<std::pair<Blocklist, ListVerdict>> verdicts;
    for (const auto& list : kBlocklists) {
      if (v6 && !list.ipv6) continue;
      auto r = co_await dns.query(list_query(ip, list.zone), dns::kA);
      verdicts.emplace_back(list, interpret(list, r));
    }
    auto f = dnsbl_findings(ip, verdicts, forwarding);
    out.insert(out.end(), f.begin(), f.end());
  }
  co_return out;
}

namespace {

// Spamhaus's DBL documents its own test entry besides RFC 5782's "test".
constexpr std::string_view kSpamhausDbl = "dbl.spamhaus.org";
constexpr std::string_view kSpamhausDblTest = "dbltest.com";

constexpr const char* kForwardingFix =
    "leave [dns] upstream empty so mailkeep resolves from the root servers itself (lists refuse queries that come "
    "through shared resolvers), or forward to a local resolver that does not forward in turn";

}  // namespace

std::vector<Finding> filter_list_findings(const std::vector<std::pair<std::string, ListVerdict>>& verdicts,
                                          bool forwarding) {
  std::vector<Finding> out;
  std::vector<std::string> answering;
  for (const auto& [zone, v] : verdicts) {
    const std::string subject = fmt::format("spam filter list {}", zone);
    if (v.listing == Listing::listed) {
      answering.push_back(zone);
    } else if (v.listing == Listing::not_listed) {
      // RFC 5782 §5: every list holds its test entry. "No such name" for it: no list there.
      out.push_back(Finding::failed("spam-lists", subject,
                                    "its test entry (RFC 5782: 127.0.0.2, or the name \"test\") is not listed, so "
                                    "this is no working list and the spam filter learns nothing from it",
                                    "check the zone's name in [spam] dnsbl, dnswl or uribl (or whether your "
                                    "resolver filters answers), or remove it"));
    } else if (v.refused) {
      out.push_back(Finding::failed("spam-lists", subject,
                                    fmt::format("{}: the spam filter gets no answer from it, so it scores nothing",
                                                v.detail),
                                    forwarding ? kForwardingFix
                                               : "if this server sends many queries, take the list's paid feed or "
                                                 "remove it from [spam] dnsbl/dnswl/uribl"));
    } else {
      out.push_back(Finding::unknown("spam-lists", subject, v.detail, "run the check again later"));
    }
  }
  if (!answering.empty())
    out.insert(out.begin(), Finding::pass("spam-lists", fmt::format("the spam filter's lists answer: {}",
                                                                    fmt::join(answering, ", "))));
  return out;
}

asio::awaitable<std::vector<Finding>> check_filter_lists(dns::Lookup& dns, FilterLists lists, bool forwarding) {
  std::vector<std::pair<std::string, ListVerdict>> verdicts;
  for (const auto& zone : lists.address_zones) {
    auto r = co_await dns.query("2.0.0.127." + zone, dns::kA);  // RFC 5782 §5: always listed
    verdicts.emplace_back(zone, interpret(Blocklist{zone.c_str(), true, ""}, r));
  }
  for (const auto& zone : lists.domain_zones) {
    auto r = co_await dns.query("test." + zone, dns::kA);  // RFC 5782 §5: always listed
    auto v = interpret(Blocklist{zone.c_str(), true, ""}, r);
    if (v.listing == Listing::not_listed && zone == kSpamhausDbl) {
      auto d = co_await dns.query(std::string(kSpamhausDblTest) + "." + zone, dns::kA);
      v = interpret(Blocklist{zone.c_str(), true, ""}, d);
    }
    verdicts.emplace_back(zone, std::move(v));
  }
  co_return filter_list_findings(verdicts, forwarding);
}

}  // namespace mk::check
