// check/records.cpp: published RRsets against expected records (see records.hpp).
#include "check/records.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "base/ip.hpp"
#include "base/strings.hpp"
#include "dns/rdata.hpp"

namespace mk::check {
namespace {

struct TypeName {
  std::string_view name;
  int number;
};
constexpr TypeName kTypes[] = {{"A", dns::kA},       {"AAAA", dns::kAaaa}, {"MX", dns::kMx},
                               {"TXT", dns::kTxt},   {"CNAME", dns::kCname}, {"PTR", dns::kPtr},
                               {"SRV", dns::kSrv},   {"CAA", dns::kCaa},   {"TLSA", dns::kTlsa}};

// The tokens of presentation-form RDATA (RFC 1035 §5.1): whitespace separates them, a quoted
// string is one token, \X stands for X and \DDD for the byte DDD. Parentheses only group lines.
std::optional<std::vector<std::string>> tokens(std::string_view v) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < v.size()) {
    const char c = v[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')') {
      ++i;
      continue;
    }
    const bool quoted = c == '"';
    if (quoted) ++i;
    std::string tok;
    bool closed = !quoted;
    while (i < v.size()) {
      const char d = v[i];
      if (quoted && d == '"') {
        ++i;
        closed = true;
        break;
      }
      if (!quoted && (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == '(' || d == ')')) break;
      if (d == '\\') {
        if (i + 1 >= v.size()) return std::nullopt;
        if (i + 3 < v.size() && is_digit(v[i + 1]) && is_digit(v[i + 2]) && is_digit(v[i + 3])) {
          const int n = (v[i + 1] - '0') * 100 + (v[i + 2] - '0') * 10 + (v[i + 3] - '0');
          if (n > 255) return std::nullopt;
          tok += char(n);
          i += 4;
          continue;
        }
        tok += v[i + 1];
        i += 2;
        continue;
      }
      tok += d;
      ++i;
    }
    if (!closed) return std::nullopt;
    out.push_back(std::move(tok));
  }
  return out;
}

// A domain name as compared: lower case, with its final dot; the root is ".".
std::string canonical_name(std::string_view n) {
  std::string s = to_lower(n);
  while (s.size() > 1 && s.back() == '.' && s[s.size() - 2] == '.') s.pop_back();
  if (s.empty() || s.back() != '.') s += '.';
  return s;
}

std::optional<unsigned> number(std::string_view s, unsigned max) {
  auto n = parse_u64(s);
  if (!n || *n > max) return std::nullopt;
  return unsigned(*n);
}

std::optional<std::string> hex_lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    const char l = ascii_lower(c);
    if (hex_value(l) < 0) return std::nullopt;
    out += l;
  }
  if (out.size() % 2) return std::nullopt;
  return out;
}

std::string caa_canonical(unsigned flags, std::string_view tag, std::string_view value) {
  return fmt::format("{} {} \"{}\"", flags, to_lower(tag), value);
}

