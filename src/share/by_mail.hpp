// share/by_mail.hpp: sharing a link by mail. A user who sends their own address with a tag
// ("me+later@example.org") a message whose text is a single link gets the same mail as the
// share page makes: the page's preview, filed in the tag's folder (share/request.hpp).
//
// SECURITY: only the account itself, logged in on submission, can ask for this: mail from
// anyone else to a +tag address is delivered as it is, so no stranger can make the server
// fetch a page. Every recipient must be the sender's own address with the same tag; the
// message must be text only (one text/plain part, or a multipart/alternative of text parts,
// so that nothing is lost when the preview replaces it), holding nothing but the link (a
// signature after "-- " aside).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "message/parsed.hpp"

namespace mk::share {

struct MailShare {
  std::string url;
  std::string title;  // the Subject, unless it is the link itself
  std::string tag;
};

// account: the sender's canonical address; rcpts: the envelope recipients, canonical.
std::optional<MailShare> link_only_mail(const message::Parsed& msg, std::string_view account,
                                        const std::vector<std::string>& rcpts);

}  // namespace mk::share
