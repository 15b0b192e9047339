// net::ByteStream's DEFLATE layer (RFC 4978 COMPRESS=DEFLATE) over an in-memory transport:
// what the server writes is one raw DEFLATE stream flushed after each write; what it reads,
// including bytes that arrived with the COMPRESS command, is inflated.
#include "net/byte_stream.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "memory_stream.hpp"

namespace mk::net {
namespace {

namespace asio = boost::asio;

// The client's side of the compression: one raw DEFLATE stream each way (RFC 4978 §4).
class Peer {
 public:
  Peer() {
    deflateInit2(&out_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    inflateInit2(&in_, -15);
  }
  ~Peer() {
    deflateEnd(&out_);
    inflateEnd(&in_);
  }
  std::string compress(std::string_view plain) {
    std::string out(plain.size() + 64, '\0');
    out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    out_.avail_in = static_cast<uInt>(plain.size());
    out_.next_out = reinterpret_cast<Bytef*>(out.data());
    out_.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&out_, Z_SYNC_FLUSH), Z_OK);
    out.resize(out.size() - out_.avail_out);
    return out;
  }
  std::string inflate_all(std::string_view packed) {
    std::string out(1 << 20, '\0');
    in_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    in_.avail_in = static_cast<uInt>(packed.size());
    in_.next_out = reinterpret_cast<Bytef*>(out.data());
    in_.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&in_, Z_SYNC_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
    EXPECT_EQ(in_.avail_in, 0u);  // every write ends on a flush: all of it decodes at once
    out.resize(out.size() - in_.avail_out);
    return out;
  }

 private:
  z_stream out_{};
  z_stream in_{};
};

TEST(ByteStream, DeflateBothWays) {
  asio::io_context io;
  test::MemoryStream stream(io.get_executor());
  Peer peer;
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        EXPECT_FALSE(stream.deflate_active());
        // The client's next command came with the one that started COMPRESS.
        stream.enable_deflate(peer.compress("b NOOP\r\n"));
        EXPECT_TRUE(stream.deflate_active());
        char buf[256];
        auto [ec, n] = co_await stream.read_some(asio::buffer(buf));
        EXPECT_FALSE(ec);
        EXPECT_EQ(std::string(buf, n), "b NOOP\r\n");

        EXPECT_FALSE(co_await stream.write_all("b OK NOOP completed\r\n"));
        EXPECT_EQ(peer.inflate_all(stream.take()), "b OK NOOP completed\r\n");

        stream.send(peer.compress("c LOGOUT\r\n"));
        auto [ec2, n2] = co_await stream.read_some(asio::buffer(buf));
        EXPECT_FALSE(ec2);
        EXPECT_EQ(std::string(buf, n2), "c LOGOUT\r\n");

        // A large response, larger than one compression chunk.
        const std::string big(100 * 1024, 'x');
        EXPECT_FALSE(co_await stream.write_all(big));
        const std::string packed = stream.take();
        EXPECT_LT(packed.size(), big.size() / 10);
        EXPECT_EQ(peer.inflate_all(packed), big);
        finished = true;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(finished);
}

TEST(ByteStream, DeflateReportsCorruptInput) {
  asio::io_context io;
  test::MemoryStream stream(io.get_executor());
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        stream.enable_deflate("");
        stream.send(std::string("\xff\xff\xff\xff", 4));
        char buf[64];
        auto [ec, n] = co_await stream.read_some(asio::buffer(buf));
        EXPECT_EQ(ec, asio::error::invalid_argument);
        EXPECT_EQ(n, 0u);
        finished = true;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace mk::net