std::string owner_key(std::string_view owner) { return canonical_name(owner); }
// A name as the admin reads it in a sentence: without the final dot.
std::string bare(std::string name) {
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

// What kind of TXT record this is, by its version tag: "v=spf1", "v=dmarc1", ...; "" if none.
std::string txt_kind(std::string_view text) {
  if (!istarts_with(text, "v=")) return {};
  const auto end = text.find_first_of("; \t");
  return to_lower(trim(text.substr(0, end)));
}

bool is_dkim_owner(std::string_view owner) { return to_lower(owner).find("._domainkey.") != std::string::npos; }

std::string label_of(std::string_view owner, std::string_view type, std::string_view canonical) {
  const std::string o = to_lower(owner);
  if (type == "TXT") {
    if (is_dkim_owner(o)) return "DKIM";
    if (o.starts_with("_dmarc.")) return "DMARC";
    if (o.starts_with("_mta-sts.")) return "MTA-STS";
    if (o.starts_with("_smtp._tls.")) return "TLS-RPT";
    if (istarts_with(canonical, "v=spf1")) return "SPF";
    return {};
  }
  if (type == "TLSA") return "DANE";
  if (type == "SRV") return "client autoconfiguration";
  return {};
}

// Why an extra record conflicts with the expected ones, or "" when it may stay.
std::string conflict(std::string_view owner, std::string_view type, const std::string& extra,
                     const std::vector<std::string>& expected) {
  if (type == "TXT") {
    if (is_dkim_owner(owner))
      return "another TXT record at the DKIM selector: receivers may read either one (RFC 6376 §3.6.2.2)";
    const std::string kind = txt_kind(extra);
    if (kind.empty()) return {};
    bool same = false;
    for (const auto& e : expected) same |= txt_kind(e) == kind;
    if (!same) return {};
    if (kind == "v=spf1") return "a second SPF record: with two, SPF fails for every message (RFC 7208 §4.5)";
    if (kind == "v=dmarc1") return "a second DMARC record: with two, receivers apply no DMARC policy (RFC 7489 §6.6.3)";
    if (kind == "v=stsv1") return "a second MTA-STS record: with two, senders ignore MTA-STS (RFC 8461 §3.1)";
    if (kind == "v=tlsrptv1") return "a second TLS-RPT record: with two, senders send no TLS reports (RFC 8460 §3)";
    return "a second record of the same kind: receivers may read either one";
  }
  if (type == "MX")
    return "another MX host: mail sent to it does not reach this server, and the domain's MTA-STS policy "
           "names only this server";
  if (type == "A" || type == "AAAA") return "another address: whoever connects to it does not reach this server";
  if (type == "CNAME") return "a different alias target";
  return {};  // SRV, CAA, TLSA, PTR: more records do no harm
}

std::string zone_line(std::string_view owner, std::string_view type, std::string_view value) {
  return fmt::format("{} 3600 IN {} {}", canonical_name(owner), type, value);
}

}  // namespace

std::optional<int> type_number(std::string_view type) {
  for (const auto& t : kTypes)
    if (iequals(t.name, type)) return t.number;
  return std::nullopt;
}

std::optional<std::string> canonical_rdata(std::string_view type_in, std::string_view v) {
  const std::string type = to_upper(type_in);
  auto t = tokens(v);
  if (!t) return std::nullopt;
  const auto& k = *t;
  if (type == "A" || type == "AAAA") {
    auto ip = k.size() == 1 ? IpAddr::parse(k[0]) : std::nullopt;
    if (!ip || ip->v4 != (type == "A")) return std::nullopt;
    return ip->to_string();
  }
  if (type == "MX") {
    auto pref = k.size() == 2 ? number(k[0], 65535) : std::nullopt;
    if (!pref) return std::nullopt;
    return fmt::format("{} {}", *pref, canonical_name(k[1]));
  }
  if (type == "TXT") {
    if (k.empty()) return std::nullopt;
    std::string all;
    for (const auto& s : k) all += s;
    return all;
  }
  if (type == "CNAME" || type == "PTR") {
    if (k.size() != 1) return std::nullopt;
    return canonical_name(k[0]);
  }
  if (type == "SRV") {
    if (k.size() != 4) return std::nullopt;
    auto p = number(k[0], 65535), w = number(k[1], 65535), port = number(k[2], 65535);
    if (!p || !w || !port) return std::nullopt;
    return fmt::format("{} {} {} {}", *p, *w, *port, canonical_name(k[3]));
  }
  if (type == "CAA") {
    auto flags = k.size() == 3 ? number(k[0], 255) : std::nullopt;
    if (!flags || k[1].empty()) return std::nullopt;
    return caa_canonical(*flags, k[1], k[2]);
  }
  if (type == "TLSA") {
    if (k.size() < 4) return std::nullopt;
    auto u = number(k[0], 255), s = number(k[1], 255), m = number(k[2], 255);
    std::string data;
    for (std::size_t i = 3; i < k.size(); ++i) data += k[i];
    auto hex = hex_lower(data);
    if (!u || !s || !m || !hex) return std::nullopt;
    return fmt::format("{} {} {} {}", *u, *s, *m, *hex);
  }
  return std::nullopt;
}

