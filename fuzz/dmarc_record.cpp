// Fuzzes DMARC record parsing.
#include <cstdint>
#include <string_view>

#include "dmarc/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mk::dmarc::is_dmarc_record(in);
  if (auto r = mk::dmarc::parse_record(in)) (void)mk::dmarc::policy_name(r->p);
  return 0;
}
