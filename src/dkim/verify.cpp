#include "dkim/verify.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "base/strings.hpp"
#include "dkim/tags.hpp"
#include "dns/rdata.hpp"
#include "message/codec.hpp"

namespace mk::dkim {
namespace asio = boost::asio;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

constexpr std::size_t kHeaderBPrefix = 12;  // RFC 6008: enough of b= to tell signatures apart

std::optional<std::int64_t> parse_time(const std::string* v) {
  if (!v) return std::nullopt;
  auto n = parse_u64(*v);
  if (!n || *n > std::uint64_t(INT64_MAX)) return std::nullopt;
  return std::int64_t(*n);
}

// "name@sub.example.com" is in "example.com"; with strict, only exactly.
bool identity_in_domain(std::string_view identity, std::string_view domain, bool strict) {
  const auto at = identity.rfind('@');
  const std::string_view idom = at == std::string_view::npos ? identity : identity.substr(at + 1);
  if (iequals(idom, domain)) return true;
  return !strict && idom.size() > domain.size() && idom[idom.size() - domain.size() - 1] == '.' &&
         iequals(idom.substr(idom.size() - domain.size()), domain);
}

Result<Pkey> load_key(const PublicKey& k) {
  if (k.algorithm == Algorithm::ed25519_sha256) {
    if (k.data.size() != 32) return err("Ed25519 key is not 32 bytes");
    Pkey p(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(k.data.data()), k.data.size()));
    if (!p) return err("invalid Ed25519 key");
    return p;
  }
  const auto* der = reinterpret_cast<const unsigned char*>(k.data.data());
  Pkey p(d2i_PUBKEY(nullptr, &der, long(k.data.size())));
  if (!p) {  // some publish the bare RSAPublicKey (PKCS#1) instead of SubjectPublicKeyInfo
    der = reinterpret_cast<const unsigned char*>(k.data.data());
    p.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &der, long(k.data.size())));
  }
  if (!p || EVP_PKEY_get_base_id(p.get()) != EVP_PKEY_RSA) return err("invalid RSA key");
  return p;
}

}  // namespace

std::string_view status_name(Status s) {
  switch (s) {
    case Status::pass: return "pass";
    case Status::fail: return "fail";
    case Status::policy: return "policy";
    case Status::neutral: return "neutral";
    case Status::temperror: return "temperror";
    case Status::permerror: return "permerror";
  }
  return "permerror";
}

Result<Signature> parse_signature(std::string_view value) {
  auto tags = TagList::parse(value);
  if (!tags) return tags.error();
  Signature s;
  const auto* v = tags->find("v");
  if (!v || *v != "1") return err("v= is not 1");
  for (const char* required : {"a", "b", "bh", "d", "h", "s"})
    if (!tags->find(required)) return err(std::string("missing ") + required + "= tag");
  const std::string a = to_lower(*tags->find("a"));
  if (a == "rsa-sha256") s.algorithm = Algorithm::rsa_sha256;
  else if (a == "ed25519-sha256") s.algorithm = Algorithm::ed25519_sha256;
  else if (a == "rsa-sha1") return err("rsa-sha1 is not accepted (RFC 8301)");
  else return err("unknown algorithm " + log_safe(a, 40));
  if (const auto* c = tags->find("c")) {
    auto canon = parse_canon(*c);
    if (!canon) return err("unknown canonicalization " + log_safe(*c, 40));
    s.header_canon = canon->header;
    s.body_canon = canon->body;
  }
  s.domain = to_lower(*tags->find("d"));
  s.selector = *tags->find("s");
  if (s.domain.empty() || s.selector.empty()) return err("empty d= or s=");
  s.b_b64 = strip_whitespace(*tags->find("b"));
  s.b = message::base64_decode(s.b_b64);
  s.bh = message::base64_decode(strip_whitespace(*tags->find("bh")));
  if (s.b.empty() || s.bh.empty()) return err("empty b= or bh=");
  bool from = false;
  for (auto h : split(*tags->find("h"), ':')) {
    const std::string name(trim(strip_whitespace(h)));
    if (name.empty()) return err("empty name in h=");
    from = from || iequals(name, "from");
    s.headers.push_back(name);
  }
  if (!from) return err("h= does not include From");  // RFC 6376 §5.4
  if (const auto* i = tags->find("i")) {
    if (!identity_in_domain(*i, s.domain, false)) return err("i= is not within d=");
    s.identity = *i;
  } else {
    s.identity = "@" + s.domain;
  }
  if (const auto* l = tags->find("l")) {
    auto n = parse_u64(*l);
    if (!n) return err("invalid l=");
    s.length = *n;
  }
  if (const auto* q = tags->find("q"); q && q->find("dns/txt") == std::string::npos) return err("unknown q=");
  if (tags->find("t") && !(s.timestamp = parse_time(tags->find("t")))) return err("invalid t=");
  if (tags->find("x") && !(s.expiration = parse_time(tags->find("x")))) return err("invalid x=");
  if (s.timestamp && s.expiration && *s.expiration < *s.timestamp) return err("x= is before t=");
  return s;
}

