// imap/server/flag_table.hpp: interned flag lists shared by all sessions.
//
// Every selected mailbox keeps one entry per message; with the flags as a pointer to an
// interned string ("\\Seen \\Flagged") instead of a string per message, a session with a
// 10,000-message mailbox selected needs 240 KB instead of about 480 KB. Flag lists are few
// and small, and interned strings are never freed, so pointers stay valid for good.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mk::imap {

class FlagTable {
 public:
  const std::string* intern(std::string_view flags) {
    std::lock_guard lock(mu_);
    auto it = index_.find(flags);
    if (it != index_.end()) return it->second;
    strings_.emplace_back(flags);
    const std::string* p = &strings_.back();
    index_.emplace(std::string_view(*p), p);
    return p;
  }

 private:
  std::mutex mu_;
  std::deque<std::string> strings_;  // element addresses are stable
  std::unordered_map<std::string_view, const std::string*> index_;
};

}  // namespace mk::imap
