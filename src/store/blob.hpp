// store/blob.hpp: message bodies as files under DATA_DIR/blobs/xx/<id>.
//
// Files are written whole and never modified; they become durable through the group commit
// (store/committer.hpp), which syncs the file system before the index refers to them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::store {

class BlobStore {
 public:
  explicit BlobStore(std::string root);  // root = DATA_DIR/blobs
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  Status init();
  // Writes data under a new unique name (no fsync: see sync()) and returns the name.
  Result<std::string> write(std::string_view data) { return write({}, data); }
  // Writes head followed by data as one file (the SMTP server's trace fields on top of the
  // content as received, which is never copied to join them).
  Result<std::string> write(std::string_view head, std::string_view data);
  // The file's bytes, at most `max_bytes` of them (its start).
  Result<std::string> read(std::string_view name, std::size_t max_bytes = std::string::npos) const;
  void remove(std::string_view name);
  // Makes every file written so far durable, including its directory entry: one syncfs(2)
  // for a whole batch instead of an fsync per file and per directory.
  Status sync();
  // All blob names on disk (for the orphan sweep after an unclean shutdown).
  std::vector<std::string> list() const;

 private:
  std::string path_of(std::string_view name) const;
  std::string root_;
  int root_fd_ = -1;
};

}  // namespace mk::store
