// Fuzzes IMAP command framing and argument parsing: the framer (literals, limits) and, for
// each framed command, the head and a walk with every Cursor primitive, plus mailbox-name
// decoding. Framing must always make progress.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "imap/proto/encode.hpp"
#include "imap/proto/framer.hpp"
#include "imap/proto/parser.hpp"

namespace {
void walk(std::string_view cmd) {
  mk::imap::Cursor c(cmd);
  std::string err;
  if (!mk::imap::parse_head(c, err)) return;
  for (int i = 0; i < 64 && !c.eof(); ++i) {
    const std::size_t before = c.pos();
    if (!c.sp() && !c.consume('(') && !c.consume(')')) {
      switch (i % 8) {
        case 0: (void)mk::imap::parse_seq_set(c); break;
        case 1: (void)c.astring(); break;
        case 2: (void)mk::imap::parse_flag_list(c); break;
        case 3: (void)mk::imap::parse_date_time(c); break;
        case 4: (void)c.list_mailbox(); break;
        case 5: (void)c.number64(); break;
        case 6: (void)mk::imap::parse_date(c); break;
        default: (void)c.string(true); break;
      }
    }
    if (c.pos() == before) (void)c.atom();
    if (c.pos() == before) break;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mk::imap::FrameLimits lim;
  lim.max_line = 512;
  lim.max_literal = 1024;
  mk::imap::CommandFramer f(lim);
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t used = 0;
    auto ev = f.feed(in.substr(pos), used);
    if (used > in.size() - pos) std::abort();
    pos += used;
    if (ev == mk::imap::Frame::command) walk(f.take());
    if (ev == mk::imap::Frame::need_more) break;
  }
  if (auto d = mk::imap::mutf7_decode(in)) {
    if (mk::imap::mutf7_encode(*d) != in) std::abort();  // canonical forms round-trip
  }
  return 0;
}
