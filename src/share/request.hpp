// share/request.hpp: what "share a link" is asked (a URL, an optional title, note and tag)
// and what it answers; the folder a tag files into. Apart from the service (share/service.hpp)
// so the web API can check a request without the fetching machinery.
//
// Folders: no tag, or "later", files into "Read later"; any other tag into the folder of that
// name (lower-case), created on demand. Tags are 1 to 32 letters, digits, '-' or '_', as in
// a "+tag" address.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::share {

inline constexpr std::size_t kMaxTag = 32;
inline constexpr std::size_t kMaxNote = 2000;
inline constexpr std::string_view kDefaultFolder = "Read later";
// Folders a tag may create: beyond this many mailboxes, shares go to kDefaultFolder.
inline constexpr std::size_t kMaxFolders = 200;

// The folder a tag files into; an error naming what a tag may hold.
Result<std::string> folder_for_tag(std::string_view tag);

struct Request {
  std::string url;
  std::string title;  // "" : the page's
  std::string note;
  std::string tag;
};

struct Outcome {
  std::string folder;
  std::string title;       // the mail's subject
  bool preview = false;    // the page was read
  bool image = false;      // an image is attached
  std::string failure;     // why there is no preview
  std::string image_note;  // why there is no image although the page named one
  std::uint32_t uid = 0;   // the mail's UID in the folder
  std::int64_t ms = 0;     // how long it took
};

// How many links an account may share, whichever way (the page, a token, a mail to itself):
// kPerHour in any hour and kPerAccount at once, and kInFlight fetches at once on the whole
// server (each holds a socket for up to the fetch's deadline), so one account cannot take
// every place with slow pages.
class Limit {
 public:
  static constexpr std::size_t kPerHour = 120;
  static constexpr int kPerAccount = 2;
  static constexpr int kInFlight = 16;
  // "" when the share may start (and holds its places until done()), else why not.
  std::string admit(std::int64_t account_id, std::int64_t now);
  void done(std::int64_t account_id);

 private:
  std::mutex mu_;
  std::map<std::int64_t, std::vector<std::int64_t>> recent_;  // account -> times of its shares this hour
  std::map<std::int64_t, int> running_;                       // account -> its shares under way
  int in_flight_ = 0;
};

}  // namespace mk::share