std::optional<std::string> canonical_wire(std::string_view type_in, std::string_view d) {
  const std::string type = to_upper(type_in);
  if (type == "A") return dns::parse_address(d, dns::kA);
  if (type == "AAAA") {
    auto ip = dns::parse_address(d, dns::kAaaa);
    auto a = ip ? IpAddr::parse(*ip) : std::nullopt;  // one textual form (RFC 5952) for both sides
    if (!a) return std::nullopt;
    return a->to_string();
  }
  if (type == "MX") {
    auto mx = dns::parse_mx(d);
    if (!mx) return std::nullopt;
    return fmt::format("{} {}", mx->preference, canonical_name(mx->host));
  }
  if (type == "TXT") return dns::parse_txt(d);
  if (type == "CNAME" || type == "PTR") {
    auto n = dns::parse_name(d);
    if (!n) return std::nullopt;
    return canonical_name(*n);
  }
  if (type == "SRV") {
    auto s = dns::parse_srv(d);
    if (!s) return std::nullopt;
    return fmt::format("{} {} {} {}", s->priority, s->weight, s->port, canonical_name(s->target));
  }
  if (type == "CAA") {
    auto c = dns::parse_caa(d);
    if (!c) return std::nullopt;
    return caa_canonical(c->flags, c->tag, c->value);
  }
  if (type == "TLSA") {
    auto t = dns::parse_tlsa(d);
    if (!t) return std::nullopt;
    return fmt::format("{} {} {} {}", t->usage, t->selector, t->matching, hex(t->data));
  }
  return std::nullopt;
}

std::string presentation(std::string_view type, std::string_view canonical) {
  if (!iequals(type, "TXT")) return std::string(canonical);
  // RFC 1035 §5.1: quoted character-strings of at most 255 bytes, '"' and '\' escaped,
  // bytes outside printable ASCII as \DDD.
  std::string out;
  for (std::size_t i = 0; i < canonical.size() || i == 0; i += 255) {
    if (i) out += ' ';
    out += '"';
    for (unsigned char c : canonical.substr(i, 255)) {
      if (c == '"' || c == '\\') out += '\\', out += char(c);
      else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\{:03d}", c);
      else out += char(c);
    }
    out += '"';
    if (canonical.empty()) break;
  }
  return out;
}

std::string describe(std::string_view owner, std::string_view type, std::string_view canonical) {
  const std::string name = bare(canonical_name(owner));
  const std::string label = label_of(owner, to_upper(type), canonical);
  return label.empty() ? fmt::format("{} {}", name, to_upper(type)) : fmt::format("{} {} ({})", name, to_upper(type), label);
}

