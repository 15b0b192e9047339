#include "smtp/reply_reader.hpp"

#include "base/strings.hpp"

namespace mk::smtp {

ReplyReader::Status ReplyReader::feed(std::string_view line) {
  if (line.size() < 3 || lines_.size() >= kMaxReplyLines) return Status::error;
  auto code = parse_u64(line.substr(0, 3));
  if (!code || *code < 200 || *code > 599) return Status::error;
  if (!lines_.empty() && int(*code) != code_) return Status::error;  // one code per reply
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return Status::error;
  code_ = int(*code);
  lines_.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
  return line.size() == 3 || line[3] == ' ' ? Status::done : Status::more;
}

std::string enhanced_code(int code, std::string_view l) {
  const std::string_view c = l.substr(0, l.find(' '));
  // class.subject.detail, 1-3 digits each, class as the reply's (RFC 3463 §2).
  if (c.size() < 5 || c.size() > 11 || c[1] != '.' || c[0] - '0' != code / 100) return {};
  if (c[0] != '2' && c[0] != '4' && c[0] != '5') return {};
  int dots = 0, digits = 0;
  for (char ch : c.substr(1)) {
    if (ch == '.') {
      if (digits == 0 && dots > 0) return {};
      ++dots, digits = 0;
    } else if (ch >= '0' && ch <= '9') {
      if (++digits > 3) return {};
    } else {
      return {};
    }
  }
  if (dots != 2 || digits == 0) return {};
  return std::string(c);
}

}  // namespace mk::smtp
