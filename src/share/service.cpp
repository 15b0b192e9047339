// share/service.cpp: a shared link becomes a mail in the user's folder (see service.hpp).
#include "share/service.hpp"

#include <algorithm>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "base/strings.hpp"
#include "delivery/recipients.hpp"
#include "message/header.hpp"
#include "net/offload.hpp"
#include "share/compose.hpp"
#include "share/preview.hpp"
#include "smtp/session.hpp"
#include "store/error.hpp"

namespace mk::share {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

bool html_type(std::string_view t) { return t == "text/html" || t == "application/xhtml+xml"; }

// Text from a request: controls dropped, runs of white space kept as one, cut at max bytes.
std::string clean_text(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += char(c);
  }
  out = std::string(trim(out));
  if (out.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

struct Found {
  Preview preview;
  std::optional<Image> image;
  std::string failure, image_note;
};

}  // namespace

asio::awaitable<Result<Outcome>> Sharer::share(store::Account account, Request request) {
  const auto started = Clock::now();
  const auto deadline = started + fetcher_.policy().timeout;
  auto url = parse_web_url(request.url);
  if (!url) co_return store::error(store::Errc::invalid, url.error().message);
  auto folder = folder_for_tag(request.tag);
  if (!folder) co_return folder.error();
  if (!message::valid_utf8(request.title) || !message::valid_utf8(request.note))
    co_return store::error(store::Errc::invalid, "the title and the note must be UTF-8 text");
  if (request.note.size() > kMaxNote)
    co_return store::error(store::Errc::invalid, fmt::format("a note is at most {} bytes", kMaxNote));

  // A full mailbox is refused before anything is fetched (and again when storing).
  auto full = co_await net::offload(work_, [&]() -> std::optional<Status> {
    auto now = directory_.account_by_id(account.id);
    if (!now) return Status(now.error());
    if (*now && (*now)->over_quota()) return Status(store::error(store::Errc::quota, "the mailbox is full: delete some mail first"));
    return Status();
  });
  if (!*full) co_return full->error();

  Found found;
  auto page = co_await fetcher_.get(*url, fetcher_.policy().max_html, deadline);
  if (!page) {
    found.failure = page.error().message;
  } else if (html_type(page->content_type)) {
    found.preview = read_preview(page->body, page->charset);
    if (!found.preview.image.empty()) {
      auto where = resolve_url(page->url, found.preview.image);
      if (!where) {
        found.image_note = "the page's image address is not usable: " + where.error().message;
      } else {
        // One byte over the cap tells an image that is too large from one that fits.
        auto img = co_await fetcher_.get(*where, fetcher_.policy().max_image + 1, deadline);
        if (!img) {
          found.image_note = img.error().message;
        } else if (img->truncated || img->body.size() > fetcher_.policy().max_image) {
          found.image_note = fmt::format("the image is larger than {} KiB", fetcher_.policy().max_image / 1024);
        } else if (const auto type = image_type(img->body); type.empty() || !img->content_type.starts_with("image/")) {
          found.image_note = "the image is not a PNG, JPEG, GIF or WebP picture";
        } else {
          found.image = Image{std::move(img->body), type};
        }
      }
    }
  } else if (const auto type = image_type(page->body);
             !type.empty() && page->content_type.starts_with("image/") && !page->truncated &&
             page->body.size() <= fetcher_.policy().max_image) {
    found.image = Image{std::move(page->body), type};  // the link is a picture: it is its own preview
  } else {
    found.failure = fmt::format("{} is not a web page ({})", url->host,
                                page->content_type.empty() ? "no content type" : page->content_type);
  }

  MailParts parts;
  parts.address = account.address;
  parts.link = url->text();
  parts.title = clean_text(request.title, kMaxTitle);
  if (parts.title.empty()) parts.title = found.preview.title;
  parts.description = found.preview.description;
  parts.site_name = found.preview.site_name.empty() && found.failure.empty() ? url->host : found.preview.site_name;
  parts.note = clean_text(request.note, kMaxNote);
  parts.failure = found.failure;
  parts.image_note = found.image_note;
  parts.image = std::move(found.image);
  parts.date = smtp::rfc5322_date(std::chrono::system_clock::now());
  parts.message_id = fmt::format("share.{}@{}", random_id(12), hostname_);

  Outcome out;
  out.folder = *folder;
  out.title = subject_of(parts);
  out.preview = found.failure.empty();
  out.image = parts.image.has_value();
  out.failure = parts.failure;
  out.image_note = parts.image_note;
  std::string mail = compose_mail(parts);

  // Filed in the folder, made on demand (within kMaxFolders); a folder that cannot be made
  // leaves the mail in INBOX. The quota is the account's as it is now, as for SMTP and APPEND.
  auto stored_box = co_await net::offload(work_, [&]() -> std::optional<store::DeliverResult> {
    auto now = directory_.account_by_id(account.id);
    if (!now) return store::DeliverResult(now.error());
    if (!*now) return store::DeliverResult(store::error(store::Errc::not_found, "the account no longer exists"));
    if ((*now)->over_quota(mail.size()))
      return store::DeliverResult(store::error(store::Errc::quota, "the mailbox is full: delete some mail first"));
    // A folder of that name in any case is the one ("Recipes" for the tag "recipes").
    std::string where = *folder;
    auto all = mail_.list_mailboxes(account.id);
    if (!all) return store::DeliverResult(all.error());
    const auto named = [&](const std::string& name) {
      return std::find_if(all->begin(), all->end(), [&](const store::Mailbox& b) { return iequals(b.name, name); });
    };
    if (named(where) == all->end() && all->size() >= kMaxFolders) where = std::string(kDefaultFolder);
    if (auto it = named(where); it != all->end())
      where = it->name;
    else if (auto made = mail_.create_mailbox(account.id, where, ""); !made)
      log_.warn("share.folder_not_made", {{"account", account.address}, {"folder", where}, {"error", made.error().message}});
    else
      log_.ok_or_log(mail_.set_subscribed(account.id, where, true), "share.folder_not_subscribed",
                     {{"account", account.address}, {"folder", where}});
    store::NewMessage m;
    m.summary = delivery::summary_of(mail);
    m.data = std::make_shared<const std::string>(std::move(mail));
    m.mail_from = account.address;
    m.internaldate = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    m.message_id = parts.message_id;
    m.deliveries.push_back(store::Delivery{account.id, where, account.address, ""});
    return mail_.deliver_sync(std::move(m));
  });
  auto& stored = *stored_box;
  out.ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  log_.info("share.delivered", {{"account", account.address}, {"host", url->host}, {"folder", out.folder},
                                {"preview", out.preview}, {"image", out.image}, {"ms", out.ms},
                                {"stored", static_cast<bool>(stored)}});
  if (!stored) co_return stored.error();
  if (!stored->empty()) out.uid = stored->front().uid;
  if (!stored->empty()) {
    // A mailbox that could not be made: deliver_all fell back to INBOX.
    auto where = co_await net::offload(work_, [&]() -> std::optional<std::string> {
      auto mb = mail_.mailbox_by_id(stored->front().mailbox_id);
      return mb ? std::optional<std::string>(mb->name) : std::nullopt;
    });
    if (where) out.folder = *where;
  }
  co_return out;
}

}  // namespace mk::share
