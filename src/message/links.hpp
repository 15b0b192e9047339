// message/links.hpp: the web links a message's text carries, for containment (a stolen
// mailbox replying to old threads with links) and the spam filter.
//
// Looks into every text/* part (plain and HTML alike), after undoing the transfer encoding,
// for http:// and https:// URLs; a link split by a quoted-printable soft break is found
// whole. Attachments (non-text parts, or parts with Content-Disposition: attachment) are
// not read. SECURITY: untrusted input; the work is bounded by the MIME limits and max_links.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mk::message {

// The URLs in the order they appear, each up to the first character that cannot be part of
// one (space, quote, angle bracket, control); at most max_links.
std::vector<std::string> find_links(std::string_view msg, std::size_t max_links = 100);

}  // namespace mk::message
