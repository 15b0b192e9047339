// Fuzzes DKIM header splitting and both canonicalizations on arbitrary messages.
#include <cstdint>
#include <string_view>

#include "dkim/canon.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t body = 0;
  auto fields = mk::dkim::split_header(in, body);
  if (body > in.size()) __builtin_trap();
  for (const auto& f : fields) {
    (void)mk::dkim::canon_header(f, mk::dkim::Canon::relaxed);
    (void)mk::dkim::canon_header(f, mk::dkim::Canon::simple);
  }
  (void)mk::dkim::canon_body(in.substr(body), mk::dkim::Canon::relaxed);
  (void)mk::dkim::canon_body(in.substr(body), mk::dkim::Canon::simple);
  return 0;
}
