// share/request.cpp: the folder a tag names (see request.hpp).
#include "share/request.hpp"

#include <cctype>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/error.hpp"

namespace mk::share {

Result<std::string> folder_for_tag(std::string_view tag) {
  if (tag.empty() || iequals(tag, "later")) return std::string(kDefaultFolder);
  if (tag.size() > kMaxTag) return store::error(store::Errc::invalid, fmt::format("a tag is at most {} characters", kMaxTag));
  for (unsigned char c : tag)
    if (!std::isalnum(c) && c != '-' && c != '_')
      return store::error(store::Errc::invalid, "a tag holds only letters, digits, '-' and '_'");
  if (iequals(tag, "inbox")) return store::error(store::Errc::invalid, "a tag cannot be \"inbox\"");
  return to_lower(tag);
}

}  // namespace mk::share
