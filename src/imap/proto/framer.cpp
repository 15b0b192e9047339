#include "imap/proto/framer.hpp"

#include "base/strings.hpp"

namespace mk::imap {

LiteralMarker trailing_literal(std::string_view line) {
  LiteralMarker m;
  if (line.empty() || line.back() != '}') return m;
  auto open = line.rfind('{');
  if (open == std::string_view::npos) return m;
  auto inner = line.substr(open + 1, line.size() - open - 2);
  bool sync = true;
  if (!inner.empty() && inner.back() == '+') {
    sync = false;
    inner.remove_suffix(1);
  }
  auto n = parse_u64(inner);
  if (!n || inner.size() > 19) return m;
  m.present = true;
  m.sync = sync;
  m.size = *n;
  m.offset = open;
  if (open > 0 && line[open - 1] == '~') {
    m.binary = true;
    m.offset = open - 1;
  }
  return m;
}

std::string_view CommandFramer::current_tag() const { return tag_; }

Frame CommandFramer::feed(std::string_view in, std::size_t& consumed) {
  consumed = 0;
  while (consumed < in.size()) {
    auto rest = in.substr(consumed);
    switch (state_) {
      case State::skip_line: {
        auto lf = rest.find('\n');
        if (lf == std::string_view::npos) {
          consumed = in.size();
          return Frame::need_more;
        }
        consumed += lf + 1;
        state_ = State::line;
        buf_.clear();
        line_start_ = 0;
        literals_ = 0;
        continue;
      }
      case State::skip_literal:
      case State::literal: {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, rest.size()));
        if (state_ == State::literal) buf_.append(rest.substr(0, take));
        literal_left_ -= take;
        consumed += take;
        if (literal_left_ == 0) {
          // After a skipped literal the rest of the command's line is discarded too.
          state_ = state_ == State::literal ? State::line : State::skip_line;
          line_start_ = buf_.size();
        }
        continue;
      }
      case State::line: {
        auto lf = rest.find('\n');
        const std::size_t line_len = buf_.size() - line_start_;
        if (lf == std::string_view::npos) {
          if (line_len + rest.size() > limits_.max_line) {
            state_ = State::skip_line;
            consumed = in.size();
            return Frame::line_too_long;
          }
          buf_.append(rest);
          consumed = in.size();
          return Frame::need_more;
        }
        if (line_len + lf > limits_.max_line + 1) {
          consumed += lf + 1;
          buf_.clear();
          line_start_ = 0;
          literals_ = 0;
          return Frame::line_too_long;
        }
        buf_.append(rest.substr(0, lf));
        consumed += lf + 1;
        // Strip a CR of this line only, never the last byte of a literal before it.
        if (buf_.size() > line_start_ && buf_.back() == '\r') buf_.pop_back();
        if (line_start_ == 0) {
          auto sp = buf_.find(' ');
          tag_ = buf_.substr(0, std::min<std::size_t>(sp, 64));
        }
        const auto marker = trailing_literal(std::string_view(buf_).substr(line_start_));
        if (!marker.present) return Frame::command;
        if (++literals_ > limits_.max_literals) {
          state_ = marker.sync ? State::line : State::skip_literal;
          literal_left_ = marker.sync ? 0 : marker.size;
          buf_.clear();
          line_start_ = 0;
          literals_ = 0;
          return Frame::too_many_literals;
        }
        const bool too_big =
            marker.size > limits_.max_literal || buf_.size() + marker.size > limits_.max_command;
        if (too_big) {
          buf_.clear();
          line_start_ = 0;
          literals_ = 0;
          if (!marker.sync) {
            state_ = State::skip_literal;
            literal_left_ = marker.size;
          }
          return Frame::literal_too_big;
        }
        buf_ += "\r\n";
        literal_left_ = marker.size;
        state_ = State::literal;
        if (marker.size == 0) {
          state_ = State::line;
          line_start_ = buf_.size();
        }
        if (marker.sync) return Frame::continuation;
        continue;
      }
    }
  }
  return Frame::need_more;
}

std::string CommandFramer::take() {
  std::string out;
  out.swap(buf_);
  line_start_ = 0;
  literals_ = 0;
  state_ = State::line;
  return out;
}

}  // namespace mk::imap
