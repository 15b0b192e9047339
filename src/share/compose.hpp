// share/compose.hpp: the mail "share a link" files in the user's own mailbox: the page's
// title as the subject, its description, site name and the user's note, the link, and the
// page's preview image inline; or, when the page could not be read, the link and the reason.
//
// STANDARDS: RFC 5322 (fields), RFC 2045-2047 (MIME, base64, encoded words), RFC 2046 §5.1.4
// (multipart/alternative), RFC 2387 (multipart/related, the HTML part first), RFC 2392
// (cid: URLs), RFC 2183 (Content-Disposition: inline).
// SECURITY: every text here came from a web page or a request: it goes into the HTML part
// escaped, into header fields as encoded words with controls removed, and the link is the
// parsed http(s) URL (no javascript: or data: can reach an href). The image is attached only
// when its bytes are what its type says (image_type) and never as SVG (it can carry script).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mk::share {

struct Image {
  std::string bytes;
  std::string type;  // image/png, image/jpeg, image/gif, image/webp
};

// The image type the bytes are (by their signature), "" for anything else.
std::string image_type(std::string_view bytes);

struct MailParts {
  std::string address;      // the user's: From and To
  std::string link;         // the shared URL, as parsed (share/url.hpp)
  std::string title;        // the user's, else the page's
  std::string description;  // the page's
  std::string site_name;    // the page's, else its host
  std::string note;         // the user's
  std::string failure;      // why there is no preview ("" when there is one)
  std::string image_note;   // why the page's image is not attached ("" when it is, or none)
  std::optional<Image> image;
  std::string date;         // RFC 5322 date-time
  std::string message_id;   // without brackets
};

std::string compose_mail(const MailParts& m);

// The subject line's text: the title, else the link.
std::string subject_of(const MailParts& m);

}  // namespace mk::share
