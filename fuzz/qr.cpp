// Fuzzes the QR encoder (web/qr.hpp) with any bytes: a code for every input that fits, of the
// size its version says, and its SVG; never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "web/qr.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto qr = mk::web::make_qr(in);
  if (qr.has_value() != (size <= mk::web::kMaxQrBytes)) std::abort();
  if (!qr) return 0;
  if (qr->size < 21 || qr->size > 97 || (qr->size - 17) % 4 != 0 ||
      qr->modules.size() != std::size_t(qr->size) * std::size_t(qr->size))
    std::abort();
  (void)mk::web::qr_svg(*qr);
  return 0;
}
