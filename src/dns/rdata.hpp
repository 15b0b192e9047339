// dns/rdata.hpp: decoders for the RDATA of the record types mail delivery reads. Pure
// functions over untrusted bytes (fuzzed: fuzz/dns_rdata.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mk::dns {

inline constexpr int kA = 1, kCname = 5, kPtr = 12, kMx = 15, kTxt = 16, kAaaa = 28, kSrv = 33, kDnskey = 48,
                     kTlsa = 52, kCaa = 257;

// RDATA decoders (RFC 1035 §3.3.9, §3.4.1, RFC 3596, RFC 6698 §2.1, RFC 2782, RFC 8659).
struct Mx {
  std::uint16_t preference = 0;
  std::string host;  // lower-case, no trailing dot; "" for the null MX "." (RFC 7505)
};
std::optional<Mx> parse_mx(std::string_view rdata);
std::optional<std::string> parse_address(std::string_view rdata, int type);  // textual IP
std::optional<std::string> parse_txt(std::string_view rdata);                // strings joined
std::optional<std::string> parse_name(std::string_view rdata);  // PTR, CNAME: lower-case, no trailing dot
struct Tlsa {
  std::uint8_t usage = 0, selector = 0, matching = 0;
  std::string data;
};
std::optional<Tlsa> parse_tlsa(std::string_view rdata);
struct Srv {  // RFC 2782
  std::uint16_t priority = 0, weight = 0, port = 0;
  std::string target;  // lower-case, no trailing dot; "" for "." (service not offered)
};
std::optional<Srv> parse_srv(std::string_view rdata);
struct Caa {  // RFC 8659 §4.1
  std::uint8_t flags = 0;
  std::string tag;    // as published (tags compare case-insensitively)
  std::string value;  // raw bytes
};
std::optional<Caa> parse_caa(std::string_view rdata);

// Encoders, for test resolvers and anything that builds answers (RFC 1035 §3.3).
std::string encode_name(std::string_view name);  // "a.example" -> "\1a\7example\0"
std::string encode_txt(std::string_view text);   // split into 255-byte character-strings
std::optional<std::string> encode_address(std::string_view ip);  // A or AAAA RDATA
std::string encode_mx(std::uint16_t preference, std::string_view host);
std::string encode_srv(const Srv& srv);
std::string encode_caa(const Caa& caa);
std::string encode_tlsa(const Tlsa& tlsa);

}  // namespace mk::dns
