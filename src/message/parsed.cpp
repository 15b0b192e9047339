#include "message/parsed.hpp"

#include <algorithm>

#include "base/strings.hpp"
#include "message/links.hpp"

namespace mk::message {

const Address* Authors::single() const {
  if (fields != 1 || mailboxes.size() != 1 || mailboxes[0].domain.empty()) return nullptr;
  return &mailboxes[0];
}

std::string Authors::single_address() const {
  const Address* a = single();
  return a ? a->local + "@" + to_lower(a->domain) : std::string();
}

std::vector<std::string> Authors::domains() const {
  std::vector<std::string> out;
  for (const auto& a : mailboxes) {
    std::string d = to_lower(a.domain);
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
  }
  return out;
}

Authors authors_of(const std::vector<HeaderField>& header) {
  Authors out;
  for (const auto& f : header) {
    if (!iequals(f.name, "From")) continue;
    ++out.fields;
    // The parser stops at its bound, group markers included, and what follows is not read:
    // a list that reaches it counts as truncated (empty groups must not hide an author).
    constexpr std::size_t kItems = 3 * Authors::kMaxAuthors;
    auto list = parse_address_list(unfold(f.value), kItems);
    if (list.size() >= kItems) out.truncated = true;
    for (auto& a : list) {
      if (a.group_start || a.group_end) continue;
      if (out.mailboxes.size() == Authors::kMaxAuthors) {
        out.truncated = true;
        break;
      }
      out.mailboxes.push_back(std::move(a));
    }
  }
  return out;
}

Parsed::Parsed(std::shared_ptr<const std::string> text) : text_(text ? std::move(text) : std::make_shared<const std::string>()) {
  const std::string_view t = *text_;
  body_start_ = find_body_start(t, header_end_);
  header_ = parse_header_block(t.substr(0, header_end_));
  header_truncated_ = message::header_truncated(t.substr(0, header_end_), header_.size());
  authors_ = authors_of(header_);
  // Fields past the limits are not read: another From: may be among them.
  if (header_truncated_) authors_.truncated = true;
  if (auto ids = msg_ids(field("Message-ID").value_or(""), 1); !ids.empty()) message_id_ = std::move(ids[0]);
  thread_ids_ = msg_ids(field("In-Reply-To").value_or(""), 5);
  auto refs = msg_ids(field("References").value_or(""), 50);
  for (auto it = refs.rbegin(); it != refs.rend() && thread_ids_.size() < kMaxThreadIds; ++it)
    if (std::find(thread_ids_.begin(), thread_ids_.end(), *it) == thread_ids_.end()) thread_ids_.push_back(*it);
}

const Part& Parsed::mime() const {
  std::call_once(mime_once_, [this] { mime_ = parse_mime(*text_); });
  return mime_;
}

const std::vector<std::string>& Parsed::links() const {
  std::call_once(links_once_, [this] { links_ = find_links(*text_, mime(), kMaxLinks); });
  return links_;
}

}  // namespace mk::message
