#include "message/compress.hpp"

#include <zip.h>
#include <zlib.h>

#include <memory>

#include "base/strings.hpp"

namespace mk::message {

std::string gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  std::string out(deflateBound(&z, uLong(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Result<std::string> gunzip(std::string_view data, std::size_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return err("cannot start decompression");  // +32: gzip or zlib
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  std::string out;
  char buf[16384];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_out) return err("decompressed data too large");
    if (rc == Z_STREAM_END) return out;
    if (rc != Z_OK) return err("corrupt gzip data");
    if (z.avail_in == 0 && z.avail_out != 0) return err("truncated gzip data");
  }
}

Result<std::string> unzip_first(std::string_view archive, std::string_view suffix, std::size_t max_out) {
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t* src = zip_source_buffer_create(archive.data(), archive.size(), 0, &ze);
  if (!src) return err("cannot read the zip archive");
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY, &ze);
  if (!za) {
    zip_source_free(src);
    zip_error_fini(&ze);
    return err("not a zip archive");
  }
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(za, [](zip_t* z) { zip_discard(z); });
  const zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(za, zip_uint64_t(i), 0);
    if (!name || (!suffix.empty() && !to_lower(name).ends_with(suffix))) continue;
    zip_file_t* f = zip_fopen_index(za, zip_uint64_t(i), 0);
    if (!f) return err("cannot open a file in the zip archive");
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> fguard(f, zip_fclose);
    std::string out;
    char buf[16384];
    for (;;) {
      const zip_int64_t got = zip_fread(f, buf, sizeof buf);
      if (got < 0) return err("corrupt zip data");
      if (got == 0) return out;
      out.append(buf, std::size_t(got));
      if (out.size() > max_out) return err("decompressed data too large");
    }
  }
  return err("no matching file in the zip archive");
}

}  // namespace mk::message
