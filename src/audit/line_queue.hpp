// audit/line_queue.hpp: the operational log lines waiting to be shipped ([log.remote]
// operational), in memory.
//
// Every line the server logs at the configured level is put here (log::Tap) by whichever thread
// logged it; each collector's link reads from its own position and the lines every link has
// read are let go. The queue is bounded in bytes: when a collector is away long enough to fill
// it, the oldest lines go first and the link that missed them is told how many.
//
// Operational lines are the journal's copy sent on: unlike the security log they are not
// spooled to disk or acknowledged, so lines in flight when a connection breaks, or queued when
// the server stops, can be lost. What must survive the attacker is in the security log.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.hpp"

namespace mk::audit {

struct QueuedLine {
  log::Level level = log::Level::info;
  std::string ts;
  std::string line;
};

class LineQueue : public log::Tap {
 public:
  // A line longer than this is cut (and says so): one line must fit a collector's frame.
  static constexpr std::size_t kMaxLine = 16 * 1024;
  explicit LineQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  void line(log::Level level, std::string_view ts, std::string_view line) override;

  // A reader's position: the number of the next line it wants. New readers start at the
  // newest line still to come (next_position()).
  std::uint64_t next_position() const;
  // Lines from `pos` on, up to about `max_bytes` (at least one); `pos` moves past them.
  // `missed` is set to how many lines were let go before this reader read them.
  std::vector<QueuedLine> read(std::uint64_t& pos, std::size_t max_bytes, std::uint64_t& missed);
  // Lets go of the lines before `pos` (every reader is past them).
  void release(std::uint64_t pos);

  std::size_t bytes() const;

 private:
  void drop_front();

  mutable std::mutex mu_;
  std::deque<QueuedLine> lines_;
  std::uint64_t first_ = 1;  // the number of lines_.front()
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
};

}  // namespace mk::audit
