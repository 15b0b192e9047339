// Fuzzes IMAP command framing and argument parsing: the framer (literals, limits) and, for
// each framed command, the head and a walk with every Cursor primitive, the LIST/LSUB and
// STATUS argument parsers (imap/proto/list.hpp) on every command whatever its name, plus
// mailbox-name decoding. Framing must always make progress; an accepted LIST must be one the
// grammar allows.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "imap/proto/encode.hpp"
#include "imap/proto/framer.hpp"
#include "imap/proto/list.hpp"
#include "imap/proto/parser.hpp"

namespace {
// The arguments as LIST, LSUB and STATUS would read them, whatever the command's name.
void list_args(std::string_view cmd) {
  for (const bool lsub : {false, true}) {
    mk::imap::Cursor c(cmd);
    std::string err;
    if (!mk::imap::parse_head(c, err)) return;
    auto l = mk::imap::parse_list(c, lsub, err);
    if (!l) {
      if (err.empty()) std::abort();  // every refusal says why
      continue;
    }
    if (!c.eof() || l->patterns.empty() || l->patterns.size() > mk::imap::kMaxListPatterns) std::abort();
    std::size_t bytes = 0;
    for (const auto& p : l->patterns) bytes += l->reference.size() + p.size();
    if (bytes > mk::imap::kMaxListPatternBytes) std::abort();
    // RFC 5258 §3.1: RECURSIVEMATCH is refused without a base option; LSUB stays basic.
    if (l->recursive_match && !l->select_subscribed && !l->select_special_use) std::abort();
    if (lsub && (l->extended || l->recursive_match || !l->return_status.empty())) std::abort();
  }
  mk::imap::Cursor c(cmd);
  std::string err;
  if (!mk::imap::parse_head(c, err) || !c.sp()) return;
  (void)c.astring();
  if (c.sp()) (void)mk::imap::parse_status_items(c, err);
}

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
    if (ev == mk::imap::Frame::command) {
      const std::string cmd = f.take();
      walk(cmd);
      list_args(cmd);
    }
    if (ev == mk::imap::Frame::need_more) break;
  }
  if (auto d = mk::imap::mutf7_decode(in)) {
    if (mk::imap::mutf7_encode(*d) != in) std::abort();  // canonical forms round-trip
  }
  return 0;
}
