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

std::string Limit::admit(std::int64_t account_id, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (in_flight_ >= kInFlight) return "the server is fetching many links now: try again in a few seconds";
  if (running_[account_id] >= kPerAccount) return "wait until your other links are shared";
  auto& times = recent_[account_id];
  std::erase_if(times, [now](std::int64_t t) { return t <= now - 3600 || t > now; });
  if (times.size() >= kPerHour) return fmt::format("at most {} links an hour: try again later", kPerHour);
  times.push_back(now);
  ++running_[account_id];
  ++in_flight_;
  return "";
}

void Limit::done(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  --in_flight_;
  if (--running_[account_id] <= 0) running_.erase(account_id);
}

}  // namespace mk::share
