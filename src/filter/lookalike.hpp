// filter/lookalike.hpp: domains made to look like other domains: IDN homographs
// ("pаypal.example" with a Cyrillic "а", published as xn--...), swapped look-alike letters
// ("paypa1", "rnicrosoft" for "microsoft") and one-letter typos of a name long enough
// to be recognisable. Compared against the domains a recipient knows (their own, the ones
// they write to), phishing's favourite disguise.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mk::filter {

// RFC 3492 Punycode: the code points of an "xn--" label's encoded part (without "xn--");
// nullopt if it is not valid Punycode.
std::optional<std::u32string> punycode_decode(std::string_view encoded);

// What a (lower-case) domain name looks like to a reader: each label decoded from Punycode,
// look-alike characters folded to the ASCII letter they imitate, and look-alike letter
// groups ("rn", "vv", digits) folded too. Characters with no look-alike stay distinct.
std::string skeleton(std::string_view domain);

// The known domain `candidate` imitates, if any: the same skeleton, or (for names of six or
// more letters under the same suffix) one letter changed, added, dropped or two swapped.
// Both are registrable domains; `candidate` itself being known is the caller's check.
std::optional<std::string> imitated(std::string_view candidate, const std::vector<std::string>& known);

}  // namespace mk::filter
