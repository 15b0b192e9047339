// Fuzzes the RDATA decoders (MX, A/AAAA, TXT, TLSA, SRV, CAA) on arbitrary bytes from DNS answers.
#include <cstdint>
#include <string_view>

#include "dns/rdata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mk::dns::parse_mx(in);
  (void)mk::dns::parse_address(in, mk::dns::kA);
  (void)mk::dns::parse_address(in, mk::dns::kAaaa);
  (void)mk::dns::parse_txt(in);
  (void)mk::dns::parse_tlsa(in);
  (void)mk::dns::parse_srv(in);
  (void)mk::dns::parse_caa(in);
  return 0;
}
