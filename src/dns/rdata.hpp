// dns/rdata.hpp: decoders for the RDATA of the record types mail delivery reads. Pure
// functions over untrusted bytes (fuzzed: fuzz/dns_rdata.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mk::dns {

inline constexpr int kA = 1, kMx = 15, kTxt = 16, kAaaa = 28, kTlsa = 52;

// RDATA decoders (RFC 1035 §3.3.9, §3.4.1, RFC 3596, RFC 6698 §2.1).
struct Mx {
  std::uint16_t preference = 0;
  std::string host;  // lower-case, no trailing dot; "" for the null MX "." (RFC 7505)
};
std::optional<Mx> parse_mx(std::string_view rdata);
std::optional<std::string> parse_address(std::string_view rdata, int type);  // textual IP
std::optional<std::string> parse_txt(std::string_view rdata);                // strings joined
struct Tlsa {
  std::uint8_t usage = 0, selector = 0, matching = 0;
  std::string data;
};
std::optional<Tlsa> parse_tlsa(std::string_view rdata);

}  // namespace mk::dns