Result<PublicKey> parse_key_record(std::string_view txt) {
  auto tags = TagList::parse(txt);
  if (!tags) return tags.error();
  PublicKey k;
  if (const auto* v = tags->find("v"); v && (*v != "DKIM1" || tags->tags().front().name != "v"))
    return err("key record v= is not DKIM1");
  if (const auto* kt = tags->find("k")) {
    if (*kt == "ed25519") k.algorithm = Algorithm::ed25519_sha256;
    else if (*kt != "rsa") return err("unknown key type " + log_safe(*kt, 40));
  }
  if (const auto* h = tags->find("h")) {
    bool sha256 = false;
    for (auto x : split(*h, ':')) sha256 = sha256 || trim(x) == "sha256";
    if (!sha256) return err("key does not allow sha256");
  }
  if (const auto* st = tags->find("s")) {
    bool email = false;
    for (auto x : split(*st, ':')) email = email || trim(x) == "*" || trim(x) == "email";
    if (!email) return err("key is not for email");
  }
  if (const auto* t = tags->find("t")) {
    for (auto f : split(*t, ':')) {
      k.testing = k.testing || trim(f) == "y";
      k.strict = k.strict || trim(f) == "s";
    }
  }
  const auto* p = tags->find("p");
  if (!p) return err("key record without p=");
  const std::string b64 = strip_whitespace(*p);
  if (b64.empty()) return err("key revoked (empty p=)");
  k.data = message::base64_decode(b64);
  if (k.data.empty()) return err("invalid p=");
  return k;
}

std::string without_b_value(std::string_view value) {
  std::string out;
  const auto parts = split(value, ';');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && strip_whitespace(part.substr(0, eq)) == "b") part = part.substr(0, eq + 1);
    if (i) out += ';';
    out += part;
  }
  return out;
}

asio::awaitable<Result<PublicKey>> fetch_key(dns::Lookup& dns, std::string selector, std::string domain) {
  const std::string name = selector + "._domainkey." + domain;
  auto ans = co_await dns.query(name, dns::kTxt);
  if (!ans || ans->temporary()) co_return err("DNS error looking up " + name, kTemporary);
  std::string problem = "no key at " + name;
  for (const auto& rd : ans->rdata) {
    auto txt = dns::parse_txt(rd);
    if (!txt) continue;
    auto key = parse_key_record(*txt);
    if (key) co_return std::move(*key);
    problem = key.error().message;
  }
  co_return err(problem);
}

