// web/routes_share.cpp: share a link (POST /api/v1/share) and the share tokens of a user's
// devices (/api/v1/me/share-tokens). See share/service.hpp for what a share does.
// SECURITY: a share files into the caller's own mailbox only; the fetch runs as an
// asynchronous continuation of the request (http::Response::then), holding a socket and no
// thread, within the fetch's deadline, and at most ShareLimit::kInFlight at once. A share
// token is shown once, stored as a hash, and reaches only POST /api/v1/share.
#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "share/url.hpp"
#include "store/error.hpp"
#include "web/routes.hpp"

namespace mk::web {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

constexpr const char* kShareRequest =
    R"({"type":"object","required":["url"],"properties":{"url":{"type":"string","description":"the page, http or https"},)"
    R"("title":{"type":"string","description":"the subject; the page's title by default"},)"
    R"("text":{"type":"string","description":"text a share sheet sends; its first link is used when url is empty"},)"
    R"("note":{"type":"string"},)"
    R"("tag":{"type":"string","description":"the folder: none or later for Read later, else the tag's name"}}})";
constexpr const char* kShareOutcome =
    R"({"type":"object","required":["folder","title","preview","image","failure","image_note","uid","ms"],)"
    R"("properties":{"folder":{"type":"string"},"title":{"type":"string"},"preview":{"type":"boolean"},)"
    R"("image":{"type":"boolean"},"failure":{"type":"string"},"image_note":{"type":"string"},)"
    R"("uid":{"type":"integer"},"ms":{"type":"integer"}}})";
constexpr const char* kShareTokens =
    R"({"type":"array","items":{"type":"object","required":["name","created","last_used","last_ip"],)"
    R"("properties":{"name":{"type":"string"},"created":{"type":"integer"},"last_used":{"type":"integer"},)"
    R"("last_ip":{"type":"string"}}}})";

// The first http(s) link in a text (a phone's share sheet often sends the page as text).
std::string first_link(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t h = text.find("http", at);
    if (h == std::string_view::npos) return "";
    std::string_view rest = text.substr(h);
    if (rest.starts_with("http://") || rest.starts_with("https://")) {
      const std::size_t end = rest.find_first_of(" \t\r\n\"<>");
      return std::string(rest.substr(0, end));
    }
    at = h + 4;
  }
  return "";
}

// The share itself, after the request was answered "accepted" by the handler; by value: it
// outlives the handler's Call. `slot` holds the in-flight place until the share ends.
asio::awaitable<Reply> run_share(Services& svc, store::Account account, share::Request request,
                                 std::shared_ptr<void> slot) {
  (void)slot;
  auto out = co_await svc.share(std::move(account), std::move(request));
  if (!out && store::is(out.error(), store::Errc::quota)) co_return error(507, "over_quota", out.error().message);
  if (!out) co_return error_from(out.error());
  co_return ok(json::object{{"folder", out->folder},
                            {"title", out->title},
                            {"preview", out->preview},
                            {"image", out->image},
                            {"failure", out->failure},
                            {"image_note", out->image_note},
                            {"uid", out->uid},
                            {"ms", out->ms}},
               201);
}

bool is_share_token(const store::ApiToken& t) { return t.scopes == kShareScope; }

}  // namespace

