#include "spf/check.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "dns/rdata.hpp"
#include "spf/record.hpp"

namespace mk::spf {
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxName = 253;

// RFC 7208 §4.3: a multi-label domain name of valid labels; a domain literal or a name
// whose top label is numeric is not a domain.
bool valid_domain(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  if (d.empty() || d.size() > kMaxName) return false;
  const auto labels = split(d, '.');
  if (labels.size() < 2) return false;
  for (auto l : labels) {
    if (l.empty() || l.size() > kMaxLabel) return false;
    for (unsigned char c : l)
      if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '@') return false;
  }
  const auto top = labels.back();
  return !std::all_of(top.begin(), top.end(), [](char c) { return is_digit(c); });
}

// A name built by macro expansion: queried only if every label is a valid one.
bool queryable(std::string_view d) {
  if (d.empty() || d.size() > kMaxName) return false;
  for (auto l : split(d, '.'))
    if (l.empty() || l.size() > kMaxLabel) return false;
  return true;
}

bool within(std::string_view name, std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return iequals(name, domain) ||
         (name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
          iequals(name.substr(name.size() - domain.size()), domain));
}

Outcome from_qualifier(Qualifier q) {
  switch (q) {
    case Qualifier::pass: return Outcome::pass;
    case Qualifier::fail: return Outcome::fail;
    case Qualifier::softfail: return Outcome::softfail;
    case Qualifier::neutral: return Outcome::neutral;
  }
  return Outcome::neutral;
}

enum class Match { yes, no, temperror, permerror };

struct MechResult {
  MechResult(Match m, std::string p = {}) : match(m), problem(std::move(p)) {}  // NOLINT
  Match match;
  std::string problem;
};

class Evaluator {
 public:
  Evaluator(dns::Lookup& dns, const Request& req, std::string local, std::string sender_domain)
      : dns_(dns), req_(req) {
    base_.local_part = local.empty() ? "postmaster" : std::move(local);
    base_.sender_domain = std::move(sender_domain);
    base_.ip = req.ip;
    base_.helo = req.helo;
    base_.receiver = req.receiver;
    base_.timestamp = req.timestamp;
  }

  asio::awaitable<Verdict> check(std::string domain) {
    Verdict v;
    v.domain = domain;
    if (!valid_domain(domain)) {
      v.problem = "not a valid domain name";
      co_return v;
    }
    auto ans = co_await dns_.query(domain, dns::kTxt);
    if (!ans || ans->temporary()) {
      v.result = Outcome::temperror;
      v.problem = "DNS error looking up the SPF record of " + domain;
      co_return v;
    }
    std::vector<std::string> records;
    for (const auto& rd : ans->rdata) {
      auto txt = dns::parse_txt(rd);
      if (txt && is_spf_record(*txt)) records.push_back(std::move(*txt));
    }
    if (records.empty()) {
      v.problem = "no SPF record for " + domain;
      co_return v;
    }
    if (records.size() > 1) {
      v.result = Outcome::permerror;
      v.problem = "more than one SPF record for " + domain;
      co_return v;
    }
    auto rec = parse_record(records[0]);
    if (!rec) {
      v.result = Outcome::permerror;
      v.problem = rec.error().message;
      co_return v;
    }
    MacroContext ctx = base_;
    ctx.domain = domain;
    for (const auto& m : rec->mechanisms) {
      if (m.kind == MechKind::include || m.kind == MechKind::a || m.kind == MechKind::mx ||
          m.kind == MechKind::ptr || m.kind == MechKind::exists) {
        if (++lookups_ > kMaxDnsMechanisms) {
          v.result = Outcome::permerror;
          v.problem = "more than 10 DNS-querying terms";
          co_return v;
        }
      }
      MechResult r = co_await mechanism(m, ctx);
      if (r.match == Match::no) continue;
      v.mechanism = m.text;
      if (r.match == Match::temperror || r.match == Match::permerror) {
        v.result = r.match == Match::temperror ? Outcome::temperror : Outcome::permerror;
        v.problem = std::move(r.problem);
        co_return v;
      }
      v.result = from_qualifier(m.qualifier);
      if (v.result == Outcome::fail) v.explanation = co_await explanation(*rec, ctx);
      co_return v;
    }
    if (rec->redirect) {
      if (++lookups_ > kMaxDnsMechanisms) {
        v.result = Outcome::permerror;
        v.problem = "more than 10 DNS-querying terms";
        co_return v;
      }
      auto target = co_await target_name(*rec->redirect, ctx);
      if (!target || !valid_domain(*target)) {
        v.result = Outcome::permerror;
        v.problem = "invalid redirect target";
        co_return v;
      }
      Verdict r = co_await check(*target);
      if (r.result == Outcome::none) {
        r.result = Outcome::permerror;
        r.problem = "redirect to " + *target + " which has no SPF record";
      }
      co_return r;
    }
    v.result = Outcome::neutral;
    v.mechanism = "default";
    co_return v;
  }

