// smtp/reply.hpp: SMTP replies with RFC 3463 enhanced status codes, and their wire form.
//
// STANDARDS: RFC 5321 §4.2 (reply syntax, multiline replies), RFC 2034 and RFC 3463
// (enhanced status codes), RFC 7504 (521/556).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mk::smtp {

struct Reply {
  int code = 0;
  std::string enhanced;            // "2.0.0"; empty for 220 greetings and EHLO/HELO replies
  std::vector<std::string> lines;  // at least one

  Reply() = default;
  Reply(int c, std::string enh, std::string text)
      : code(c), enhanced(std::move(enh)), lines{std::move(text)} {}
  Reply(int c, std::string enh, std::vector<std::string> text)
      : code(c), enhanced(std::move(enh)), lines(std::move(text)) {}

  bool positive() const { return code >= 200 && code < 400; }
  // Serialized with CRLF line endings, "code-" on continuation lines.
  std::string wire() const;
};

}  // namespace mk::smtp
