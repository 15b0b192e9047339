// setup/records.cpp: the records to publish and their zone-file and web-form renderings.
// STANDARDS and SECURITY: see setup/records.hpp.
#include "setup/records.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "base/ip.hpp"
#include "base/strings.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::setup {
namespace {

// RFC 1035 §3.3.14: a character-string is at most 255 bytes.
constexpr std::size_t kMaxTxtString = 255;

// RFC 8314 §5.1: SRV priorities make mail clients prefer implicit TLS (lower is preferred,
// RFC 2782) over STARTTLS, which stays published for clients that know only RFC 6186.
constexpr int kImplicitTlsPriority = 0;
constexpr int kStartTlsPriority = 10;
constexpr int kMxPreference = 10;

bool in_zone(std::string_view name, std::string_view zone) {
  return name == zone || (name.size() > zone.size() && name.ends_with(zone) &&
                          name[name.size() - zone.size() - 1] == '.');
}

// The zone the host's own records go in: the longest hosted domain at or above the hostname,
// else the hostname's parent (a guess: the full names are printed too).
std::string host_zone(const Inputs& in) {
  const std::string& h = in.host.hostname;
  std::string best;
  for (const auto& d : in.domains)
    if (in_zone(h, d.domain) && d.domain.size() > best.size()) best = d.domain;
  if (!best.empty()) return best;
  const auto dot = h.find('.');
  if (dot != std::string::npos && h.find('.', dot + 1) != std::string::npos)
    return h.substr(dot + 1);
  return h;
}

std::string dkim_why(const DkimKeyInput& k, std::string_view domain) {
  std::string why = fmt::format("DKIM {} key, {}", dkim::algorithm_name(k.algorithm), k.state);
  if (k.state == "next")
    why +=
        fmt::format(" (publish now; `mailkeep domain dkim activate {}` once it resolves)", domain);
  else if (k.state == "retired")
    why += " (keep until the next rotation)";
  return why;
}

void host_records(const Inputs& in, std::vector<Record>& out) {
  const HostInput& h = in.host;
  const std::string zone = host_zone(in);
  const std::string target = h.hostname + ".";
  for (const auto& a : h.addresses) {
    auto ip = IpAddr::parse(a);
    if (!ip) continue;
    out.push_back({h.hostname, ip->v4 ? "A" : "AAAA", kTtl, ip->to_string(),
                   fmt::format("this server's {} address", ip->v4 ? "IPv4" : "IPv6"), zone});
  }
  // RFC 7672 §3.1.1: DANE-EE(3) SPKI(1) SHA-256(1) pins the key, not the certificate, so a
  // renewed certificate for the same key keeps matching; the next key is published ahead so
  // the switch to it never leaves senders without a matching record.
  if (!h.tlsa_current.empty())
    out.push_back({"_25._tcp." + h.hostname, "TLSA", kTtl, "3 1 1 " + to_lower(h.tlsa_current),
                   "DANE (RFC 7672): the key of the certificate in use; DNSSEC-signed zones only",
                   zone});
  if (!h.tlsa_next.empty())
    out.push_back({"_25._tcp." + h.hostname, "TLSA", kTtl, "3 1 1 " + to_lower(h.tlsa_next),
                   "DANE: the next key, published ahead so the key rollover never breaks DANE",
                   zone});
  // RFC 8659 §4.2: on the host, not the domain, so a website on the domain keeps its own CA;
  // the mta-sts, autoconfig and autodiscover names are CNAMEs here, so it covers them too.
  for (const auto& ca : h.caa_issuers)
    out.push_back({h.hostname, "CAA", kTtl, fmt::format("0 issue \"{}\"", to_lower(ca)),
                   fmt::format("only {} may issue certificates for this server's names (RFC 8659)",
                               to_lower(ca)),
                   zone});
  for (const auto& a : h.addresses) {
    auto ip = IpAddr::parse(a);
    if (!ip) continue;
    out.push_back(
        {ip->reverse_name(), "PTR", kTtl, target,
         fmt::format("reverse DNS of {}: set by whoever owns the address (your hosting provider); "
                     "large providers refuse mail without it",
                     ip->to_string()),
         ""});
  }
}

void domain_records(const DomainInput& d, const std::string& hostname, std::vector<Record>& out) {
  const std::string& z = d.domain;
  const std::string target = hostname + ".";
  auto add = [&](std::string owner, std::string type, std::string value, std::string why) {
    // A CNAME cannot sit beside the host's own records (RFC 1034 §3.6.2).
    if (type == "CNAME" && owner == hostname) return;
    out.push_back({std::move(owner), std::move(type), kTtl, std::move(value), std::move(why), z});
  };
  add(z, "MX", fmt::format("{} {}", kMxPreference, target),
      fmt::format("mail for {} goes to this server", z));
  add(z, "TXT", txt_strings("v=spf1 mx -all"),
      fmt::format("SPF: only {}'s MX hosts send its mail", z));
  for (const auto& k : d.dkim)
    add(k.selector + "._domainkey." + z, "TXT",
        txt_strings(dkim::dns_txt(k.algorithm, k.public_b64)), dkim_why(k, z));
  std::string dmarc = "v=DMARC1; p=quarantine; adkim=s; aspf=s";
  if (!d.dmarc_rua.empty()) dmarc += "; rua=mailto:" + d.dmarc_rua;
  add("_dmarc." + z, "TXT", txt_strings(dmarc),
      d.dmarc_rua.empty()
          ? "DMARC: receivers quarantine mail failing SPF and DKIM alignment"
          : fmt::format("DMARC: receivers quarantine mail failing alignment and report to {}",
                        d.dmarc_rua));
  if (!d.sts_policy.empty()) {
    add("_mta-sts." + z, "TXT", txt_strings(tlspolicy::sts_txt_for(d.sts_policy)),
        "MTA-STS (RFC 8461): senders must use TLS to this MX; the id changes with the policy");
    add("mta-sts." + z, "CNAME", target,
        fmt::format("https://mta-sts.{}/.well-known/mta-sts.txt: the policy, served by this server",
                    z));
  }
  if (!d.tlsrpt_rua.empty())
    add("_smtp._tls." + z, "TXT", txt_strings("v=TLSRPTv1; rua=mailto:" + d.tlsrpt_rua),
        fmt::format("TLS-RPT (RFC 8460): senders report TLS failures to {}", d.tlsrpt_rua));
  struct Srv {
    const char* service;
    int priority;
    int port;
    const char* why;
  };
  static constexpr Srv kSrv[] = {
      {"_submissions._tcp", kImplicitTlsPriority, 465,
       "mail clients: submission with implicit TLS (RFC 8314, preferred)"},
      {"_submission._tcp", kStartTlsPriority, 587,
       "mail clients: submission with STARTTLS (RFC 6186)"},
      {"_imaps._tcp", kImplicitTlsPriority, 993,
       "mail clients: IMAP with implicit TLS (RFC 8314, preferred)"},
      {"_imap._tcp", kStartTlsPriority, 143, "mail clients: IMAP with STARTTLS (RFC 6186)"},
  };
  for (const auto& s : kSrv)
    add(fmt::format("{}.{}", s.service, z), "SRV",
        fmt::format("{} 1 {} {}", s.priority, s.port, target), s.why);
  // RFC 6186 §4 with RFC 2782: the target "." says the service is decidedly not offered, so
  // clients do not guess at POP3 ports.
  for (const char* pop : {"_pop3s._tcp", "_pop3._tcp"})
    add(fmt::format("{}.{}", pop, z), "SRV", "0 0 0 .", "POP3 is not offered (RFC 6186 §4)");
  add("autoconfig." + z, "CNAME", target,
      "mail client autoconfiguration (Thunderbird and others), served by this server");
  add("autodiscover." + z, "CNAME", target, "Outlook's autodiscover, served by this server");
  add("_autodiscover._tcp." + z, "SRV", fmt::format("0 1 443 {}", target),
      "where Outlook finds autodiscover");
}

// The zones of the records, in the order they first appear; PTR's empty zone last.
std::vector<std::string> zones_of(const std::vector<Record>& records) {
  std::vector<std::string> zones;
  bool reverse = false;
  for (const auto& r : records) {
    if (r.zone.empty())
      reverse = true;
    else if (std::find(zones.begin(), zones.end(), r.zone) == zones.end())
      zones.push_back(r.zone);
  }
  if (reverse) zones.push_back("");
  return zones;
}

// What a TXT value's presentation form says: its character-strings, concatenated. Quoted
// strings take RFC 1035 §5.1 escapes (\X, \DDD); unquoted text is taken as it is (a web
// form's value).
std::string txt_text(std::string_view v) {
  v = trim(v);
  if (v.empty() || v.front() != '"') return std::string(v);
  std::string out;
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '\\' && i + 1 < v.size()) {
      if (i + 3 < v.size() && is_digit(v[i + 1]) && is_digit(v[i + 2]) && is_digit(v[i + 3])) {
        out += char((v[i + 1] - '0') * 100 + (v[i + 2] - '0') * 10 + (v[i + 3] - '0'));
        i += 3;
      } else {
        out += v[++i];
      }
    } else if (quoted) {
      out += c;
    }  // whitespace between strings separates them and is not part of the text
  }
  return out;
}

