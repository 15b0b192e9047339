// Fuzzes the MIME parser and the header helpers it uses (addresses, parameters, encoded
// words, transfer decodings, dates), the link finder and msg-id lists. Every part's ranges must lie
// inside the message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "message/codec.hpp"
#include "message/date.hpp"
#include "message/header.hpp"
#include "message/links.hpp"
#include "message/mime.hpp"

namespace {
void check(const mk::message::Part& p, std::string_view msg) {
  if (p.offset > msg.size() || p.body_offset + p.body_size > msg.size() ||
      p.offset + p.header_size > msg.size())
    std::abort();
  for (const auto& h : p.headers) {
    (void)mk::message::decode_words(h.value);
    (void)mk::message::parse_address_list(h.value);
    (void)mk::message::received_time(h.value);
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
  // Links (containment, the filter): each starts with http:// or https://, any case.
  for (const auto& link : mk::message::find_links(msg, 50)) {
    std::string head = link.substr(0, 8);
    for (auto& ch : head) ch = char(ch | 0x20);
    if (!head.starts_with("http://") && !head.starts_with("https://")) std::abort();
  }
  (void)mk::message::msg_ids(msg.substr(0, 4096));
  return 0;
}
