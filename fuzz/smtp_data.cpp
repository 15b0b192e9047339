// Fuzzes the DATA reader and the command line framer. The first byte chooses how the input
// is split into reads, so split points inside CRLF and ".CRLF" are explored. Checks the
// invariants that matter for smuggling: output never holds a bare CR or LF, and the reader
// consumes nothing past the terminator.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtp/data_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 17;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  mk::smtp::DataReader r(4096);
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t used = 0;
    auto chunk = in.substr(pos, step);
    auto st = r.feed(chunk, used);
    if (used > chunk.size()) std::abort();
    pos += used;
    if (st != mk::smtp::DataStatus::need_more) break;
  }
  const std::string& m = r.message();
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) std::abort();
    if (m[i] == '\r' && (i + 1 >= m.size() || m[i + 1] != '\n')) std::abort();
  }
  std::string_view rest = in;
  while (!rest.empty()) {
    auto l = mk::smtp::next_line(rest, 512);
    if (l.consumed == 0) break;
    if (l.consumed > rest.size()) std::abort();
    rest.remove_prefix(l.consumed);
  }
  return 0;
}
