// spf/record.hpp: SPF records (RFC 7208 §4.5, §4.6, §5, §6) and macros (§7), parsed from
// untrusted DNS text. Pure functions, fuzzed (fuzz/spf_record.cpp).
//
// parse_record() checks the whole record before anything is evaluated: RFC 7208 §4.6 makes
// any syntax error anywhere a permerror, so a bad term after a matching one still counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.hpp"
#include "base/result.hpp"

namespace mk::spf {

enum class Qualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };
enum class MechKind { all, include, a, mx, ptr, ip4, ip6, exists };

struct Mechanism {
  Qualifier qualifier = Qualifier::pass;
  MechKind kind = MechKind::all;
  std::string domain_spec;  // macro-string; empty: the current domain (a, mx, ptr)
  IpAddr network;           // ip4, ip6
  int cidr4 = 32, cidr6 = 128;
  std::string text;  // the term as written, for explanations and logs
};

struct Record {
  std::vector<Mechanism> mechanisms;
  std::optional<std::string> redirect;  // domain-spec
  std::optional<std::string> exp;       // domain-spec
};

// Whether a TXT string is an SPF record: "v=spf1" then a space or the end (§4.5).
bool is_spf_record(std::string_view txt);

// The parsed record, or the permerror's reason.
Result<Record> parse_record(std::string_view txt);

// What macros expand to (§7.3). `validated_ptr` is the %{p} value, looked up beforehand.
struct MacroContext {
  std::string local_part;   // %{l}, "postmaster" when the sender has none
  std::string sender_domain;  // %{o}
  std::string domain;       // %{d}: the domain being checked
  IpAddr ip;                // %{i}, %{c}, %{v}
  std::string helo;         // %{h}
  std::string validated_ptr = "unknown";  // %{p}
  std::string receiver = "unknown";       // %{r}
  std::int64_t timestamp = 0;             // %{t}
};

// Macro syntax (§7.1): `explain` allows spaces and the c, r and t letters (exp= text).
bool valid_macro_string(std::string_view s, bool explain);
// Whether the string uses %{p}, which needs DNS lookups before expansion.
bool uses_ptr_macro(std::string_view s);
// The expansion, or an error for invalid macro syntax (a permerror).
Result<std::string> expand(std::string_view s, const MacroContext& ctx, bool explain);
// A domain-spec's expansion made fit for a query: trailing dot removed, labels dropped from the
// left until it is at most 253 characters (§7.3).
std::string query_name(std::string expanded);
// A domain-spec must end in a top label or in a macro (§4.8 domain-end).
bool valid_domain_spec(std::string_view s);

}  // namespace mk::spf