std::vector<Finding> compare_records(const std::vector<ExpectedRecord>& expected,
                                     const std::vector<PublishedRrset>& published, bool validating) {
  // Group the expected records by RRset, in the order they first appear.
  struct Group {
    std::string owner, type;
    std::vector<std::string> values;  // canonical
    std::vector<std::string> shown;   // as the admin was told to publish them
  };
  std::vector<Group> groups;
  std::vector<Finding> out;
  for (const auto& e : expected) {
    const std::string type = to_upper(e.type);
    auto c = canonical_rdata(type, e.value);
    if (!c) {  // a bug in whoever made the list: say so rather than compare garbage
      out.push_back(Finding::unknown("records", describe(e.owner, type, ""),
                                     fmt::format("the expected value {} does not parse", e.value),
                                     "report this as a bug in mailkeep"));
      continue;
    }
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const Group& x) { return x.owner == owner_key(e.owner) && x.type == type; });
    if (g == groups.end()) g = groups.insert(groups.end(), Group{owner_key(e.owner), type, {}, {}});
    if (std::find(g->values.begin(), g->values.end(), *c) != g->values.end()) continue;
    g->values.push_back(*c);
    g->shown.push_back(presentation(type, *c));
  }

  for (const auto& g : groups) {
    const std::string subject = describe(g.owner, g.type, g.values.front());
    const PublishedRrset* p = nullptr;
    for (const auto& r : published)
      if (owner_key(r.owner) == g.owner && to_upper(r.type) == g.type) p = &r;
    if (!p) {
      out.push_back(Finding::unknown("records", subject, "it was not looked up", "report this as a bug in mailkeep"));
      continue;
    }
    if (!p->error.empty()) {
      out.push_back(Finding::unknown(
          "records", subject, fmt::format("the lookup failed: {}", p->error),
          fmt::format("make sure the DNS servers of the zone answer for {} (dig {} {}), then run the check again",
                      bare(g.owner), g.type, g.owner)));
      continue;
    }
    if (validating && p->bogus) {
      out.push_back(Finding::failed(
          "records", subject,
          fmt::format("the answer fails DNSSEC validation ({}): senders treat it as an attack and use none of it",
                      p->why_bogus.empty() ? "bogus" : p->why_bogus),
          "re-sign the zone at your DNS provider, or if you stopped signing it, remove its DS record at your "
          "registrar"));
      continue;
    }
    std::vector<std::string> have;
    for (const auto& rd : p->rdata)
      if (auto c = canonical_wire(g.type, rd)) have.push_back(*c);
    std::vector<std::string> missing;
    for (const auto& v : g.values)
      if (std::find(have.begin(), have.end(), v) == have.end()) missing.push_back(v);
    std::vector<std::pair<std::string, std::string>> conflicts;  // value, why
    for (const auto& h : have) {
      if (std::find(g.values.begin(), g.values.end(), h) != g.values.end()) continue;
      if (auto why = conflict(g.owner, g.type, h, g.values); !why.empty()) conflicts.emplace_back(h, why);
    }
    const std::size_t before = out.size();
    if (missing.size() == 1 && conflicts.size() == 1) {
      // One record where another was expected: the common case of a wrong value.
      out.push_back(Finding::failed(
          "records", subject,
          fmt::format("is {}, expected {}", presentation(g.type, conflicts[0].first), presentation(g.type, missing[0])),
          fmt::format("replace it with: {}", zone_line(g.owner, g.type, presentation(g.type, missing[0])))));
    } else {
      for (const auto& m : missing) {
        const std::string problem =
            have.empty() ? (p->nxdomain ? fmt::format("not published ({} does not exist)", bare(g.owner)) : "not published")
            : g.values.size() == 1 && g.type != "TXT"  // other TXT records at a name are none of our business
                ? fmt::format("not published (found only {})", presentation(g.type, have.front()))
            : g.values.size() == 1 ? std::string("not published")
                                   : fmt::format("{} is not published", presentation(g.type, m));
        out.push_back(
            Finding::failed("records", subject, problem, "publish: " + zone_line(g.owner, g.type, presentation(g.type, m))));
      }
      for (const auto& [value, why] : conflicts)
        out.push_back(Finding::failed("records", subject, fmt::format("{}: {}", why, presentation(g.type, value)),
                                      "remove: " + zone_line(g.owner, g.type, presentation(g.type, value))));
    }
    if (out.size() != before) continue;
    // RFC 7672 §2.2: TLSA records are used only when the answer is DNSSEC-validated.
    if (validating && g.type == "TLSA" && !p->secure) {
      out.push_back(Finding::failed(
          "records", subject, "published, but not DNSSEC-signed: sending servers ignore TLSA records that are not (RFC 7672 §2.2)",
          "turn on DNSSEC for the zone at your DNS provider (and publish its DS record at the registrar)"));
      continue;
    }
    out.push_back(Finding::pass("records", subject));
  }
  return out;
}

}  // namespace mk::check
