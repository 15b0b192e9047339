// net/byte_stream.hpp: the byte stream a protocol connection reads and writes, as an
// interface: a TCP connection in production (net/stream.hpp), an in-memory stream in the
// tests (tests/memory_stream.hpp), so the SMTP and IMAP connection loops can be driven
// without a socket.
//
// A transport implements the virtual part: reading some bytes, writing them all, the TLS
// handshake, shutdown and cancellation. RFC 4978 COMPRESS=DEFLATE is a layer above the
// transport, here, so it works the same over either. Operations return error codes instead
// of throwing; deadlines are the caller's (net::Conn's watchdog cancels pending operations
// through cancel()).
// STANDARDS: RFC 4978 (IMAP COMPRESS: raw DEFLATE, a sync flush after every write).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "net/tls.hpp"

namespace mk::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

class ByteStream {
 public:
  ByteStream();
  virtual ~ByteStream();
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  // The executor the stream's operations complete on (the connection's strand).
  virtual asio::any_io_executor get_executor() = 0;

  // Reads what is there (at least one byte) or fails; eof when the peer closed its side.
  asio::awaitable<std::pair<error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  asio::awaitable<error_code> write_all(std::string_view data);
  // RFC 4978 COMPRESS=DEFLATE: from now on both directions are raw DEFLATE streams.
  // already_read holds bytes received after the COMPRESS command (they are compressed).
  void enable_deflate(std::string_view already_read);
  bool deflate_active() const { return z_ != nullptr; }

  // Runs the server side of the TLS handshake on the connected stream.
  virtual asio::awaitable<error_code> start_tls(TlsContext& ctx) = 0;
  virtual bool is_tls() const = 0;
  // The TLS connection; null without TLS, and on a test stream that only pretends to be one.
  virtual SSL* ssl() = 0;
  // The address the peer connected to, "" if unknown.
  virtual std::string local_address() const = 0;

  // Shuts both directions down; errors are ignored.
  virtual asio::awaitable<void> shutdown() = 0;
  // Makes the pending read and write complete with operation_aborted.
  virtual void cancel() = 0;
  virtual void close() = 0;

 protected:
  // The transport under DEFLATE.
  virtual asio::awaitable<std::pair<error_code, std::size_t>> transport_read(
      asio::mutable_buffer buf) = 0;
  virtual asio::awaitable<error_code> transport_write(std::string_view data) = 0;

 private:
  struct Zlib;
  struct ZlibDeleter {
    void operator()(Zlib* z) const;
  };
  std::unique_ptr<Zlib, ZlibDeleter> z_;
};

}  // namespace mk::net
