// Fuzzes the MIME parser and the header helpers it uses (addresses, parameters, encoded
// words, transfer decodings). Every part's ranges must lie inside the message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace {
void check(const mk::message::Part& p, std::string_view msg) {
  if (p.offset > msg.size() || p.body_offset + p.body_size > msg.size() ||
      p.offset + p.header_size > msg.size())
    std::abort();
  for (const auto& h : p.headers) {
    (void)mk::message::decode_words(h.value);
    (void)mk::message::parse_address_list(h.value);
  }
  (void)mk::message::decode_transfer(p.body(msg).substr(0, 4096), p.encoding);
  for (const auto& c : p.children) check(c, msg);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view msg(reinterpret_cast<const char*>(data), size);
  mk::message::MimeLimits lim;
  lim.max_depth = 8;
  lim.max_parts = 200;
  auto root = mk::message::parse_mime(msg, lim);
  check(root, msg);
  (void)mk::message::find_part(root, {1, 2, 1});
  return 0;
}
