// Fuzzes RFC 5321 path and mailbox parsing; a parsed mailbox must re-parse to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "message/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool utf8 : {false, true}) {
    auto p = mk::message::parse_path(in, utf8, true);
    if (p.ok() && p->consumed > in.size()) std::abort();
    auto m = mk::message::parse_mailbox(in, utf8);
    if (m.ok()) {
      auto again = mk::message::parse_mailbox(m->canonical(), utf8);
      if (!again.ok() || again->canonical() != m->canonical()) std::abort();
    }
    (void)mk::message::is_valid_domain(in, utf8);
  }
  return 0;
}
