// web/assets.hpp: the files of the web pages (src/web/assets/), embedded in the binary at
// build time (cmake/embed_assets.cmake): nothing is read from disk or fetched from elsewhere
// at run time, so what the browser runs is what was built.
#pragma once

#include <span>
#include <string_view>

namespace mk::web {

struct Asset {
  std::string_view name;  // "admin.js": served at /assets/admin.js (pages at their own paths)
  std::string_view content_type;
  std::string_view data;
};

std::span<const Asset> assets();

}  // namespace mk::web