Status check_signature(const PublicKey& key, Algorithm a, std::string_view data, std::string_view sig,
                       int* key_bits, std::string* problem) {
  if (key.algorithm != a) {
    *problem = "key type does not match the signature algorithm";
    return Status::permerror;
  }
  auto pkey = load_key(key);
  if (!pkey) {
    *problem = pkey.error().message;
    return Status::permerror;
  }
  *key_bits = EVP_PKEY_get_bits(pkey->get());
  if (a == Algorithm::rsa_sha256 && *key_bits < kMinRsaBits) {
    *problem = "RSA key shorter than 1024 bits (RFC 8301)";
    return Status::permerror;
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  // RFC 8463 §3: Ed25519 verifies the SHA-256 hash of the data; RSA hashes the data itself.
  const std::string input = a == Algorithm::ed25519_sha256 ? sha256(data) : std::string(data);
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, a == Algorithm::ed25519_sha256 ? nullptr : EVP_sha256(), nullptr,
                                  pkey->get()) != 1) {
    *problem = "cannot set up verification";
    return Status::permerror;
  }
  const int ok = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                  reinterpret_cast<const unsigned char*>(input.data()), input.size());
  if (ok == 1) return Status::pass;
  *problem = "signature did not verify";
  return Status::fail;
}

asio::awaitable<SigResult> verify_parsed(dns::Lookup& dns, const std::vector<RawField>& fields, std::string_view body,
                                         RawField field, Signature sig, std::int64_t now, CanonBodies& bodies) {
  SigResult r;
  r.domain = sig.domain;
  r.selector = sig.selector;
  r.identity = sig.identity;
  r.algorithm = std::string(algorithm_name(sig.algorithm));
  r.b_prefix = sig.b_b64.substr(0, kHeaderBPrefix);
  if (sig.expiration && *sig.expiration < now) {
    r.problem = "signature expired";
    co_return r;
  }
  auto cached = bodies.find(sig.body_canon);
  if (cached == bodies.end()) cached = bodies.emplace(sig.body_canon, canon_body(body, sig.body_canon)).first;
  std::string_view signed_body = cached->second;
  bool unsigned_tail = false;
  if (sig.length) {
    if (*sig.length > signed_body.size()) {
      r.problem = "l= is longer than the body";
      co_return r;
    }
    unsigned_tail = *sig.length < signed_body.size();
    signed_body = signed_body.substr(0, *sig.length);
  }
  if (sha256(signed_body) != sig.bh) {
    r.status = Status::fail;
    r.problem = "body hash did not verify";
    co_return r;
  }
  auto key = co_await fetch_key(dns, sig.selector, sig.domain);
  if (!key) {
    r.status = key.error().code == kTemporary ? Status::temperror : Status::permerror;
    r.problem = key.error().message;
    co_return r;
  }
  r.testing = key->testing;
  if (key->strict && !identity_in_domain(sig.identity, sig.domain, true)) {
    r.problem = "i= is a subdomain of d= but the key is strict (t=s)";
    co_return r;
  }
  std::string data = signed_fields(fields, sig.headers, sig.header_canon);
  const std::string own_value = without_b_value(field.value);
  std::string own = canon_header(RawField{field.name, own_value}, sig.header_canon);
  own.resize(own.size() - 2);  // the signature field is hashed without its CRLF
  data += own;
  r.status = check_signature(*key, sig.algorithm, data, sig.b, &r.key_bits, &r.problem);
  if (r.status == Status::pass && unsigned_tail) {
    r.status = Status::policy;
    r.problem = "body content after the signed length l=";
  }
  co_return r;
}

asio::awaitable<std::vector<SigResult>> verify(dns::Lookup& dns, std::string_view message, std::int64_t now) {
  std::vector<SigResult> out;
  std::size_t body_start = 0;
  const auto fields = split_header(message, body_start);
  const std::string_view body = message.substr(body_start);
  CanonBodies bodies;
  for (const auto& field : fields) {
    if (!iequals(trim(field.name), "DKIM-Signature")) continue;
    if (out.size() >= kMaxSignatures) break;
    auto sig = parse_signature(field.value);
    if (!sig) {
      SigResult r;
      r.problem = sig.error().message;
      out.push_back(std::move(r));
      continue;
    }
    SigResult r = co_await verify_parsed(dns, fields, body, field, std::move(*sig), now, bodies);
    out.push_back(std::move(r));
  }
  co_return out;
}

}  // namespace mk::dkim
