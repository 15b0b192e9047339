// Fuzzes reading a web page's preview (share/preview.hpp) with any bytes and charset: never a
// crash, and every value valid UTF-8 of bounded length.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "message/header.hpp"
#include "share/preview.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the HTTP charset the page came with.
  static constexpr std::string_view kCharsets[] = {"", "utf-8", "iso-8859-1", "windows-1252", "shift_jis", "bogus"};
  const std::string_view charset = size ? kCharsets[data[0] % 6] : "";
  if (size) in.remove_prefix(1);
  const auto p = mk::share::read_preview(in, charset);
  using mk::share::kMaxDescription, mk::share::kMaxTitle, mk::share::kMaxUrl;
  const std::pair<const std::string*, std::size_t> fields[] = {
      {&p.title, kMaxTitle}, {&p.description, kMaxDescription}, {&p.site_name, kMaxTitle}, {&p.image, kMaxUrl}, {&p.url, kMaxUrl}};
  for (const auto& [v, max] : fields)
    if (!mk::message::valid_utf8(*v) || v->size() > max + 3) std::abort();  // "…" is 3 bytes
  return 0;
}
