#include "dmarc/dmarc.hpp"

#include <libpsl.h>

#include "base/strings.hpp"
#include "dns/rdata.hpp"

namespace mk::dmarc {
namespace asio = boost::asio;

struct OrgDomains::Impl {
  const psl_ctx_t* ctx = nullptr;
  bool owned = false;
};

OrgDomains::OrgDomains() : impl_(std::make_unique<Impl>()) {
  // psl_latest: the newer of the system list (Debian's publicsuffix) and the built-in one.
  if (psl_ctx_t* latest = psl_latest(nullptr)) {
    impl_->ctx = latest;
    impl_->owned = true;
  } else {
    impl_->ctx = psl_builtin();
  }
}

OrgDomains::~OrgDomains() {
  if (impl_->owned) psl_free(const_cast<psl_ctx_t*>(impl_->ctx));
}

std::string OrgDomains::organizational(std::string_view domain) const {
  std::string d = to_lower(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (!impl_->ctx) return d;
  const char* r = psl_registrable_domain(impl_->ctx, d.c_str());
  return r ? std::string(r) : d;
}

bool OrgDomains::aligned(std::string_view a, std::string_view b, bool strict) const {
  if (iequals(a, b)) return true;
  return !strict && organizational(a) == organizational(b);
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::none: return "none";
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::temperror: return "temperror";
    case Outcome::permerror: return "permerror";
  }
  return "none";
}

namespace {

struct Lookup {
  enum { found, none, temperror } state = none;
  Record record;
  std::string text;
  std::string problem;
};

// RFC 7489 §6.6.3: exactly one valid record at _dmarc.<domain>, else none.
asio::awaitable<Lookup> fetch(dns::Lookup& dns, std::string domain) {
  Lookup out;
  auto ans = co_await dns.query("_dmarc." + domain, dns::kTxt);
  if (!ans || ans->temporary()) {
    out.state = Lookup::temperror;
    out.problem = "DNS error looking up _dmarc." + domain;
    co_return out;
  }
  std::vector<std::string> records;
  for (const auto& rd : ans->rdata) {
    auto txt = dns::parse_txt(rd);
    if (txt && is_dmarc_record(*txt)) records.push_back(std::move(*txt));
  }
  if (records.size() != 1) {
    if (records.size() > 1) out.problem = "more than one DMARC record at _dmarc." + domain;
    co_return out;
  }
  auto rec = parse_record(records[0]);
  if (!rec) {
    out.problem = rec.error().message;
    co_return out;
  }
  out.state = Lookup::found;
  out.record = std::move(*rec);
  out.text = std::move(records[0]);
  co_return out;
}

// DMARCbis §4.8: a domain that answers NXDOMAIN for A, AAAA and MX does not exist.
asio::awaitable<bool> exists(dns::Lookup& dns, std::string domain) {
  for (int type : {dns::kA, dns::kAaaa, dns::kMx}) {
    auto a = co_await dns.query(domain, type);
    if (!a || !a->nxdomain) co_return true;
  }
  co_return false;
}

Policy softer(Policy p) { return p == Policy::reject ? Policy::quarantine : Policy::none; }

}  // namespace

asio::awaitable<Verdict> evaluate(dns::Lookup& dns, const OrgDomains& orgs, Input in, int sample) {
  Verdict v;
  v.from_domain = to_lower(in.from_domain);
  v.org_domain = orgs.organizational(v.from_domain);
  if (v.from_domain.empty()) {
    v.result = Outcome::permerror;
    v.problem = "no From domain";
    co_return v;
  }
  Lookup found = co_await fetch(dns, v.from_domain);
  v.policy_domain = v.from_domain;
  if (found.state == Lookup::none && v.org_domain != v.from_domain) {
    found = co_await fetch(dns, v.org_domain);
    v.policy_domain = v.org_domain;
  }
  // Alignment is worked out even without a policy (relaxed, then): the receiver's own rules
  // (mail claiming a domain we host) need it.
  const bool strict_spf = found.state == Lookup::found && found.record.strict_spf;
  const bool strict_dkim = found.state == Lookup::found && found.record.strict_dkim;
  v.spf_aligned = in.spf_pass && orgs.aligned(in.spf_domain, v.from_domain, strict_spf);
  for (const auto& d : in.dkim_pass_domains) {
    if (orgs.aligned(d, v.from_domain, strict_dkim)) {
      v.dkim_aligned = true;
      v.dkim_domain = d;
      break;
    }
  }
  if (found.state == Lookup::temperror) {
    v.result = Outcome::temperror;
    v.problem = std::move(found.problem);
    co_return v;
  }
  if (found.state == Lookup::none) {
    v.problem = found.problem.empty() ? "no DMARC record" : std::move(found.problem);
    v.policy_domain.clear();
    co_return v;
  }
  const Record& rec = found.record;
  v.record = rec;
  v.record_text = found.text;
  v.policy = rec.p;
  if (v.policy_domain != v.from_domain) {
    bool nonexistent = false;
    if (rec.np) nonexistent = !(co_await exists(dns, v.from_domain));
    if (nonexistent) v.policy = *rec.np;
    else if (rec.sp) v.policy = *rec.sp;
  }
  if (v.spf_aligned || v.dkim_aligned) {
    v.result = Outcome::pass;
    co_return v;
  }
  v.result = Outcome::fail;
  v.disposition = v.policy;
  // RFC 7489 §6.6.4: outside the pct= sample the next softer policy applies; DMARCbis t=y
  // asks for the same.
  if (sample >= rec.pct || rec.testing) v.disposition = softer(v.policy);
  co_return v;
}

}  // namespace mk::dmarc
