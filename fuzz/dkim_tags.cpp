// Fuzzes DKIM's untrusted text: tag-lists, DKIM-Signature values, key records, and whole
// verification (DKIM and ARC) of the input as a message (keys from a mock DNS, one Ed25519 and one not a key).
#include <cstdint>
#include <string_view>

#include "arc/arc.hpp"
#include "dkim/tags.hpp"
#include "dkim/verify.hpp"
#include "dns/mock.hpp"
#include "await.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mk;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)dkim::TagList::parse(in);
  (void)dkim::parse_signature(in);
  (void)dkim::parse_key_record(in);
  (void)dkim::without_b_value(in);
  dns::MockLookup dns;
  dns.add_txt("s._domainkey.example.org", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  dns.add_txt("r._domainkey.example.org", "v=DKIM1; p=AAAA");
  const std::string msg(in);
  (void)test::await(dkim::verify(dns, msg, 1764547200));
  (void)test::await(arc::verify(dns, msg, 1764547200));
  return 0;
}
