#include "web/pages.hpp"

#include <string>

#include "web/assets.hpp"

namespace mk::web {
namespace {

http::Response asset_response(const Asset& a) {
  http::Response r;
  r.content_type = std::string(a.content_type);
  r.body = std::string(a.data);
  r.headers.emplace_back("Content-Security-Policy", kPagePolicy);
  // Revalidated every time: a new binary serves new files at the same names.
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

const Asset* find(std::string_view name) {
  for (const auto& a : assets())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace

void add_pages(http::Router& router) {
  for (const auto& [path, file] : {std::pair{"/admin/", "admin.html"}, std::pair{"/account/", "account.html"}}) {
    const Asset* page = find(file);
    if (!page) continue;
    router.add({"GET"}, path, [page](const http::Request&) { return asset_response(*page); });
    // Without the slash, relative links would resolve one level up.
    router.add({"GET"}, std::string(path).substr(0, std::string_view(path).size() - 1),
               [p = std::string(path)](const http::Request&) { return http::Response::redirect(301, p); });
  }
  // Share a link: the page a phone's share sheet (the manifest's share_target) and the
  // bookmarklet open; it reads what to share from its query or fragment.
  if (const Asset* page = find("share.html"))
    router.add({"GET"}, "/share", [page](const http::Request&) { return asset_response(*page); });
  router.add(
      {"GET"}, "/assets/",
      [](const http::Request& req) {
        const Asset* a = find(std::string_view(req.path).substr(std::string_view("/assets/").size()));
        // Pages are served at their own paths only.
        if (!a || a->name.ends_with(".html")) return http::Response::text(404, "Not found.\n");
        return asset_response(*a);
      },
      http::Over::https, true);
}

}  // namespace mk::web
