#include "arc/arc.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "dkim/canon.hpp"
#include "dkim/tags.hpp"
#include "dkim/verify.hpp"
#include "message/codec.hpp"

namespace mk::arc {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kSeal = "ARC-Seal";
constexpr std::string_view kSignature = "ARC-Message-Signature";
constexpr std::string_view kResults = "ARC-Authentication-Results";

// Fields an ARC-Message-Signature covers when we seal (RFC 8617 §4.1.2: not the ARC fields
// themselves; Authentication-Results are the previous hops' business).
constexpr std::string_view kSealedFields[] = {"From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To",
                                              "In-Reply-To", "References", "MIME-Version", "Content-Type",
                                              "Content-Transfer-Encoding", "DKIM-Signature"};

struct Set {
  std::optional<dkim::RawField> results, signature, seal;
};

// The instance number of an ARC field: "i=N" before the first ';' (AAR) or as a tag.
std::optional<int> instance(std::string_view value) {
  auto tags = dkim::TagList::parse(value);
  const std::string* i = nullptr;
  if (tags) i = tags->find("i");
  std::string first;
  if (!i) {  // AAR: "i=1; authserv-id; results" is not a tag-list after the first ';'
    first = std::string(trim(value.substr(0, value.find(';'))));
    const auto eq = first.find('=');
    if (eq == std::string::npos || trim(std::string_view(first).substr(0, eq)) != "i") return std::nullopt;
    first = std::string(trim(std::string_view(first).substr(eq + 1)));
    i = &first;
  }
  auto n = parse_u64(*i);
  if (!n || *n < 1 || *n > std::uint64_t(kMaxInstances)) return std::nullopt;
  return int(*n);
}

std::string canon_relaxed(const dkim::RawField& f) { return dkim::canon_header(f, dkim::Canon::relaxed); }

// RFC 8617 §5.1.1: the data an ARC-Seal of instance `upto` signs: every set up to it, each as
// AAR, AMS, AS, the last AS without its b= value and without its CRLF.
std::string seal_data(const std::vector<Set>& sets, int upto, const dkim::RawField& last_seal) {
  std::string data;
  for (int i = 1; i <= upto; ++i) {
    const Set& s = sets[std::size_t(i)];
    data += canon_relaxed(*s.results);
    data += canon_relaxed(*s.signature);
    if (i < upto) data += canon_relaxed(*s.seal);
  }
  const std::string own_value = dkim::without_b_value(last_seal.value);
  std::string own = canon_relaxed(dkim::RawField{last_seal.name, own_value});
  own.resize(own.size() - 2);
  return data + own;
}

Result<dkim::Algorithm> algorithm(const dkim::TagList& tags) {
  const auto* a = tags.find("a");
  if (!a) return err("missing a=");
  if (*a == "rsa-sha256") return dkim::Algorithm::rsa_sha256;
  if (*a == "ed25519-sha256") return dkim::Algorithm::ed25519_sha256;
  return err("unsupported algorithm " + log_safe(*a, 40));
}

// An ARC-Message-Signature as a DKIM signature (RFC 8617 §4.1.2: DKIM's tags without v=,
// with i= the instance instead of an identity).
Result<dkim::Signature> ams_signature(std::string_view value) {
  auto tags = dkim::TagList::parse(value);
  if (!tags) return tags.error();
  dkim::Signature s;
  auto a = algorithm(*tags);
  if (!a) return a.error();
  s.algorithm = *a;
  for (const char* required : {"b", "bh", "d", "h", "s"})
    if (!tags->find(required)) return err(std::string("AMS without ") + required + "=");
  if (const auto* c = tags->find("c")) {
    auto canon = dkim::parse_canon(*c);
    if (!canon) return err("AMS with unknown c=");
    s.header_canon = canon->header;
    s.body_canon = canon->body;
  }
  s.domain = to_lower(*tags->find("d"));
  s.selector = *tags->find("s");
  s.identity = "@" + s.domain;
  s.b_b64 = dkim::strip_whitespace(*tags->find("b"));
  s.b = message::base64_decode(s.b_b64);
  s.bh = message::base64_decode(dkim::strip_whitespace(*tags->find("bh")));
  for (auto h : split(*tags->find("h"), ':')) {
    const std::string name(trim(dkim::strip_whitespace(h)));
    if (iequals(name, kSeal)) return err("AMS signs ARC-Seal");  // RFC 8617 §4.1.2
    if (!name.empty()) s.headers.push_back(name);
  }
  if (const auto* l = tags->find("l")) {
    auto n = parse_u64(*l);
    if (!n) return err("AMS with invalid l=");
    s.length = *n;
  }
  return s;
}

ChainResult failed(ChainResult r, std::string why) {
  r.status = Chain::fail;
  r.problem = std::move(why);
  return r;
}

}  // namespace

