// filter/lookalike.hpp: domains made to look like other domains: IDN homographs
// ("pаypal.example" with a Cyrillic "а", published as xn--...), swapped look-alike letters
// ("paypa1", "rnicrosoft" for "microsoft") and one-letter typos of a name long enough
// to be recognisable. Compared against the domains a recipient knows (their own, the ones
// they write to), phishing's favourite disguise.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
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

// Registrable domains a recipient knows (the ones they write to; the server's own), made
// ready for what every verdict asks of them: is this domain one of them, and does this one
// imitate one of them. Asked of a plain list, the second question computes the skeleton of
// every known domain; for a user who writes to thousands of domains, or a server hosting a
// thousand, that was most of the verdict's time. Here it is a lookup of the candidate's
// skeleton and a look at the known names under the candidate's suffix whose lengths are
// within one letter of its own. Immutable once built: inbound keeps one per account until
// the account's correspondents change, and one of the hosted domains until they change,
// shared by the verdicts that read them.
class KnownDomains {
 public:
  KnownDomains() = default;
  // Lower-case registrable domains; repeats and empty names are dropped.
  explicit KnownDomains(std::vector<std::string> domains);
  bool contains(std::string_view domain) const;
  // What imitated(candidate, list) finds in the list of these domains; when several match, the
  // first in byte order of those with the same skeleton, else of those one letter away.
  std::optional<std::string> imitated(std::string_view candidate) const;
  // The first domain (in byte order) whose name, its first label of kMinName letters or more,
  // stands as a whole word in `text` (lower-case): not inside a longer run of letters and
  // digits ("Ourcompany IT desk" names ourcompany.example; "yourcompanyx" does not). What
  // cannot be in a name (ASCII punctuation and spaces, Unicode's spaces and zero-width
  // characters) only separates, however much of it there is; the first kNamedBytes of the
  // rest are looked at.
  static constexpr std::size_t kMinName = 4;  // shorter names are common words ("ibm", "bt")
  static constexpr std::size_t kNamedBytes = 512;
  std::optional<std::string> named_in(std::string_view text) const;
  std::size_t size() const { return domains_.size(); }
  bool empty() const { return domains_.empty(); }
  const std::vector<std::string>& domains() const { return domains_; }  // in byte order

 private:
  std::vector<std::string> domains_;  // sorted, no repeats
  static constexpr std::size_t kNone = std::size_t(-1);
  // The first two domains (in byte order) of each skeleton; the second kNone if there is one.
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> by_skeleton_;
  // For the typos: the domains whose name (the first label) has six letters or more, by the
  // length of their skeleton's first label and the suffix after the name ("7.example.org"),
  // each with that label; in byte order.
  struct Named {
    std::size_t index;
    std::string label;
  };
  std::unordered_map<std::string, std::vector<Named>> by_suffix_;
  std::unordered_map<std::string, std::size_t> by_name_;  // the first domain of each name
  std::uint64_t name_lengths_ = 0;                        // bit n: a name of n bytes
  std::bitset<256> name_first_, name_last_;               // the bytes names start and end with
};

}  // namespace mk::filter
