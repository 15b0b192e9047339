// web/settings.hpp: [web] in mailkeep.toml, who administers through the web pages and API,
// and how long a web session lasts. The defaults here are the only ones (app/config.cpp
// binds each key to its field).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/duration.hpp"

namespace mk::web {

struct Settings {
  // The accounts (canonical addresses) that may use /admin/ and the admin API. Empty: nobody
  // (quickstart and dev name the first account).
  std::vector<std::string> admins;
  // A session ends after this long without a request...
  Duration idle{std::chrono::minutes(30)};
  // ...and this long after its login, whatever happens.
  Duration absolute{std::chrono::hours(12)};
  // Whether a user whose outbound mail containment held may release it from /account/
  // (after choosing a new password there). Off: they ask the admin, who is mailed.
  bool self_release = false;
  // Whether users may forward their own mail from /account/ (elsewhere or to another account
  // here). Off: only the admin sets forwarding (the CLI or the admin API).
  bool self_forwarding = true;
};

}  // namespace mk::web
