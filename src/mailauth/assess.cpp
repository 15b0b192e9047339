#include "mailauth/assess.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/all.hpp"
#include "base/strings.hpp"
#include "dns/rdata.hpp"
#include "message/header.hpp"

namespace mk::mailauth {
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxPtrNames = 10;    // as SPF's limit (RFC 7208 §4.6.4)
constexpr std::size_t kMaxValueLength = 200;

// RFC 8601 §2.2 pvalue: a token-like value as is, anything else as a quoted-string.
std::string pvalue(std::string_view v) {
  std::string s = log_safe(v, kMaxValueLength);
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.@").find(c) != std::string_view::npos;
  });
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A comment's text: no parentheses or backslashes from untrusted data.
std::string comment(std::string_view v) {
  std::string s = log_safe(v, kMaxValueLength);
  std::replace_if(s.begin(), s.end(), [](char c) { return c == '(' || c == ')' || c == '\\'; }, ' ');
  return s;
}

struct IprevResult {
  Iprev result = Iprev::permerror;
  std::string name;
};

// RFC 8601 §3: the PTR names of the client, one of which must resolve back to it.
asio::awaitable<IprevResult> iprev(dns::Lookup& dns, IpAddr ip) {
  IprevResult r;
  auto ptr = co_await dns.query(ip.reverse_name(), dns::kPtr);
  if (!ptr || ptr->temporary()) {
    r.result = Iprev::temperror;
    co_return r;
  }
  if (ptr->rdata.empty()) co_return r;  // no PTR: permerror
  r.result = Iprev::fail;
  bool temp = false;
  for (std::size_t i = 0; i < ptr->rdata.size() && i < kMaxPtrNames; ++i) {
    auto name = dns::parse_name(ptr->rdata[i]);
    if (!name) continue;
    auto a = co_await dns.query(*name, ip.v4 ? dns::kA : dns::kAaaa);
    if (!a || a->temporary()) {
      temp = true;
      continue;
    }
    for (const auto& rd : a->rdata) {
      if (IpAddr::from_bytes(rd) == ip) {
        r.result = Iprev::pass;
        r.name = *name;
        co_return r;
      }
    }
  }
  if (temp) r.result = Iprev::temperror;
  co_return r;
}

asio::awaitable<bool> resolves_to(dns::Lookup& dns, std::string name, IpAddr ip) {
  auto a = co_await dns.query(name, ip.v4 ? dns::kA : dns::kAaaa);
  if (!a || a->temporary()) co_return false;
  for (const auto& rd : a->rdata)
    if (IpAddr::from_bytes(rd) == ip) co_return true;
  co_return false;
}

}  // namespace

std::string_view iprev_name(Iprev r) {
  switch (r) {
    case Iprev::pass: return "pass";
    case Iprev::fail: return "fail";
    case Iprev::temperror: return "temperror";
    case Iprev::permerror: return "permerror";
  }
  return "permerror";
}

asio::awaitable<Assessment> assess(dns::Lookup& dns, const dmarc::OrgDomains& orgs, Params p,
                                   const message::Parsed& msg) {
  Assessment a;
  a.from_fields = msg.authors().fields;
  a.from_domains = msg.authors().domains();
  // Not every author was read (too many, or a From: past the header's limits): DMARC cannot
  // vouch for the message, whatever the fields it read say.
  if (msg.authors().truncated) a.from_fields = std::max<std::size_t>(a.from_fields, 2);
  const std::string_view content = msg.text();

  // SPF (both identities), DKIM, ARC and reverse DNS do not depend on each other: their
  // lookups run at once, interleaved on this coroutine's executor (so nothing here needs a
  // lock); DMARC needs their results and runs after.
  auto spf_part = [&]() -> asio::awaitable<void> {
    spf::Request req;
    req.ip = p.ip;
    req.sender = p.mail_from;
    req.helo = p.helo;
    req.receiver = p.authserv_id;
    req.timestamp = p.now;
    if (p.have_ip) {
      a.spf = co_await spf::check_mail_from(dns, req);
      // The HELO identity too, when MAIL FROM was checked (for the null sender it already was).
      if (!p.mail_from.empty() && !p.helo.empty() && p.helo.front() != '[') a.helo_spf = co_await spf::check_helo(dns, req);
      else a.helo_spf = a.spf;
    } else {
      a.spf.problem = "not checked: the client's IP address is unknown";
      a.spf.domain = p.mail_from.substr(p.mail_from.rfind('@') + 1);
    }
  };
  auto dkim_part = [&]() -> asio::awaitable<void> { a.dkim = co_await dkim::verify(dns, content, p.now); };
  auto arc_part = [&]() -> asio::awaitable<void> { a.arc = co_await arc::verify(dns, content, p.now); };
  auto iprev_part = [&]() -> asio::awaitable<void> {
    IprevResult ir;
    if (p.have_ip) ir = co_await iprev(dns, p.ip);
    a.iprev = ir.result;
    a.ptr_name = ir.name;
    if (p.have_ip && !p.helo.empty()) {
      if (!a.ptr_name.empty() && iequals(a.ptr_name, p.helo)) a.helo_matches = true;
      else if (p.helo.front() != '[') a.helo_matches = co_await resolves_to(dns, p.helo, p.ip);
    }
  };
  // Built first: GCC 12 mishandles temporaries in a co_await's operand.
  auto parts = all(spf_part(), dkim_part(), arc_part(), iprev_part());
  co_await std::move(parts);

  if (a.from_domains.size() == 1 && a.from_fields == 1) {
    dmarc::Input in;
    in.from_domain = a.from_domains[0];
    in.spf_pass = a.spf.result == spf::Outcome::pass;
    in.spf_domain = a.spf.domain;
    for (const auto& s : a.dkim)
      if (s.status == dkim::Status::pass) in.dkim_pass_domains.push_back(s.domain);
    a.dmarc = co_await dmarc::evaluate(dns, orgs, std::move(in), p.sample);
  } else {
    a.dmarc.result = a.from_domains.empty() && a.from_fields <= 1 ? dmarc::Outcome::none : dmarc::Outcome::permerror;
    a.dmarc.problem = a.from_domains.empty() ? "no From address" : "more than one From field or domain";
  }
  a.header = authentication_results(a, p);
  co_return a;
}

