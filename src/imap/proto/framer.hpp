// imap/proto/framer.hpp: sans-I/O framing of IMAP client commands.
//
// A command is a line that may be interrupted by literals: "{n}" (synchronizing: the server
// must answer "+" before the client sends the n bytes), "{n+}" (RFC 7888 LITERAL+, no
// wait) and "~{n}" (RFC 3516 literal8). The framer collects a whole command, literals
// included, and tells the caller when to send a continuation request.
//
// STANDARDS: RFC 9051 §4.3 (literals), §2.2.1; RFC 7888 (LITERAL+/LITERAL-), RFC 3516.
// SECURITY: line length, literal size, literal count and total command size are bounded;
// an oversized synchronizing literal is refused before the client sends it, and an
// oversized non-synchronizing one is skipped without being stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mk::imap {

struct FrameLimits {
  std::size_t max_line = 8 * 1024;            // one line of a command, literals excluded
  std::uint64_t max_literal = 64ull << 20;     // one literal (APPEND: the message size limit)
  std::size_t max_literals = 1000;             // literals in one command (MULTIAPPEND)
  std::uint64_t max_command = 256ull << 20;    // everything together
};

enum class Frame {
  need_more,      // feed more bytes
  command,        // a complete command is ready: take()
  continuation,   // send "+ ..." now; the client waits for it before sending the literal
  line_too_long,  // reply BAD; the rest of the line is being discarded
  literal_too_big,  // reply NO/BAD [TOOBIG]; the command is dropped (see below)
  too_many_literals,
};

class CommandFramer {
 public:
  explicit CommandFramer(FrameLimits limits = {}) : limits_(limits) {}

  // Consumes bytes from in (sets consumed) until one event happens. After line_too_long the
  // framer skips to the end of that line by itself; after literal_too_big for a
  // synchronizing literal nothing more of that command will come, and for a
  // non-synchronizing one the literal's bytes are skipped.
  Frame feed(std::string_view in, std::size_t& consumed);

  // The complete command: lines joined with CRLF and literal bytes in place, without the
  // final CRLF. Resets the framer for the next command.
  std::string take();

  // The tag of the command being framed, if its first line is complete (for error replies).
  std::string_view current_tag() const;

 private:
  enum class State { line, literal, skip_line, skip_literal };
  FrameLimits limits_;
  State state_ = State::line;
  std::string buf_;
  std::size_t line_start_ = 0;
  std::uint64_t literal_left_ = 0;
  std::size_t literals_ = 0;
  std::string tag_;
};

// Parses a trailing literal marker at the end of a line ("{12}", "{12+}", "~{12}").
struct LiteralMarker {
  bool present = false;
  bool sync = true;
  bool binary = false;
  std::uint64_t size = 0;
  std::size_t offset = 0;  // where the marker starts in the line
};
LiteralMarker trailing_literal(std::string_view line);

}  // namespace mk::imap
