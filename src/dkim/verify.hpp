// dkim/verify.hpp: DKIM verification (RFC 6376 §6) with rsa-sha256 and ed25519-sha256
// (RFC 8463), results per signature as Authentication-Results reports them (RFC 8601 §2.7.1).
//
// SECURITY: RFC 8301: rsa-sha1 and RSA keys under 1024 bits are not accepted. A signature
// whose l= leaves part of the body unsigned verifies as "policy", never "pass": anything can
// be appended after the signed length. At most kMaxSignatures signatures are checked, so a
// message cannot make us do unbounded DNS and RSA work. Expired signatures (x=) do not pass.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"
#include "dkim/canon.hpp"
#include "dkim/sign.hpp"
#include "dns/lookup.hpp"

namespace mk::dkim {

inline constexpr int kMinRsaBits = 1024;            // RFC 8301 §3.2
inline constexpr std::size_t kMaxSignatures = 8;

enum class Status { pass, fail, policy, neutral, temperror, permerror };
std::string_view status_name(Status s);  // "pass"

struct Signature {
  Algorithm algorithm = Algorithm::rsa_sha256;
  Canon header_canon = Canon::simple, body_canon = Canon::simple;
  std::string domain;    // d=, lower-case
  std::string selector;  // s=
  std::string identity;  // i=, or "@" + d
  std::string b, bh;     // decoded
  std::string b_b64;     // b= as written, whitespace removed (for header.b)
  std::vector<std::string> headers;  // h=
  std::optional<std::uint64_t> length;  // l=
  std::optional<std::int64_t> timestamp, expiration;
};
// The value of a DKIM-Signature field (after the colon).
Result<Signature> parse_signature(std::string_view value);

struct PublicKey {
  Algorithm algorithm = Algorithm::rsa_sha256;
  std::string data;  // RSA: DER (SubjectPublicKeyInfo or RSAPublicKey); Ed25519: 32 raw bytes
  bool testing = false;  // t=y
  bool strict = false;   // t=s: i= must be in d= exactly, not a subdomain
};
// A key record (RFC 6376 §3.6.1); an empty p= is a revoked key (an error).
Result<PublicKey> parse_key_record(std::string_view txt);

struct SigResult {
  Status status = Status::permerror;
  std::string domain, selector, identity;
  std::string algorithm;  // "rsa-sha256"
  std::string b_prefix;   // the first characters of b=, for header.b (RFC 6008)
  int key_bits = 0;
  bool testing = false;
  std::string problem;    // why it did not pass
};

// Every DKIM-Signature of a message (CRLF line endings), top to bottom. `message` must stay
// alive until the coroutine ends.
boost::asio::awaitable<std::vector<SigResult>> verify(dns::Lookup& dns, std::string_view message, std::int64_t now);

// One parsed signature (DKIM-Signature, or an ARC-Message-Signature mapped onto Signature)
// over a message split by split_header(); `field` is the signature's own header field.
// `bodies` keeps canonical bodies between signatures of one message (each is made once).
using CanonBodies = std::map<Canon, std::string>;
boost::asio::awaitable<SigResult> verify_parsed(dns::Lookup& dns, const std::vector<RawField>& fields,
                                                std::string_view body, RawField field, Signature sig, std::int64_t now,
                                                CanonBodies& bodies);

// The shared steps, also used by ARC (RFC 8617 §5.1): the key of selector._domainkey.domain,
// and a signature check over data with it. A DNS failure is an error with code kTemporary.
inline constexpr int kTemporary = 1;
boost::asio::awaitable<Result<PublicKey>> fetch_key(dns::Lookup& dns, std::string selector, std::string domain);
Status check_signature(const PublicKey& key, Algorithm a, std::string_view data, std::string_view sig,
                       int* key_bits, std::string* problem);
// The field's value with the value of its b= tag removed (RFC 6376 §3.7).
std::string without_b_value(std::string_view value);

}  // namespace mk::dkim