void add_share_routes(Api& api, Services& svc) {
  api.add("POST", "/api/v1/share", Access::share,
          Doc{"Share a link: the page's title, description and image become a mail in your own mailbox, in the folder "
              "the tag names (Read later by default). The answer comes once the mail is stored; a page that cannot "
              "be read still gives a mail with the link and the reason (failure).",
              "share", {}, kShareRequest, kShareOutcome, 201},
          [&svc](Call& c) -> Reply {
            if (!svc.share || !svc.share_limit) return error(503, "unavailable", "sharing links is not set up on this server");
            share::Request r;
            r.url = string_field(c.body, "url").value_or("");
            if (r.url.empty()) r.url = first_link(string_field(c.body, "text").value_or(""));
            if (r.url.empty()) return bad_field("url", "an http:// or https:// link");
            r.title = string_field(c.body, "title").value_or("");
            r.note = string_field(c.body, "note").value_or("");
            r.tag = string_field(c.body, "tag").value_or("");
            // What needs no fetch is checked now.
            auto url = share::parse_web_url(r.url);
            if (!url) return error(400, "invalid", url.error().message);
            if (auto f = share::folder_for_tag(r.tag); !f) return error(400, "invalid", f.error().message);
            if (r.note.size() > share::kMaxNote)
              return error(400, "invalid", fmt::format("a note is at most {} bytes", share::kMaxNote));
            if (auto why = svc.share_limit->admit(c.who->account.id, c.now); !why.empty())
              return error(429, "too_many", why);
            std::shared_ptr<void> slot(nullptr, [limit = svc.share_limit, id = c.who->account.id](void*) { limit->done(id); });
            record_action(svc, c, "link_shared", {{"user", c.who->account.address}, {"host", url->host}});
            Reply pending;
            pending.then = [&svc, account = c.who->account, r = std::move(r), slot = std::move(slot)] {
              return run_share(svc, account, r, slot);
            };
            return pending;
          });

  api.add("GET", "/api/v1/me/share-tokens", Access::user,
          Doc{"Your share tokens: one per device that shares links (never the tokens themselves).", "me", {}, "",
              kShareTokens},
          [&svc](Call& c) {
            auto l = svc.store.api_tokens(c.who->account.id);
            if (!l) return error_from(l.error());
            json::array out;
            for (const auto& t : *l)
              if (is_share_token(t))
                out.push_back(json::object{
                    {"name", t.name}, {"created", t.created}, {"last_used", t.last_used}, {"last_ip", t.last_ip}});
            return ok(std::move(out));
          });
  api.add("POST", "/api/v1/me/share-tokens", Access::user,
          Doc{"A new share token for a device (a bookmarklet, a shortcut): it can only share links into your mailbox "
              "(Authorization: Bearer). The token is in this answer only.",
              "me", {}, R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"}}})",
              R"({"type":"object","required":["name","token"],"properties":{"name":{"type":"string"},)"
              R"("token":{"type":"string"}}})",
              201},
          [&svc, &api](Call& c) {
            auto name = string_field(c.body, "name");
            if (!name || !valid_credential_name(*name)) return bad_field("name", "1 to 64 characters, no \"/\"");
            auto existing = svc.store.api_tokens(c.who->account.id);
            if (!existing) return error_from(existing.error());
            if (std::count_if(existing->begin(), existing->end(), is_share_token) >=
                static_cast<std::ptrdiff_t>(admin::kMaxShareTokens))
              return error(409, "too_many", fmt::format("at most {} share tokens: revoke one first", admin::kMaxShareTokens));
            auto t = api.sessions().new_share_token(*c.who, *name, c.now);
            if (!t) return error_from(t.error());
            record_action(svc, c, "share_token_added", {{"user", c.who->account.address}, {"name", *name}});
            return ok(json::object{{"name", *name}, {"token", *t}}, 201);
          });
  api.add("DELETE", "/api/v1/me/share-tokens/{name}", Access::user,
          Doc{"Revoke one of your share tokens.", "me", {{"name", "path", "string", "the token's name"}}, "",
              schema::kEmpty, 204},
          [&svc](Call& c) {
            // Only a share token goes this way: an admin's API token of the same name stays.
            auto l = svc.store.api_tokens(c.who->account.id);
            if (!l) return error_from(l.error());
            const auto& name = c.params["name"];
            if (std::none_of(l->begin(), l->end(), [&](const auto& t) { return t.name == name && is_share_token(t); }))
              return error(404, "not_found", "you have no share token of that name");
            auto r = svc.store.revoke_api_token(c.who->account.id, name);
            if (!r) return error_from(r.error());
            record_action(svc, c, "share_token_revoked", {{"user", c.who->account.address}, {"name", name}});
            return no_content();
          });
}

}  // namespace mk::web
