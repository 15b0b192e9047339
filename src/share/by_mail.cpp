// share/by_mail.cpp: a message that is only a link, sent to oneself (see by_mail.hpp).
#include "share/by_mail.hpp"

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::share {
namespace {

constexpr std::size_t kMaxText = 8 * 1024;  // a link and a signature; anything longer is a letter

// The text that would be the whole message: a single text/plain part, or the plain half of a
// multipart/alternative of text parts only. Anything else (an attachment, a picture between
// two texts) is a letter, and would be lost if the preview replaced it.
const message::Part* only_text(const message::Part& root) {
  const auto plain = [](const message::Part& p) {
    return p.type == "text" && p.subtype == "plain" && p.disposition != "attachment";
  };
  if (!root.is_multipart()) return plain(root) ? &root : nullptr;
  if (root.subtype != "alternative") return nullptr;
  const message::Part* found = nullptr;
  for (const auto& c : root.children) {
    if (c.type != "text" || c.disposition == "attachment") return nullptr;
    if (!found && plain(c)) found = &c;
  }
  return found;
}

// The tag of `rcpt` when it is `account` with a "+tag" ("" otherwise).
std::string tag_of(std::string_view rcpt, std::string_view account) {
  const std::size_t at = account.rfind('@'), rat = rcpt.rfind('@');
  if (at == std::string_view::npos || rat == std::string_view::npos) return "";
  if (!iequals(rcpt.substr(rat), account.substr(at))) return "";
  const std::string_view local = rcpt.substr(0, rat), own = account.substr(0, at);
  if (local.size() <= own.size() + 1 || !iequals(local.substr(0, own.size()), own) || local[own.size()] != '+')
    return "";
  return std::string(local.substr(own.size() + 1));
}

}  // namespace

std::optional<MailShare> link_only_mail(const message::Parsed& msg, std::string_view account,
                                        const std::vector<std::string>& rcpts) {
  if (rcpts.empty()) return std::nullopt;
  MailShare out;
  for (const auto& r : rcpts) {
    const std::string tag = tag_of(r, account);
    if (tag.empty() || (!out.tag.empty() && !iequals(tag, out.tag))) return std::nullopt;
    out.tag = tag;
  }
  const message::Part* part = only_text(msg.mime());
  if (!part || part->body_size > kMaxText * 2) return std::nullopt;
  std::string text = message::decode_transfer(part->body(msg.text()), part->encoding);
  if (text.size() > kMaxText) return std::nullopt;
  // The signature goes ("-- " on a line of its own, RFC 3676 §4.3).
  for (const std::string_view sep : {"\r\n-- \r\n", "\n-- \n"})
    if (const std::size_t s = text.find(sep); s != std::string::npos) text.resize(s);
  if (text.starts_with("-- \r\n") || text.starts_with("-- \n")) text.clear();
  std::string_view link = text;
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!link.empty() && blank(link.front())) link.remove_prefix(1);
  while (!link.empty() && blank(link.back())) link.remove_suffix(1);
  if (link.size() >= 2 && link.front() == '<' && link.back() == '>') link = link.substr(1, link.size() - 2);
  if (!(istarts_with(link, "http://") || istarts_with(link, "https://"))) return std::nullopt;
  for (unsigned char c : link)
    if (c <= 0x20) return std::nullopt;  // a second word: this is a letter, not a link
  out.url = std::string(link);
  const std::string subject = message::decode_words(trim(msg.field("Subject").value_or("")));
  if (subject != out.url) out.title = subject;
  return out;
}

}  // namespace mk::share