// The address a reverse name is for: "25.2.0.192.in-addr.arpa" -> "192.0.2.25"; the
// ip6.arpa nibbles likewise (RFC 3596 §2.5); the name itself if it is neither.
std::string address_of(std::string_view reverse) {
  std::vector<std::string_view> labels = split(reverse, '.');
  std::string text;
  if (reverse.ends_with(".in-addr.arpa") && labels.size() == 6) {
    for (int i = 3; i >= 0; --i) text += std::string(labels[std::size_t(i)]) + (i ? "." : "");
  } else if (reverse.ends_with(".ip6.arpa") && labels.size() == 34) {
    for (int i = 31; i >= 0; --i)
      text += std::string(labels[std::size_t(i)]) + (i % 4 == 0 && i ? ":" : "");
  }
  auto ip = IpAddr::parse(text);
  return ip ? ip->to_string() : std::string(reverse);
}

std::vector<std::string> tokens(std::string_view v) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < v.size() && v[j] != ' ' && v[j] != '\t') ++j;
    if (j > i) out.emplace_back(v.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::size_t from, std::string_view sep) {
  std::string out;
  for (std::size_t i = from; i < parts.size(); ++i)
    out += (i > from ? std::string(sep) : "") + parts[i];
  return out;
}

std::string absolute(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return name;
}

}  // namespace

