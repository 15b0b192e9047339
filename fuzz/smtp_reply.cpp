// Fuzzes the client's reply assembly and enhanced-code parsing on what a remote MX sends.
#include <cstdint>
#include <string_view>

#include "smtp/reply_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mk::smtp::ReplyReader r;
  std::size_t pos = 0;
  while (pos <= in.size()) {
    auto eol = in.find('\n', pos);
    auto line = in.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    auto st = r.feed(line);
    if (st != mk::smtp::ReplyReader::Status::more) {
      if (st == mk::smtp::ReplyReader::Status::done && !r.lines().empty())
        (void)mk::smtp::enhanced_code(r.code(), r.lines().front());
      r = mk::smtp::ReplyReader();
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return 0;
}
