// smtp/reply_reader.hpp: the client's side of replies (RFC 5321 §4.2): a multi-line reply
// assembled from lines, and the enhanced status code (RFC 3463) it may carry. Input is
// untrusted (any server on the Internet), so every line is checked and the count bounded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mk::smtp {

inline constexpr std::size_t kMaxReplyLines = 100;

class ReplyReader {
 public:
  enum class Status { more, done, error };
  // One line without its CRLF.
  Status feed(std::string_view line);
  int code() const { return code_; }
  std::vector<std::string>& lines() { return lines_; }

 private:
  int code_ = 0;
  std::vector<std::string> lines_;
};

// "5.1.1" from a reply's first line when its class matches the reply code, else "".
std::string enhanced_code(int code, std::string_view first_line);

}  // namespace mk::smtp