 private:
  // The query name a domain-spec expands to; nullopt for a macro error (a permerror).
  asio::awaitable<std::optional<std::string>> target_name(const std::string& spec, const MacroContext& ctx) {
    if (spec.empty()) co_return ctx.domain;
    MacroContext c = ctx;
    if (uses_ptr_macro(spec)) c.validated_ptr = co_await validated_ptr(ctx.domain);
    auto e = expand(spec, c, false);
    if (!e) co_return std::nullopt;
    co_return query_name(std::move(*e));
  }

  // Counts a void lookup (RFC 7208 §4.6.4); true when the limit is exceeded.
  bool void_lookup(const dns::Answer& a) {
    if (!a.rdata.empty()) return false;
    return ++voids_ > kMaxVoidLookups;
  }

  static bool addresses_match(const dns::Answer& a, const IpAddr& ip, int cidr) {
    for (const auto& rd : a.rdata) {
      auto addr = IpAddr::from_bytes(rd);
      if (addr && ip.in_prefix(*addr, cidr)) return true;
    }
    return false;
  }

  asio::awaitable<MechResult> mechanism(const Mechanism& m, const MacroContext& ctx) {
    const IpAddr& ip = req_.ip;
    const int cidr = ip.v4 ? m.cidr4 : m.cidr6;
    const int addr_type = ip.v4 ? dns::kA : dns::kAaaa;
    switch (m.kind) {
      case MechKind::all: co_return MechResult{Match::yes};
      case MechKind::ip4:
      case MechKind::ip6:
        co_return MechResult{ip.in_prefix(m.network, m.network.v4 ? m.cidr4 : m.cidr6) ? Match::yes : Match::no};
      default: break;
    }
    auto target = co_await target_name(m.domain_spec, ctx);
    if (!target) co_return MechResult{Match::permerror, "invalid macro in '" + m.text + "'"};
    if (m.kind == MechKind::include) {
      if (!valid_domain(*target)) co_return MechResult{Match::permerror, "invalid include target"};
      Verdict r = co_await check(*target);
      switch (r.result) {
        case Outcome::pass: co_return MechResult{Match::yes};
        case Outcome::fail:
        case Outcome::softfail:
        case Outcome::neutral: co_return MechResult{Match::no};
        case Outcome::temperror: co_return MechResult{Match::temperror, r.problem};
        case Outcome::none:
          co_return MechResult{Match::permerror, "include of " + *target + " which has no SPF record"};
        case Outcome::permerror: co_return MechResult{Match::permerror, r.problem};
      }
    }
    if (!queryable(*target)) co_return MechResult{Match::no};
    const std::string dns_error = "DNS error in '" + m.text + "'";
    const std::string too_many_voids = "more than 2 void lookups";
    switch (m.kind) {
      case MechKind::a: {
        auto a = co_await dns_.query(*target, addr_type);
        if (!a || a->temporary()) co_return MechResult{Match::temperror, dns_error};
        if (void_lookup(*a)) co_return MechResult{Match::permerror, too_many_voids};
        co_return MechResult{addresses_match(*a, ip, cidr) ? Match::yes : Match::no};
      }
      case MechKind::mx: {
        auto mx = co_await dns_.query(*target, dns::kMx);
        if (!mx || mx->temporary()) co_return MechResult{Match::temperror, dns_error};
        if (void_lookup(*mx)) co_return MechResult{Match::permerror, too_many_voids};
        if (mx->rdata.size() > std::size_t(kMaxMxNames))
          co_return MechResult{Match::permerror, "more than 10 MX names in '" + m.text + "'"};
        for (const auto& rd : mx->rdata) {
          auto host = dns::parse_mx(rd);
          if (!host || host->host.empty()) continue;
          auto a = co_await dns_.query(host->host, addr_type);
          if (!a || a->temporary()) co_return MechResult{Match::temperror, dns_error};
          if (addresses_match(*a, ip, cidr)) co_return MechResult{Match::yes};
        }
        co_return MechResult{Match::no};
      }
      case MechKind::ptr: {
        auto names = co_await validated_names();
        if (!names) co_return MechResult{Match::permerror, too_many_voids};
        const bool hit = std::any_of(names->begin(), names->end(),
                                     [&](const std::string& n) { return within(n, *target); });
        co_return MechResult{hit ? Match::yes : Match::no};
      }
      case MechKind::exists: {
        auto a = co_await dns_.query(*target, dns::kA);
        if (!a || a->temporary()) co_return MechResult{Match::temperror, dns_error};
        if (void_lookup(*a)) co_return MechResult{Match::permerror, too_many_voids};
        co_return MechResult{a->rdata.empty() ? Match::no : Match::yes};
      }
      default: break;
    }
    co_return MechResult{Match::no};
  }

