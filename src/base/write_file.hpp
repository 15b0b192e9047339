// base/write_file.hpp: replacing a small file so that a reader, or a crash at any moment,
// sees either the old content or the new one, never a part: certificates, keys, state.
#pragma once

#include <string>
#include <string_view>

#include <sys/types.h>

#include "base/result.hpp"

namespace mk {

// Writes `data` to a temporary file beside `path` with `mode`, fsyncs it, renames it over
// `path` and fsyncs the directory. An error names the file and the step that failed.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode);

}  // namespace mk
