#include "smtp/data_reader.hpp"

namespace mk::smtp {

LineResult next_line(std::string_view buf, std::size_t max_len) {
  LineResult r;
  const std::size_t scan = std::min(buf.size(), max_len + 2);
  const auto lf = buf.substr(0, scan).find('\n');
  if (lf == std::string_view::npos) {
    // A CR followed by something other than LF is already a bare CR.
    for (std::size_t i = 0; i + 1 < scan; ++i) {
      if (buf[i] == '\r' && buf[i + 1] != '\n') {
        r.status = LineStatus::bare_cr;
        r.consumed = i + 1;
        return r;
      }
    }
    if (buf.size() > max_len + 1) {
      r.status = LineStatus::too_long;
      r.consumed = buf.size();
    }
    return r;
  }
  r.consumed = lf + 1;
  if (lf == 0 || buf[lf - 1] != '\r') {
    r.status = LineStatus::bare_lf;
    return r;
  }
  auto line = buf.substr(0, lf - 1);
  if (line.find('\r') != std::string_view::npos) {
    r.status = LineStatus::bare_cr;
    return r;
  }
  if (line.size() > max_len) {
    r.status = LineStatus::too_long;
    return r;
  }
  r.status = LineStatus::line;
  r.line = line;
  return r;
}

std::size_t skip_to_lf(std::string_view buf, bool& found) {
  auto lf = buf.find('\n');
  found = lf != std::string_view::npos;
  return found ? lf + 1 : buf.size();
}

void DataReader::emit(char c) {
  ++total_;
  if (total_ <= max_size_) out_ += c;
}

void DataReader::emit(std::string_view s) {
  const std::uint64_t room = total_ < max_size_ ? max_size_ - total_ : 0;
  out_.append(s.substr(0, std::min<std::uint64_t>(room, s.size())));
  total_ += s.size();
}

DataStatus DataReader::feed(std::string_view in, std::size_t& consumed) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    switch (state_) {
      case State::line_start:
        if (c == '.') state_ = State::dot;
        else if (c == '\r') state_ = State::cr;
        else if (c == '\n') return consumed = i + 1, DataStatus::bare_lf;
        else emit(c), state_ = State::mid;
        break;
      case State::mid: {
        if (c == '\r') {
          state_ = State::cr;
        } else if (c == '\n') {
          return consumed = i + 1, DataStatus::bare_lf;
        } else {
          // Fast path: copy the rest of the line in one go.
          auto end = in.find_first_of("\r\n", i);
          if (end == std::string_view::npos) end = in.size();
          emit(in.substr(i, end - i));
          i = end - 1;
        }
        break;
      }
      case State::cr:
        if (c != '\n') return consumed = i + 1, DataStatus::bare_cr;
        emit("\r\n");
        state_ = State::line_start;
        break;
      case State::dot:
        // RFC 5321 §4.5.2: drop the first dot of a line that has more characters.
        if (c == '\r') state_ = State::dot_cr;
        else if (c == '\n') return consumed = i + 1, DataStatus::bare_lf;
        else emit(c), state_ = State::mid;
        break;
      case State::dot_cr:
        if (c != '\n') return consumed = i + 1, DataStatus::bare_cr;
        consumed = i + 1;
        return DataStatus::done;
    }
  }
  consumed = in.size();
  return DataStatus::need_more;
}

}  // namespace mk::smtp
