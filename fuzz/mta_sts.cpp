// Fuzzes the MTA-STS parsers: TXT record, policy file, HTTP response, MX patterns.
#include <cstdint>
#include <string_view>

#include "tlspolicy/mta_sts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mk::tlspolicy::parse_sts_txt(in);
  if (auto r = mk::tlspolicy::parse_http_response(in, mk::tlspolicy::kMaxPolicySize)) {
    if (auto p = mk::tlspolicy::parse_sts_policy(r->body)) (void)p->allows("mx.example.net");
  }
  if (auto p = mk::tlspolicy::parse_sts_policy(in)) (void)p->allows(in.substr(0, 64));
  const auto nl = in.find('\n');
  if (nl != std::string_view::npos) (void)mk::tlspolicy::mx_pattern_matches(in.substr(0, nl), in.substr(nl + 1));
  return 0;
}
