// share/preview.hpp: what a web page says about itself, for the mail "share a link" makes:
// its title, description, site name and preview image, from the Open Graph and Twitter card
// <meta> tags, else <title> and <meta name="description">.
//
// A tolerant scanner, not an HTML parser: it reads tags in the page's first kMaxScanned
// bytes (the <head>), attribute values quoted or not, character references decoded, the
// page's charset (from the HTTP header or <meta charset>) converted to UTF-8.
// STANDARDS: The Open Graph protocol (ogp.me: og:title, og:description, og:site_name,
// og:image, og:image:secure_url, og:url); Twitter cards (twitter:title, twitter:description,
// twitter:image); HTML Living Standard §13.2.5 (character references, the common subset),
// §4.2.5.4 (meta charset).
// SECURITY: the page is untrusted: the scan is bounded in bytes and in tags, every value is
// cut to a length and stripped of control characters, and the result is plain text (the
// composer escapes it). No script, style or URL in it is followed here.
#pragma once

#include <string>
#include <string_view>

namespace mk::share {

inline constexpr std::size_t kMaxScanned = 512 * 1024;
inline constexpr std::size_t kMaxTags = 4096;
inline constexpr std::size_t kMaxTitle = 300;
inline constexpr std::size_t kMaxDescription = 1000;
inline constexpr std::size_t kMaxUrl = 2048;

struct Preview {
  std::string title;
  std::string description;
  std::string site_name;
  std::string image;  // as the page gives it: absolute or relative (resolved by the caller)
  std::string url;    // og:url, the page's canonical address ("" if none)
};

// header_charset: the charset of the HTTP Content-Type ("" if none).
Preview read_preview(std::string_view html, std::string_view header_charset = {});

// &amp; &lt; &#233; &#x20AC; ... in text decoded to UTF-8 (the named references pages use
// in titles; an unknown one is kept as written).
std::string decode_references(std::string_view text);

}  // namespace mk::share
