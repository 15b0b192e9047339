// web/pages.hpp: the web pages: /admin/ (the admin's), /account/ (every user's own), and
// their files under /assets/, all embedded in the binary (web/assets.hpp).
// SECURITY: pages run only their own files: a Content-Security-Policy allows scripts, styles
// and fetches from this origin and nothing inline, so text from mail or users shown in a page
// cannot run as script; the scripts insert such text only as text (never as HTML). The pages
// hold no data: everything comes from the API after the login (web/api.hpp), which checks
// every request.
#pragma once

#include "http/router.hpp"

namespace mk::web {

// The pages' policy: this origin's scripts, styles, fetches and images (data: for the QR
// code), nothing inline, no framing, forms only to this origin.
inline constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

void add_pages(http::Router& router);

}  // namespace mk::web