std::string authentication_results(const Assessment& a, const Params& p) {
  std::vector<std::string> parts;
  {
    std::string s = fmt::format("spf={}", spf::outcome_name(a.spf.result));
    if (!a.spf.problem.empty() && a.spf.result != spf::Outcome::pass) s += " (" + comment(a.spf.problem) + ")";
    if (p.mail_from.empty()) s += " smtp.helo=" + pvalue(p.helo);
    else s += " smtp.mailfrom=" + pvalue(p.mail_from);
    parts.push_back(std::move(s));
  }
  if (a.dkim.empty()) parts.push_back("dkim=none");
  for (const auto& d : a.dkim) {
    std::string s = fmt::format("dkim={}", dkim::status_name(d.status));
    if (!d.problem.empty()) s += " (" + comment(d.problem) + ")";
    else if (d.key_bits) s += fmt::format(" ({}-bit key)", d.key_bits);
    if (!d.domain.empty()) s += " header.d=" + pvalue(d.domain);
    if (!d.selector.empty()) s += " header.s=" + pvalue(d.selector);
    if (!d.algorithm.empty()) s += " header.a=" + pvalue(d.algorithm);
    if (!d.b_prefix.empty()) s += " header.b=" + pvalue(d.b_prefix);
    parts.push_back(std::move(s));
  }
  {
    std::string s = fmt::format("dmarc={}", dmarc::outcome_name(a.dmarc.result));
    if (a.dmarc.record)
      s += fmt::format(" (p={} dis={})", dmarc::policy_name(a.dmarc.policy), dmarc::policy_name(a.dmarc.disposition));
    else if (!a.dmarc.problem.empty())
      s += " (" + comment(a.dmarc.problem) + ")";
    if (a.from_domains.size() == 1) s += " header.from=" + pvalue(a.from_domains[0]);
    parts.push_back(std::move(s));
  }
  {
    std::string s = fmt::format("arc={}", arc::chain_name(a.arc.status));
    if (a.arc.status == arc::Chain::pass)
      s += fmt::format(" (i={} d={})", a.arc.instances, comment(a.arc.sealers.back()));
    else if (!a.arc.problem.empty())
      s += " (" + comment(a.arc.problem) + ")";
    parts.push_back(std::move(s));
  }
  if (p.have_ip) {
    std::string s = fmt::format("iprev={} policy.iprev={}", iprev_name(a.iprev), p.ip.to_string());
    if (!a.ptr_name.empty()) s += " (" + comment(a.ptr_name) + ")";
    parts.push_back(std::move(s));
  }
  std::string out = "Authentication-Results: " + p.authserv_id;
  for (const auto& x : parts) out += ";\r\n\t" + x;
  return out + "\r\n";
}

std::string strip_own_results(const message::Parsed& msg, std::string_view authserv_id, std::size_t* removed) {
  *removed = 0;
  const std::string_view content = msg.text();
  std::string out;
  std::size_t copied = 0;
  for (const auto& f : msg.header()) {
    if (!iequals(f.name, "Authentication-Results")) continue;
    // RFC 8601 §2.2: authserv-id [ CFWS authres-version ] ";" ...
    std::string id = message::strip_comments(message::unfold(f.value));
    id = std::string(trim(id.substr(0, id.find(';'))));
    id = id.substr(0, id.find_first_of(" \t"));
    if (!iequals(id, authserv_id)) continue;
    const std::size_t start = std::size_t(f.name.data() - content.data());
    std::size_t end = std::size_t(f.value.data() + f.value.size() - content.data());
    if (content.substr(end, 2) == "\r\n") end += 2;
    else if (content.substr(end, 1) == "\n") end += 1;
    out.append(content.substr(copied, start - copied));
    copied = end;
    ++*removed;
  }
  out.append(content.substr(copied));
  return out;
}

}  // namespace mk::mailauth
