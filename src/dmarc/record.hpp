// dmarc/record.hpp: DMARC policy records (RFC 7489 §6.3, §6.4) with the DMARCbis additions
// (np=, t=, psd=). Pure, fuzzed (fuzz/dmarc_record.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::dmarc {

enum class Policy { none, quarantine, reject };
std::string_view policy_name(Policy p);

struct Record {
  Policy p = Policy::none;
  std::optional<Policy> sp;  // subdomains
  std::optional<Policy> np;  // DMARCbis: non-existent subdomains
  bool strict_dkim = false;  // adkim=s
  bool strict_spf = false;   // aspf=s
  int pct = 100;             // RFC 7489; DMARCbis drops it for t=
  bool testing = false;      // DMARCbis t=y
  std::vector<std::string> rua;  // aggregate report URIs ("mailto:...")
  std::vector<std::string> ruf;
  std::string fo = "0";
  int ri = 86400;
};

// Whether a TXT string is a DMARC record: "v=DMARC1" first, then ";" or the end.
bool is_dmarc_record(std::string_view txt);

// The record, or why it is invalid. Unknown tags are ignored (RFC 7489 §6.3); a missing or
// invalid p= makes the record invalid unless rua= is valid, then p=none (§6.6.3 step 6).
Result<Record> parse_record(std::string_view txt);

}  // namespace mk::dmarc