bool plausible_fqdn(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  const auto labels = split(name, '.');
  if (labels.size() < 2) return false;
  for (auto l : labels) {
    if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
    for (char c : l)
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  const std::string_view tld = labels.back();
  if (std::all_of(tld.begin(), tld.end(), [](char c) { return is_digit(c); })) return false;
  const std::string lower = to_lower(name);
  for (std::string_view local :
       {"localhost", "invalid", "local", "localdomain", "lan", "internal", "home.arpa"})
    if (in_zone(lower, local)) return false;
  return true;
}

std::string txt_strings(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  do {
    if (i) out += ' ';
    out += '"';
    for (char c : text.substr(i, kMaxTxtString)) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\')
        out += '\\', out += c;
      else if (u < 0x20 || u >= 0x7f)
        out += fmt::format("\\{:03}", u);
      else
        out += c;
    }
    out += '"';
    i += kMaxTxtString;
  } while (i < text.size());
  return out;
}

std::string relative_name(std::string_view owner, std::string_view zone) {
  if (zone.empty() || !in_zone(owner, zone)) return std::string(owner) + ".";
  if (owner == zone) return "@";
  return std::string(owner.substr(0, owner.size() - zone.size() - 1));
}

std::vector<Record> records(const Inputs& in) {
  std::vector<Record> out;
  host_records(in, out);
  for (const auto& d : in.domains) domain_records(d, in.host.hostname, out);
  return out;
}

