// dkim/tags.hpp: the tag=value lists of DKIM signatures and key records (RFC 6376 §3.2), also
// used by ARC (RFC 8617 §4.1). Pure, fuzzed (fuzz/dkim_tags.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::dkim {

struct Tag {
  std::string name;   // case-sensitive (RFC 6376 §3.2)
  std::string value;  // folding whitespace kept inside, trimmed at the ends
};

class TagList {
 public:
  // The list, or an error for a syntax error or a duplicate tag.
  static Result<TagList> parse(std::string_view text);
  const std::string* find(std::string_view name) const;
  const std::vector<Tag>& tags() const { return tags_; }

 private:
  std::vector<Tag> tags_;
};

// A value with every whitespace character removed (b=, bh=, p= are base64 with FWS).
std::string strip_whitespace(std::string_view v);

}  // namespace mk::dkim
