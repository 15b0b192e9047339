// share/service.hpp: "share a link": a URL (and an optional title, note and tag) becomes a
// readable mail in the user's own mailbox, in the folder the tag names. The page is fetched
// (share/fetch.hpp), its preview read (share/preview.hpp), its image fetched and checked, and
// the mail composed (share/compose.hpp) and stored; when the page cannot be read the mail
// still comes, with the link and the reason.
// Folders: share/request.hpp.
// SECURITY: the share acts for one account, always into that account's own mailbox: no
// request can name another recipient. Fetching is share/fetch.hpp's policy. The mail is
// acknowledged only once the store has it on disk. The shared URL's path and query are not
// logged (only its host): they can carry tokens.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "base/log.hpp"
#include "base/result.hpp"
#include "share/fetch.hpp"
#include "share/request.hpp"
#include "store/directory.hpp"
#include "store/mail.hpp"

namespace mk::share {

class Sharer {
 public:
  // work: where the store's blocking calls run (null: inline). hostname: for Message-IDs.
  Sharer(Fetcher& fetcher, store::Directory& directory, store::Mail& mail, boost::asio::thread_pool* work,
         std::string hostname, log::Logger log)
      : fetcher_(fetcher), directory_(directory), mail_(mail), work_(work), hostname_(std::move(hostname)),
        log_(std::move(log)) {}

  // Errors: an invalid request (Errc::invalid, its message says what is wrong), a mailbox over
  // its quota (Errc::quota), or a failure to store the mail. A page that cannot be read is not
  // an error. A tag makes its folder unless the account has kMaxFolders already; then the
  // mail goes to "Read later".
  boost::asio::awaitable<Result<Outcome>> share(store::Account account, Request request);

 private:
  Fetcher& fetcher_;
  store::Directory& directory_;
  store::Mail& mail_;
  boost::asio::thread_pool* work_;
  std::string hostname_;
  log::Logger log_;
};

}  // namespace mk::share
