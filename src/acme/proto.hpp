// acme/proto.hpp: the ACME protocol's JSON objects (RFC 8555 §7.1) and the small text forms
// around them, without I/O: parsing the CA's directory, account, order, authorization,
// challenge and problem documents, and writing the payloads the client sends.
//
// STANDARDS: RFC 8555 §7.1 (resources), §6.7 (errors), RFC 7807 (problem details),
// RFC 4648 §5 (base64url), RFC 9110 §10.2.3 (Retry-After), RFC 3986 (the URLs we accept).
// SECURITY: everything here reads what a CA (or whoever answers in its place) sent, so it is
// untrusted and bounded: a document over kMaxDocument bytes, nesting deeper than kMaxDepth,
// arrays and strings over their limits are refused as malformed, never truncated. A status
// the RFC does not define for that object is malformed too. Fuzzed by fuzz/acme_json.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::acme {

// Limits on what the CA sends. Let's Encrypt allows 100 names per certificate, so an order
// never lists more authorizations than that; the rest are far above anything a CA sends.
inline constexpr std::size_t kMaxDocument = 1024 * 1024;  // also the transport's body limit
inline constexpr int kMaxDepth = 16;
inline constexpr std::size_t kMaxNames = 100;
inline constexpr std::size_t kMaxChallenges = 16;
inline constexpr std::size_t kMaxSubproblems = 100;
inline constexpr std::size_t kMaxContacts = 16;
inline constexpr std::size_t kMaxString = 8192;   // URLs, details, types
inline constexpr std::size_t kMaxToken = 256;     // RFC 8555 §8.1 tokens (43 chars at LE)
inline constexpr std::size_t kMinToken = 22;      // §8.1: at least 128 bits of entropy

// RFC 4648 §5, without padding (RFC 8555 §6.1 and RFC 7515 §2 forbid it).
std::string base64url_encode(std::string_view bytes);
// Strict: alphabet only, no padding, no whitespace, no non-zero trailing bits.
std::optional<std::string> base64url_decode(std::string_view text);
bool is_base64url(std::string_view text);

// RFC 8555 §7.1.6: the states of the objects. Each parser accepts only its object's states.
enum class Status { pending, ready, processing, valid, invalid, deactivated, expired, revoked };
std::string_view to_string(Status s);

struct Identifier {
  std::string type;  // "dns" (RFC 8555 §9.7.7); others parse but the client refuses them
  std::string value;
};

// RFC 7807 problem document with RFC 8555 §6.7's subproblems.
struct Problem {
  std::string type;    // "urn:ietf:params:acme:error:badNonce", or another URI
  std::string detail;  // for a human, may be empty
  int status = 0;      // as stated in the document (0: absent)
  std::string instance;
  std::optional<Identifier> identifier;  // on subproblems
  std::vector<Problem> subproblems;

  // The ACME error name ("badNonce") when the type is in the ACME namespace, else "".
  std::string_view acme_error() const;
  // "detail; name: detail; ..." with the subproblems, for logs and Failure messages.
  std::string describe() const;
};

// RFC 8555 §7.1.1
struct Directory {
  std::string new_nonce, new_account, new_order, revoke_cert, key_change;
  std::string terms_of_service;  // meta.termsOfService
  bool external_account_required = false;
  std::vector<std::string> caa_identities;
};

// RFC 8555 §7.1.2
struct Account {
  Status status = Status::valid;
  std::vector<std::string> contact;
  std::string orders;
};

// RFC 8555 §7.1.3
struct Order {
  Status status = Status::pending;
  std::vector<Identifier> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // once valid
  std::optional<Problem> error;
};

// RFC 8555 §7.1.5 and §8
struct Challenge {
  std::string type;  // "http-01", "tls-alpn-01", "dns-01", or one we do not know
  std::string url;
  Status status = Status::pending;
  std::string token;  // checked for http-01 and tls-alpn-01 (§8.1), kept raw for others
  std::optional<Problem> error;
};

// RFC 8555 §7.1.4
struct Authorization {
  Identifier identifier;
  Status status = Status::pending;
  std::vector<Challenge> challenges;
  bool wildcard = false;
};

Result<Directory> parse_directory(std::string_view json);
Result<Account> parse_account(std::string_view json);
Result<Order> parse_order(std::string_view json);
Result<Authorization> parse_authorization(std::string_view json);
Result<Challenge> parse_challenge(std::string_view json);
Result<Problem> parse_problem(std::string_view json);

// Payloads the client signs (compact JSON).
std::string new_account_payload(const std::vector<std::string>& contact);  // §7.3, ToS agreed
std::string new_order_payload(const std::vector<std::string>& dns_names);  // §7.4
std::string finalize_payload(std::string_view csr_der);                     // §7.4, base64url

// RFC 9110 §10.2.3: delay-seconds or an HTTP-date (IMF-fixdate only, the form servers must
// send); a date in the past is zero. `now` is unix seconds. nullopt when unreadable.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now);

// An http(s) URL as the transport needs it. Userinfo and fragments are refused: a CA never
// sends them, and userinfo would be a way to smuggle a different host past a reader.
struct Url {
  bool https = true;
  std::string host;    // lower-case; an IPv6 literal without brackets
  std::uint16_t port = 443;
  std::string target;  // path and query, "/" at least
  bool ip_literal = false;
};
Result<Url> parse_url(std::string_view url);
// localhost, 127.0.0.0/8 or ::1: the only hosts plain http:// is allowed for (tests).
bool is_loopback_host(const Url& url);

// RFC 1035 §2.3.1 host names as ACME identifiers: LDH labels of 1..63, 253 bytes at most,
// at least two labels, no wildcard (neither http-01 nor tls-alpn-01 can prove one:
// RFC 8555 §8.3, RFC 8737 §3).
bool is_valid_dns_name(std::string_view name);

}  // namespace mk::acme