std::string render_zone(const std::vector<Record>& records, const std::vector<std::string>& notes) {
  std::string out;
  for (const auto& n : notes) out += "; " + n + "\n";
  for (const auto& zone : zones_of(records)) {
    out += zone.empty()
               ? "\n; reverse DNS: not in your zone; ask your hosting provider to set these\n"
               : fmt::format("\n; zone {}\n", zone);
    for (const auto& r : records) {
      if (r.zone != zone) continue;
      out += "; " + r.why + "\n";
      out += fmt::format("{}{}.\t{}\tIN\t{}\t{}\n", zone.empty() ? "; " : "", r.owner, r.ttl,
                         r.type, r.value);
    }
  }
  return out;
}

std::string render_rows(const std::vector<Record>& records) {
  std::string out;
  for (const auto& zone : zones_of(records)) {
    struct Row {
      std::string name, full, type, ttl, value;
    };
    // Reverse DNS is asked for by address, in the address owner's own form.
    std::vector<Row> rows{{zone.empty() ? "address" : "name", "full name", "type", "TTL", "value"}};
    for (const auto& r : records) {
      if (r.zone != zone) continue;
      rows.push_back({zone.empty() ? address_of(r.owner) : relative_name(r.owner, zone), r.owner,
                      r.type, std::to_string(r.ttl),
                      r.type == "TXT" ? txt_text(r.value) : r.value});
    }
    std::size_t wn = 0, wf = 0, wt = 0, wl = 0;
    for (const auto& row : rows) {
      wn = std::max(wn, row.name.size());
      wf = std::max(wf, row.full.size());
      wt = std::max(wt, row.type.size());
      wl = std::max(wl, row.ttl.size());
    }
    out += zone.empty() ? "\nReverse DNS, set by your hosting provider (not in your zone)\n"
                        : fmt::format("\nZone {}\n", zone);
    for (const auto& row : rows)
      out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", row.name, wn, row.full, wf,
                         row.type, wt, row.ttl, wl, row.value);
  }
  return out;
}

RecordKey normalize(std::string_view owner, std::string_view type, std::string_view rdata) {
  RecordKey k;
  k.owner = to_lower(trim(owner));
  if (!k.owner.empty() && k.owner.back() == '.' && k.owner.size() > 1) k.owner.pop_back();
  k.type = to_upper(trim(type));
  if (k.type == "TXT") {
    k.rdata = txt_text(rdata);
    return k;
  }
  auto t = tokens(rdata);
  if (k.type == "A" || k.type == "AAAA") {
    auto ip = t.size() == 1 ? IpAddr::parse(t[0]) : std::nullopt;
    k.rdata = ip ? ip->to_string() : to_lower(join(t, 0, " "));
  } else if (k.type == "TLSA" && t.size() >= 4) {
    // dig splits the digest into groups and prints it in upper case.
    k.rdata = fmt::format("{} {} {} {}", t[0], t[1], t[2], to_lower(join(t, 3, "")));
  } else if (k.type == "CAA" && t.size() >= 3) {
    std::string value = join(t, 2, " ");
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    k.rdata = fmt::format("{} {} {}", t[0], to_lower(t[1]), value);
  } else {
    for (auto& s : t) s = to_lower(s);
    // The target of MX, SRV, CNAME and PTR is a name: absolute, whichever way it was written.
    if (!t.empty() && (k.type == "MX" || k.type == "SRV" || k.type == "CNAME" || k.type == "PTR"))
      t.back() = absolute(t.back());
    k.rdata = join(t, 0, " ");
  }
  return k;
}

RecordKey key_of(const Record& r) {
  return normalize(r.owner, r.type, r.value);
}

}  // namespace mk::setup