  // RFC 7208 §5.5: the client's PTR names (at most 10) whose forward lookup gives the client's
  // address back. A DNS error just means no names; nullopt when the void limit is exceeded.
  asio::awaitable<std::optional<std::vector<std::string>>> validated_names() {
    std::vector<std::string> out;
    auto ptr = co_await dns_.query(req_.ip.reverse_name(), dns::kPtr);
    if (!ptr || ptr->temporary()) co_return out;
    if (void_lookup(*ptr)) co_return std::nullopt;
    const int addr_type = req_.ip.v4 ? dns::kA : dns::kAaaa;
    std::size_t seen = 0;
    for (const auto& rd : ptr->rdata) {
      if (seen++ >= std::size_t(kMaxPtrNames)) break;
      auto name = dns::parse_name(rd);
      if (!name) continue;
      auto a = co_await dns_.query(*name, addr_type);
      if (!a || a->temporary()) continue;
      if (addresses_match(*a, req_.ip, req_.ip.bits())) out.push_back(std::move(*name));
    }
    co_return out;
  }

  // %{p} (RFC 7208 §7.3): a validated name in the domain if there is one, else any.
  asio::awaitable<std::string> validated_ptr(std::string domain) {
    if (!ptr_cache_) {
      auto names = co_await validated_names();
      ptr_cache_ = names ? std::move(*names) : std::vector<std::string>{};
    }
    for (const auto& n : *ptr_cache_)
      if (within(n, domain)) co_return n;
    co_return ptr_cache_->empty() ? std::string("unknown") : ptr_cache_->front();
  }

  // RFC 7208 §6.2: the exp= text, or the default when anything about it goes wrong.
  asio::awaitable<std::string> explanation(const Record& rec, const MacroContext& ctx) {
    std::string fallback = req_.default_explanation;
    if (!rec.exp) co_return fallback;
    auto name = co_await target_name(*rec.exp, ctx);
    if (!name || !queryable(*name)) co_return fallback;
    auto ans = co_await dns_.query(*name, dns::kTxt);
    if (!ans || ans->temporary() || ans->rdata.size() != 1) co_return fallback;
    auto txt = dns::parse_txt(ans->rdata[0]);
    if (!txt) co_return fallback;
    MacroContext c = ctx;
    if (uses_ptr_macro(*txt)) c.validated_ptr = co_await validated_ptr(ctx.domain);
    auto text = expand(*txt, c, true);
    if (!text) co_return fallback;
    co_return std::move(*text);
  }

  dns::Lookup& dns_;
  const Request& req_;
  MacroContext base_;
  int lookups_ = 0;
  int voids_ = 0;
  std::optional<std::vector<std::string>> ptr_cache_;
};

std::pair<std::string, std::string> split_sender(std::string_view sender) {
  const auto at = sender.rfind('@');
  if (at == std::string_view::npos) return {"", std::string(sender)};
  return {std::string(sender.substr(0, at)), std::string(sender.substr(at + 1))};
}

}  // namespace

std::string_view outcome_name(Outcome r) {
  switch (r) {
    case Outcome::none: return "none";
    case Outcome::neutral: return "neutral";
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::softfail: return "softfail";
    case Outcome::temperror: return "temperror";
    case Outcome::permerror: return "permerror";
  }
  return "none";
}

asio::awaitable<Verdict> check_mail_from(dns::Lookup& dns, Request req) {
  const std::string sender = req.sender.empty() ? "postmaster@" + req.helo : req.sender;
  auto [local, domain] = split_sender(sender);
  Evaluator e(dns, req, local, domain);
  Verdict v = co_await e.check(domain);
  v.identity = req.sender.empty() ? "helo" : "mailfrom";
  v.domain = domain;
  co_return v;
}

asio::awaitable<Verdict> check_helo(dns::Lookup& dns, Request req) {
  Evaluator e(dns, req, "postmaster", req.helo);
  Verdict v = co_await e.check(req.helo);
  v.identity = "helo";
  v.domain = req.helo;
  co_return v;
}

std::string received_spf(const Verdict& v, const Request& req) {
  std::string comment;
  switch (v.result) {
    case Outcome::pass: comment = fmt::format("domain of {} designates {} as permitted sender", v.domain, req.ip.to_string()); break;
    case Outcome::fail:
    case Outcome::softfail: comment = fmt::format("domain of {} does not designate {} as permitted sender", v.domain, req.ip.to_string()); break;
    case Outcome::neutral: comment = fmt::format("{} is neither permitted nor denied by domain of {}", req.ip.to_string(), v.domain); break;
    default: comment = log_safe(v.problem, 120); break;
  }
  std::string out = fmt::format("Received-SPF: {} ({}: {}) client-ip={}; envelope-from=\"{}\"; helo={}; receiver={}; identity={}",
                                outcome_name(v.result), req.receiver, comment, req.ip.to_string(),
                                log_safe(req.sender, 256), log_safe(req.helo, 256), req.receiver, v.identity);
  if (!v.mechanism.empty()) out += "; mechanism=\"" + log_safe(v.mechanism, 120) + "\"";
  return out + "\r\n";
}

}  // namespace mk::spf