std::string_view chain_name(Chain c) {
  switch (c) {
    case Chain::none: return "none";
    case Chain::pass: return "pass";
    case Chain::fail: return "fail";
  }
  return "none";
}

asio::awaitable<ChainResult> verify(dns::Lookup& dns, std::string_view message, std::int64_t now) {
  ChainResult r;
  std::size_t body_start = 0;
  const auto fields = dkim::split_header(message, body_start);
  const std::string_view body = message.substr(body_start);
  std::vector<Set> sets(kMaxInstances + 2);
  int highest = 0, count = 0;
  for (const auto& f : fields) {
    const std::string_view name = trim(f.name);
    std::optional<dkim::RawField>* slot = nullptr;
    auto n = instance(f.value);
    const bool arc = iequals(name, kSeal) || iequals(name, kSignature) || iequals(name, kResults);
    if (!arc) continue;
    ++count;
    if (!n) co_return failed(std::move(r), "ARC field without a valid i=");
    Set& s = sets[std::size_t(*n)];
    slot = iequals(name, kSeal) ? &s.seal : iequals(name, kSignature) ? &s.signature : &s.results;
    if (*slot) co_return failed(std::move(r), fmt::format("two {} fields for i={}", name, *n));
    *slot = f;
    highest = std::max(highest, *n);
  }
  if (count == 0) co_return r;
  r.instances = highest;
  // RFC 8617 §5.2 steps 2-4: complete sets 1..N, cv=none at 1 and pass above; a newest
  // seal saying fail ends the chain.
  if (count != 3 * highest) co_return failed(std::move(r), "incomplete ARC sets");
  for (int i = 1; i <= highest; ++i) {
    const Set& s = sets[std::size_t(i)];
    if (!s.seal || !s.signature || !s.results) co_return failed(std::move(r), fmt::format("ARC set {} is incomplete", i));
    auto tags = dkim::TagList::parse(s.seal->value);
    if (!tags) co_return failed(std::move(r), "ARC-Seal: " + tags.error().message);
    const auto* cv = tags->find("cv");
    const auto* d = tags->find("d");
    if (!cv || !d) co_return failed(std::move(r), "ARC-Seal without cv= or d=");
    if (tags->find("h")) co_return failed(std::move(r), "ARC-Seal with h=");
    r.sealers.push_back(to_lower(*d));
    const std::string expected = i == 1 ? "none" : "pass";
    if (to_lower(*cv) != expected) co_return failed(std::move(r), fmt::format("ARC-Seal i={} has cv={}", i, log_safe(*cv, 10)));
  }
  {
    // "i=N; authserv-id; results": the results, unfolded.
    std::string v;
    for (char c : sets[std::size_t(highest)].results->value)
      if (c != '\r' && c != '\n') v += c;
    const auto first = v.find(';');
    const auto second = first == std::string::npos ? first : v.find(';', first + 1);
    if (second != std::string::npos) r.latest_results = std::string(trim(std::string_view(v).substr(second + 1)));
  }
  // Step 5: the newest ARC-Message-Signature.
  {
    const dkim::RawField ams = *sets[std::size_t(highest)].signature;
    auto sig = ams_signature(ams.value);
    if (!sig) co_return failed(std::move(r), sig.error().message);
    dkim::CanonBodies bodies;
    dkim::SigResult v = co_await dkim::verify_parsed(dns, fields, body, ams, std::move(*sig), now, bodies);
    if (v.status != dkim::Status::pass)
      co_return failed(std::move(r), fmt::format("ARC-Message-Signature i={}: {}", highest, v.problem));
  }
  // Step 7: every ARC-Seal, newest first.
  for (int i = highest; i >= 1; --i) {
    const dkim::RawField seal = *sets[std::size_t(i)].seal;
    auto tags = dkim::TagList::parse(seal.value);
    auto alg = algorithm(*tags);
    const auto* s = tags->find("s");
    const auto* b = tags->find("b");
    if (!alg || !s || !b) co_return failed(std::move(r), fmt::format("ARC-Seal i={} is malformed", i));
    auto key = co_await dkim::fetch_key(dns, *s, r.sealers[std::size_t(i - 1)]);
    if (!key) co_return failed(std::move(r), fmt::format("ARC-Seal i={}: {}", i, key.error().message));
    int bits = 0;
    std::string problem;
    const std::string data = seal_data(sets, i, seal);
    if (dkim::check_signature(*key, *alg, data, message::base64_decode(dkim::strip_whitespace(*b)), &bits, &problem) !=
        dkim::Status::pass)
      co_return failed(std::move(r), fmt::format("ARC-Seal i={}: {}", i, problem));
  }
  r.status = Chain::pass;
  co_return r;
}

