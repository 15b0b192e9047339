// base/read_file.hpp: a whole (regular) file into memory, for the commands and files that
// read one at a time: the config file, message files given to the CLI, corpora.
#pragma once

#include <cstddef>
#include <string>

#include "base/result.hpp"

namespace mk {

// The file's contents; an error naming the file if it cannot be opened or read, or is
// larger than `max_bytes`.
Result<std::string> read_file(const std::string& path, std::size_t max_bytes);

}  // namespace mk
