// smtp/data_reader.hpp: sans-I/O framing of SMTP input: command lines and DATA content.
//
// STANDARDS: RFC 5321 §2.3.8 (lines end in CRLF; bare CR and LF are not allowed),
// §4.1.1.4 and §4.5.2 (end of data "<CRLF>.<CRLF>", dot-stuffing), §4.5.3.1.4 (line length).
// SECURITY: SMTP smuggling (CVE-2023-51764/51765/51766 and kin) relies on servers that
// accept "<LF>.<LF>", "<CR>.<CR>" or "<LF>.<CRLF>" as the end of data. Here only
// "<CRLF>.<CRLF>" ends DATA, and any bare CR or LF, in DATA or in a command, is an error the
// session answers with a 5xx and a disconnect, so no two parsers can disagree on where a
// message ends. Both parsers take bytes and return events; they never touch a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mk::smtp {

enum class LineStatus { need_more, line, too_long, bare_lf, bare_cr };

struct LineResult {
  LineStatus status = LineStatus::need_more;
  std::string_view line;  // without CRLF (status == line)
  std::size_t consumed = 0;
};

// Looks for the next CRLF-terminated line in buf. max_len excludes the CRLF. On too_long
// without a line end in sight, consumed == buf.size(): the caller keeps discarding input up
// to the next LF (see skip_to_lf).
LineResult next_line(std::string_view buf, std::size_t max_len);

// Returns how many bytes to drop to get past the next LF, or buf.size() if there is none.
std::size_t skip_to_lf(std::string_view buf, bool& found);

enum class DataStatus { need_more, done, bare_lf, bare_cr };

// Consumes DATA content after the 354 reply, undoes dot-stuffing and stops at the
// terminating "<CRLF>.<CRLF>" (the CRLF before the dot belongs to the message). Content
// beyond max_size is counted but not kept, so an oversized message can be read to its end
// and refused with 552 without buffering it.
class DataReader {
 public:
  explicit DataReader(std::uint64_t max_size) : max_size_(max_size) {}

  // Feeds bytes; returns the status and sets consumed to how many bytes were used (on done,
  // the bytes after the terminator belong to the next command).
  DataStatus feed(std::string_view in, std::size_t& consumed);

  std::string& message() { return out_; }
  std::uint64_t size() const { return total_; }  // unstuffed size, including dropped bytes
  bool too_big() const { return total_ > max_size_; }

 private:
  enum class State { line_start, mid, cr, dot, dot_cr };
  void emit(char c);
  void emit(std::string_view s);

  State state_ = State::line_start;
  std::uint64_t max_size_;
  std::uint64_t total_ = 0;
  std::string out_;
};

}  // namespace mk::smtp
