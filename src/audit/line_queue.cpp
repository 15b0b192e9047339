#include "audit/line_queue.hpp"

#include <algorithm>

namespace mk::audit {

namespace {
constexpr std::string_view kCut = " [cut]";
// What a queued line costs besides its bytes: the deque's slot, two strings' headers and
// their allocations.
constexpr std::size_t kLineOverhead = 160;
std::size_t cost(const QueuedLine& l) { return l.line.capacity() + l.ts.capacity() + kLineOverhead; }
}  // namespace

void LineQueue::line(log::Level level, std::string_view ts, std::string_view text) {
  QueuedLine l{level, std::string(ts), {}};
  const bool cut = text.size() > kMaxLine;
  l.line.reserve(cut ? kMaxLine + kCut.size() : text.size());
  l.line.append(text.substr(0, kMaxLine));
  if (cut) l.line += kCut;
  std::lock_guard lock(mu_);
  bytes_ += cost(l);
  lines_.push_back(std::move(l));
  while (bytes_ > max_bytes_ && lines_.size() > 1) drop_front();
}

void LineQueue::drop_front() {
  bytes_ -= cost(lines_.front());
  lines_.pop_front();
  ++first_;
}

std::uint64_t LineQueue::next_position() const {
  std::lock_guard lock(mu_);
  return first_ + lines_.size();
}

std::vector<QueuedLine> LineQueue::read(std::uint64_t& pos, std::size_t max_bytes, std::uint64_t& missed) {
  std::lock_guard lock(mu_);
  missed = 0;
  if (pos < first_) {
    missed = first_ - pos;
    pos = first_;
  }
  std::vector<QueuedLine> out;
  std::size_t taken = 0;
  const std::uint64_t end = first_ + lines_.size();
  while (pos < end && (out.empty() || taken < max_bytes)) {
    const QueuedLine& l = lines_[std::size_t(pos - first_)];
    taken += cost(l);
    out.push_back(l);
    ++pos;
  }
  return out;
}

void LineQueue::release(std::uint64_t pos) {
  std::lock_guard lock(mu_);
  while (!lines_.empty() && first_ < pos) drop_front();
}

std::size_t LineQueue::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace mk::audit
