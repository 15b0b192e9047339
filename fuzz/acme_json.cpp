// Fuzzes what an ACME client reads from a CA (acme/proto.hpp): the JSON objects (directory,
// account, order, authorization, challenge, problem), a Retry-After value, a URL, base64url.
// Bytes in, a value or an error out, never a crash; base64url must round-trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acme/proto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace mk::acme;
  // Every parser sees every input: the seeds of one object are near misses of the others.
  (void)parse_directory(in);
  (void)parse_account(in);
  if (auto o = parse_order(in)) (void)to_string(o->status);
  if (auto a = parse_authorization(in)) {
    for (const auto& c : a->challenges) (void)c.error;
  }
  (void)parse_challenge(in);
  if (auto p = parse_problem(in)) {
    (void)p->describe();
    (void)p->acme_error();
  }
  if (size < 256) {
    (void)parse_retry_after(in, 1700000000);
    if (auto u = parse_url(in)) (void)is_loopback_host(*u);
    (void)is_valid_dns_name(in);
  }
  if (auto bytes = base64url_decode(in)) {
    if (base64url_encode(*bytes) != in) std::abort();
  }
  return 0;
}