Result<std::string> seal(std::string_view message, const Sealer& sealer, std::string_view authserv_id,
                         std::string_view results, const ChainResult& chain, std::int64_t now) {
  if (chain.status == Chain::fail && chain.instances == 0) return err("cannot seal after a malformed chain");
  const int i = chain.instances + 1;
  if (i > kMaxInstances) return err("the ARC chain is full");
  const std::string cv = chain.instances == 0 ? "none" : std::string(chain_name(chain.status));
  std::size_t body_start = 0;
  auto fields = dkim::split_header(message, body_start);
  const std::string bh =
      message::base64_encode(dkim::sha256(dkim::canon_body(message.substr(body_start), dkim::Canon::relaxed)));

  // The results as one folded value: no leading or trailing whitespace or line breaks, which
  // would end the header early.
  while (!results.empty() && std::string_view(" \t\r\n").find(results.front()) != std::string_view::npos)
    results.remove_prefix(1);
  while (!results.empty() && std::string_view(" \t\r\n").find(results.back()) != std::string_view::npos)
    results.remove_suffix(1);
  const std::string aar = fmt::format("ARC-Authentication-Results: i={}; {};\r\n\t{}", i, authserv_id, results);
  // The message signature: like DKIM's, over the fields present.
  std::vector<std::string> h;
  for (auto name : kSealedFields)
    for (const auto& f : fields)
      if (iequals(trim(f.name), name)) h.push_back(to_lower(name));
  std::string hlist;
  for (std::size_t k = 0; k < h.size(); ++k) hlist += (k ? ":" : "") + h[k];
  std::string ams = fmt::format("ARC-Message-Signature: i={}; a={}; c=relaxed/relaxed; d={}; s={};\r\n\tt={}; h={};\r\n\tbh={};\r\n\tb=",
                                i, dkim::algorithm_name(sealer.algorithm), sealer.domain, sealer.selector, now, hlist, bh);
  {
    std::string data = dkim::signed_fields(fields, h, dkim::Canon::relaxed);
    const auto colon = ams.find(':');
    std::string own = canon_relaxed(dkim::RawField{std::string_view(ams).substr(0, colon), std::string_view(ams).substr(colon + 1)});
    own.resize(own.size() - 2);
    auto sig = dkim::sign_data(sealer.algorithm, sealer.private_pem, data + own);
    if (!sig) return sig.error();
    ams += dkim::fold_b64(message::base64_encode(*sig));
  }
  std::string as = fmt::format("ARC-Seal: i={}; a={}; t={}; cv={};\r\n\td={}; s={};\r\n\tb=", i,
                               dkim::algorithm_name(sealer.algorithm), now, cv, sealer.domain, sealer.selector);
  {
    // The seal covers the earlier sets as the message carries them, then the new one.
    std::vector<Set> sets(std::size_t(i) + 1);
    for (const auto& f : fields) {
      const std::string_view name = trim(f.name);
      const bool arc = iequals(name, kSeal) || iequals(name, kSignature) || iequals(name, kResults);
      auto n = arc ? instance(f.value) : std::nullopt;
      if (!n || *n >= i) continue;
      Set& s = sets[std::size_t(*n)];
      (iequals(name, kSeal) ? s.seal : iequals(name, kSignature) ? s.signature : s.results) = f;
    }
    for (int k = 1; k < i; ++k)
      if (!sets[std::size_t(k)].seal || !sets[std::size_t(k)].signature || !sets[std::size_t(k)].results)
        return err("the message's ARC sets are incomplete");
    const auto split_field = [](const std::string& f) {
      const auto colon = f.find(':');
      return dkim::RawField{std::string_view(f).substr(0, colon), std::string_view(f).substr(colon + 1)};
    };
    sets[std::size_t(i)].results = split_field(aar);
    sets[std::size_t(i)].signature = split_field(ams);
    const dkim::RawField own = split_field(as);
    auto sig = dkim::sign_data(sealer.algorithm, sealer.private_pem, seal_data(sets, i, own));
    if (!sig) return sig.error();
    as += dkim::fold_b64(message::base64_encode(*sig));
  }
  return as + "\r\n" + ams + "\r\n" + aar + "\r\n";
}

}  // namespace mk::arc
