// Fuzzes the SCRAM-SHA-256 server on client messages: the input is split at the first NUL
// into client-first and client-final.
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/scram.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // A verifier with the minimum iteration count keeps each run fast.
  static const std::string secret = mk::auth::make_scram_secret("pencil", 4096);
  mk::auth::ScramServer s([](const std::string& u) -> std::optional<std::string> {
    if (u == "user") return secret;
    return std::nullopt;
  });
  const auto nul = in.find('\0');
  auto first = s.client_first(in.substr(0, nul));
  if (first.kind == mk::auth::ScramServer::Step::Kind::challenge && nul != std::string_view::npos)
    (void)s.client_final(in.substr(nul + 1));
  return 0;
}
