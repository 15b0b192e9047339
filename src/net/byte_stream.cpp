#include "net/byte_stream.hpp"

#include <zlib.h>

namespace mk::net {

namespace {
// What one read of compressed input may take from the transport.
constexpr std::size_t kCompressedChunk = 16 * 1024;
}  // namespace

struct ByteStream::Zlib {
  z_stream in{};
  z_stream out{};
  std::string pending;  // compressed bytes received but not yet inflated
  std::size_t pending_off = 0;
};

void ByteStream::ZlibDeleter::operator()(Zlib* z) const {
  inflateEnd(&z->in);
  deflateEnd(&z->out);
  delete z;
}

ByteStream::ByteStream() = default;
ByteStream::~ByteStream() = default;

void ByteStream::enable_deflate(std::string_view already_read) {
  auto z = std::unique_ptr<Zlib, ZlibDeleter>(new Zlib);
  // RFC 4978 §4: raw DEFLATE (no zlib header), so negative window bits.
  inflateInit2(&z->in, -15);
  deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  z->pending.assign(already_read);
  z_ = std::move(z);
}

asio::awaitable<std::pair<error_code, std::size_t>> ByteStream::read_some(
    asio::mutable_buffer buf) {
  if (!z_) co_return co_await transport_read(buf);
  // Inflate into the caller's buffer, reading more compressed input until some output.
  for (;;) {
    if (z_->pending_off < z_->pending.size()) {
      z_->in.next_in = reinterpret_cast<Bytef*>(z_->pending.data() + z_->pending_off);
      z_->in.avail_in = static_cast<uInt>(z_->pending.size() - z_->pending_off);
      z_->in.next_out = static_cast<Bytef*>(buf.data());
      z_->in.avail_out = static_cast<uInt>(buf.size());
      const int rc = inflate(&z_->in, Z_SYNC_FLUSH);
      z_->pending_off = z_->pending.size() - z_->in.avail_in;
      if (z_->pending_off == z_->pending.size()) z_->pending.clear(), z_->pending_off = 0;
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
        co_return std::make_pair(asio::error::make_error_code(asio::error::invalid_argument),
                                 std::size_t(0));
      const std::size_t produced = buf.size() - z_->in.avail_out;
      if (produced > 0) co_return std::make_pair(error_code(), produced);
    }
    char raw[kCompressedChunk];
    auto [ec, n] = co_await transport_read(asio::buffer(raw));
    if (ec) co_return std::make_pair(ec, std::size_t(0));
    z_->pending.append(raw, n);
  }
}

asio::awaitable<error_code> ByteStream::write_all(std::string_view data) {
  if (!z_) co_return co_await transport_write(data);
  std::string out;
  z_->out.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_->out.avail_in = static_cast<uInt>(data.size());
  char chunk[kCompressedChunk];
  // Z_SYNC_FLUSH: the client can decode every response as soon as it arrives.
  do {
    z_->out.next_out = reinterpret_cast<Bytef*>(chunk);
    z_->out.avail_out = sizeof chunk;
    deflate(&z_->out, Z_SYNC_FLUSH);
    out.append(chunk, sizeof chunk - z_->out.avail_out);
  } while (z_->out.avail_out == 0);
  co_return co_await transport_write(out);
}

}  // namespace mk::net
