// Fuzzes mailkeep.toml loading: TOML syntax through toml++ and every key's validation.
#include <cstdint>
#include <string>

#include "app/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)mk::app::parse_config(text, "fuzz.toml", "/base");
  return 0;
}
