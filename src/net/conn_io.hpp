// net/conn_io.hpp: the I/O of one protocol connection loop (SMTP, IMAP): an input buffer
// filled from the stream under a deadline, an output buffer of replies flushed under one,
// and the goodbye, a last line written under a short bound before the stream is shut down.
//
// The deadlines are enforced by the connection's watchdog (net/listener.hpp): it cancels the
// pending read or write and sets conn.timed_out. fill says why the input ended, in the words
// the loops log as the disconnect reason: "timeout", "shutdown" (the server is stopping and
// woke an idle connection), "eof" (the peer closed its side), or the error's message.
// SECURITY: every read and write runs under a deadline; the goodbye gets kGoodbyeTimeout
// whatever happened before, so a peer that stops reading cannot hold a closing connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <limits>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "net/listener.hpp"

namespace mk::net {

// Bound on the last words to a peer we are closing on (a timeout, the shutdown, a ban).
inline constexpr std::chrono::milliseconds kGoodbyeTimeout{5000};

// Whether a read waits outside any transaction: the server's shutdown interrupts such a wait
// at once (Listener::shutdown), the others get the grace period to finish.
enum class Wait { busy, idle };

class ConnIo {
 public:
  // read_chunk: how much one read may add to `in`. keep_buffer: a buffer whose capacity grew
  // past it (a large FETCH, a large APPEND) is released once empty, so an idle connection
  // does not keep the memory.
  explicit ConnIo(Conn& conn, std::size_t read_chunk,
                  std::size_t keep_buffer = std::numeric_limits<std::size_t>::max())
      : conn_(conn), read_chunk_(read_chunk), keep_buffer_(keep_buffer) {}

  Conn& conn() { return conn_; }

  std::string in;   // received and not consumed yet
  std::string out;  // replies gathered and not written yet

  // Writes `out` under a deadline `limit` from now; false if the peer is gone or the
  // deadline passed.
  boost::asio::awaitable<bool> flush(std::chrono::milliseconds limit);
  // Reads more into `in` before `deadline`; false when the input ended, and why.
  boost::asio::awaitable<bool> fill(Clock::time_point deadline, std::string& why,
                                    Wait wait = Wait::busy);
  // Writes what `out` holds (the caller appends its last line first) under kGoodbyeTimeout,
  // even after a timeout, then shuts the stream down.
  boost::asio::awaitable<void> goodbye();

 private:
  Conn& conn_;
  std::size_t read_chunk_;
  std::size_t keep_buffer_;
};

}  // namespace mk::net
