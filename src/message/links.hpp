// message/links.hpp: the web links a message's text carries, for containment (a stolen
// mailbox replying to old threads with links) and the spam filter.
//
// Looks into every text/* part (plain and HTML alike), after undoing the transfer encoding,
// for http:// and https:// URLs; a link split by a quoted-printable soft break is found
// whole. Attachments (non-text parts, or parts with Content-Disposition: attachment) are
// not read. SECURITY: untrusted input; the work is bounded by the MIME limits and max_links.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mk::message {

// An absolute URL's host as written, after "://" and without userinfo or port (an IPv6
// literal is cut at its first colon: "[2001"), and the rest from its path, query or
// fragment on; nullopt without "://".
struct UrlParts {
  std::string_view host, rest;
  bool userinfo = false;  // "user@host": a way to make a link look like another host
};
std::optional<UrlParts> split_url(std::string_view url);

// The URLs in the order they appear, each up to the first character that cannot be part of
// one (space, quote, angle bracket, control); at most max_links.
std::vector<std::string> find_links(std::string_view msg, std::size_t max_links = 100);
struct Part;
// The same, in a message the caller parsed already (root: parse_mime(msg)).
std::vector<std::string> find_links(std::string_view msg, const Part& root, std::size_t max_links = 100);

}  // namespace mk::message
