// web/routes_admin.cpp: what an admin does over the API: domains and their DNS records,
// accounts, aliases, the outbound queue, containment holds, bans, the security log and the
// API tokens. Each mirrors a `mailkeep` command and shares its rules (admin/accounts.hpp).
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "admin/accounts.hpp"
#include "audit/log.hpp"
#include "auth/throttle.hpp"
#include "base/ip.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "message/address.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/parsed.hpp"
#include "web/routes.hpp"

namespace mk::web {

namespace json = boost::json;

namespace {

// The live DNS check, after the handler has answered "go on" (http::Response::then).
boost::asio::awaitable<Reply> check_dns_reply(Services& svc, std::string domain, std::shared_ptr<void> slot) {
  (void)slot;  // holds the check's place until it ends
  auto findings = co_await svc.check_dns(std::move(domain));
  if (!findings) co_return error(503, "unavailable", findings.error().message);
  co_return ok(json::object{{"findings", std::move(*findings)}});
}


// What the queue's message view shows at most: header fields, each field's length, the text.
constexpr std::size_t kMaxShownFields = 200;
constexpr std::size_t kMaxShownField = 2000;
constexpr std::size_t kMaxShownText = 64 * 1024;
// The most security-log records one request reads back (the newest).
constexpr std::int64_t kMaxLogRecords = 500;

constexpr const char* kAccountItem =
    R"({"type":"object","required":["address","quota_bytes","used_bytes","disabled","password_breached","held",)"
    R"("totp","created","forward_to","forward_keep"],"properties":{"address":{"type":"string"},)"
    R"("quota_bytes":{"type":"integer"},"used_bytes":{"type":"integer"},"disabled":{"type":"boolean"},)"
    R"("password_breached":{"type":"boolean"},"held":{"type":"string"},"totp":{"type":"boolean"},)"
    R"("created":{"type":"integer"},"forward_to":{"type":"string"},"forward_keep":{"type":"boolean"}}})";

json::object account_item(const store::Account& a) {
  return json::object{{"address", a.address},     {"quota_bytes", a.quota_bytes},
                      {"used_bytes", a.used_bytes}, {"disabled", a.disabled},
                      {"password_breached", a.password_breached},
                      {"held", a.outbound_hold},  {"totp", !a.totp_secret.empty()},
                      {"created", a.created},       {"forward_to", a.forward_to},
                      {"forward_keep", a.forward_keep}};
}

json::object queued_item(const store::QueuedMessage& m) {
  json::array rcpts;
  for (const auto& r : m.rcpts)
    rcpts.push_back(json::object{{"rcpt", r.rcpt},
                                 {"state", to_string(r.state)},
                                 {"attempts", r.attempts},
                                 {"next_attempt", r.next_attempt},
                                 {"last_error", r.last_error}});
  return json::object{{"id", m.id},           {"from", m.mail_from}, {"size", m.size},
                      {"created", m.created}, {"sender_account", m.sender_account},
                      {"recipients", std::move(rcpts)}};
}

constexpr const char* kQueuedItem =
    R"({"type":"object","required":["id","from","size","created","recipients"],"properties":{"id":{"type":"integer"},)"
    R"("from":{"type":"string"},"size":{"type":"integer"},"created":{"type":"integer"},"sender_account":{"type":"integer"},)"
    R"("recipients":{"type":"array","items":{"type":"object","required":["rcpt","state","attempts","next_attempt",)"
    R"("last_error"],"properties":{"rcpt":{"type":"string"},"state":{"type":"string","enum":["queued","held",)"
    R"("delivered","bounced"]},"attempts":{"type":"integer"},"next_attempt":{"type":"integer"},)"
    R"("last_error":{"type":"string"}}}}}})";

// A list answer: each element of a store listing, as JSON.
template <class T, class F>
Reply list_reply(const Result<std::vector<T>>& rows, F item) {
  if (!rows) return error_from(rows.error());
  json::array out;
  for (const auto& r : *rows) out.push_back(item(r));
  return ok(std::move(out));
}

// A page of a long list: ?q= keeps the rows whose text contains it (any case), ?after= starts
// after the row with that key, ?limit= (1 to kMaxPage, default kMaxPage) caps the answer. When
// rows are left, a Link header (RFC 8288, rel="next") names the next page.
constexpr std::int64_t kMaxPage = 1000;

// A query value percent-encoded (RFC 3986 §2.3: unreserved characters as they are).
std::string query_escape(std::string_view v) {
  std::string out;
  for (unsigned char ch : v) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '@')
      out += char(ch);
    else
      out += fmt::format("%{:02X}", ch);
  }
  return out;
}

// Rows in cursor order; `cursor` gives a row's cursor text, `seen(row, after)` whether a row
// comes at or before the cursor `after`, `text` what ?q= searches.
template <class T, class Less, class Cursor, class Seen, class Text, class F>
Reply page_reply(const Call& c, const Result<std::vector<T>>& rows, Less less, Cursor cursor, Seen seen, Text text,
                 F item) {
  if (!rows) return error_from(rows.error());
  std::int64_t limit = kMaxPage;
  if (auto l = c.req.param("limit")) {
    auto v = id_param(*l);
    if (!v || *v > kMaxPage) return bad_field("limit", fmt::format("a number from 1 to {}", kMaxPage));
    limit = *v;
  }
  const std::string q = to_lower(c.req.param("q").value_or(""));
  const std::string after = c.req.param("after").value_or("");
  std::vector<const T*> sorted;
  for (const auto& r : *rows) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [&](const T* a, const T* b) { return less(*a, *b); });
  json::array out;
  std::string last;
  bool more = false;
  for (const T* r : sorted) {
    if (!after.empty() && seen(*r, after)) continue;
    if (!q.empty() && to_lower(text(*r)).find(q) == std::string::npos) continue;
    if (std::int64_t(out.size()) == limit) {
      more = true;
      break;
    }
    out.push_back(item(*r));
    last = cursor(*r);
  }
  Reply reply = ok(std::move(out));
  if (more) {
    std::string next = fmt::format("{}?after={}&limit={}", c.req.path, query_escape(last), limit);
    if (!q.empty()) next += "&q=" + query_escape(q);
    reply.headers.emplace_back("Link", fmt::format("<{}>; rel=\"next\"", next));
  }
  return reply;
}

// The account a path names, or the reply that says why there is none.
Result<store::Account> named_account(Services& svc, const std::string& address) {
  auto addr = admin::canonical_address(address);
  if (!addr) return addr.error();
  auto acct = svc.store.find_account(*addr);
  if (!acct) return acct.error();
  if (!*acct) return store::error(store::Errc::not_found, "no such account: " + *addr);
  return **acct;
}

// A label's value in a rendered label set ({outcome="accepted",service="mx"}).
std::string label(std::string_view labels, std::string_view key) {
  const std::string k = std::string(key) + "=\"";
  for (auto at = labels.find(k); at != std::string_view::npos; at = labels.find(k, at + 1)) {
    if (at != 0 && labels[at - 1] != '{' && labels[at - 1] != ',') continue;
    const auto from = at + k.size();
    const auto to = labels.find('"', from);
    return to == std::string_view::npos ? std::string() : std::string(labels.substr(from, to - from));
  }
  return {};
}

constexpr std::int64_t kDay = 86400;

// Today's mail from the counters' daily totals (app/stats.hpp: written once a minute).
Result<json::object> mail_today(Services& svc, std::int64_t now) {
  auto rows = svc.store.daily_counts(now / kDay, now / kDay);
  if (!rows) return rows.error();
  std::int64_t accepted = 0, junked = 0, rejected = 0, delivered = 0, bounced = 0, deferred = 0;
  for (const auto& r : *rows) {
    if (r.name == "mailkeep_smtp_messages_total" && label(r.labels, "service") == "mx") {
      const std::string o = label(r.labels, "outcome");
      if (o == "accepted") accepted += r.value;
      if (o == "junked") junked += r.value;
      if (o == "rejected") rejected += r.value;
    } else if (r.name == "mailkeep_outbound_deliveries_total") {
      const std::string o = label(r.labels, "result");
      if (o == "delivered") delivered += r.value;
      if (o == "bounced") bounced += r.value;
      if (o == "deferred") deferred += r.value;
    }
  }
  return json::object{{"received", accepted + junked}, {"junked", junked},       {"rejected", rejected},
                      {"delivered", delivered},         {"bounced", bounced},     {"deferred", deferred}};
}

// The first text/plain part of a message, decoded to UTF-8 and cut at `cap` bytes (on a
// character boundary): what an admin reads of a held message, as text, never as HTML.
std::string readable_text(const message::Parsed& msg, std::size_t cap) {
  const message::Part* found = nullptr;
  std::vector<const message::Part*> todo{&msg.mime()};
  while (!todo.empty() && !found) {
    const message::Part* p = todo.front();
    todo.erase(todo.begin());
    if (p->type == "text" && p->subtype == "plain" && p->disposition != "attachment") found = p;
    for (const auto& c : p->children) todo.push_back(&c);
  }
  if (!found) return {};
  std::string charset = "us-ascii";
  for (const auto& [k, v] : found->type_params)
    if (k == "charset") charset = v;
  const std::string raw = message::decode_transfer(found->body(msg.text()), found->encoding);
  std::string text = message::to_utf8(raw, charset).value_or(raw);
  if (text.size() > cap) {
    std::size_t cut = cap;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "\n[…]";
  }
  return message::valid_utf8(text) ? text : std::string("[text in an unknown encoding]");
}

// The dashboard's figures, made afresh (DashboardCache keeps them a second).
Result<json::object> dashboard(Services& svc, std::int64_t now) {
  auto mail = mail_today(svc, now);
  if (!mail) return mail.error();
  auto q = svc.store.queue_stats();
  if (!q) return q.error();
  auto counts = svc.store.account_counts();
  if (!counts) return counts.error();
  auto bans = svc.store.active_ban_count(now);
  if (!bans) return bans.error();
  const auto log = svc.log_check.verify(svc.security_log, now);
  json::object status = svc.server_status ? svc.server_status() : json::object{};
  json::value cert = nullptr;
  if (auto* ci = status.if_contains("certificate"); ci && ci->is_object()) {
    cert = *ci;
    const std::int64_t expires = ci->as_object().at("expires").as_int64();
    cert.as_object()["days_left"] = (expires - now) / kDay;
  }
  json::value shipping = json::array{};
  if (auto* ls = status.if_contains("log_shipping"); ls && ls->is_array()) shipping = *ls;
  return json::object{
      {"mail_today", std::move(*mail)},
      {"queue", json::object{{"messages", q->messages},
                             {"recipients", q->recipients},
                             {"held_recipients", q->held_recipients},
                             {"oldest", q->oldest}}},
      {"accounts", counts->accounts},
      {"held", counts->held},
      {"bans", *bans},
      {"security_log", json::object{{"verified", log.ok}, {"records", log.records}}},
      {"certificate", std::move(cert)},
      {"log_shipping", std::move(shipping)},
      {"check", last_check(svc.last_check)}};
}

}  // namespace

void add_admin_routes(Api& api, Services& svc) {
  api.add("GET", "/api/v1/dashboard", Access::admin,
          Doc{"The server at a glance: today's mail, the queue, holds, bans, the certificate, log shipping, the "
              "security log and the last `mailkeep check`.",
              "dashboard", {}, "",
              R"({"type":"object","required":["mail_today","queue","accounts","held","bans","security_log",)"
              R"("certificate","log_shipping","check"],"properties":{)"
              R"("mail_today":{"type":"object","required":["received","junked","rejected","delivered","bounced",)"
              R"("deferred"],"properties":{"received":{"type":"integer"},"junked":{"type":"integer"},)"
              R"("rejected":{"type":"integer"},"delivered":{"type":"integer"},"bounced":{"type":"integer"},)"
              R"("deferred":{"type":"integer"}}},)"
              R"("queue":{"type":"object","required":["messages","recipients","held_recipients","oldest"],)"
              R"("properties":{"messages":{"type":"integer"},"recipients":{"type":"integer"},)"
              R"("held_recipients":{"type":"integer"},"oldest":{"type":"integer"}}},)"
              R"("accounts":{"type":"integer"},"held":{"type":"integer"},"bans":{"type":"integer"},)"
              R"("security_log":{"type":"object","required":["verified","records"],"properties":{)"
              R"("verified":{"type":"boolean"},"records":{"type":"integer"}}},)"
              R"("certificate":{"type":["object","null"],"properties":{"expires":{"type":"integer"},)"
              R"("days_left":{"type":"integer"},"self_signed":{"type":"boolean"}}},)"
              R"("log_shipping":{"type":"array","items":{"type":"object","required":["collector","connected",)"
              R"("behind"],"properties":{"collector":{"type":"string"},"connected":{"type":"boolean"},)"
              R"("behind":{"type":"integer"}}}},)"
              R"("check":{"type":["object","null"],"properties":{"ran":{"type":"integer"},"checks":{"type":"integer"},)"
              R"("failed":{"type":"array"}}}}})"},
          [&svc](Call& c) {
            const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now().time_since_epoch()).count();
            auto d = svc.dashboard.get(now_ms, [&]() -> Result<json::object> { return dashboard(svc, c.now); });
            if (!d) return error_from(d.error());
            return ok(std::move(*d));
          });

  // Domains.
  api.add("GET", "/api/v1/domains", Access::admin,
          Doc{"The hosted domains.", "domains", {}, "", R"({"type":"array","items":{"type":"string"}})"},
          [&svc](Call&) { return list_reply(svc.store.list_domains(), [](const std::string& d) { return json::value(d); }); });
  api.add("POST", "/api/v1/domains", Access::admin,
          Doc{"Host a domain: it gets DKIM keys, and its DNS records are listed at /api/v1/domains/{domain}/dns.",
              "domains", {}, R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"}}})",
              R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"}}})", 201},
          [&svc](Call& c) {
            auto name = string_field(c.body, "name");
            if (!name || name->size() > 253) return bad_field("name", "a domain name");
            if (auto r = admin::add_domain(svc.store, svc.store, *name); !r) return error_from(r.error());
            record_action(svc, c, "domain_added", {{"domain", to_lower(*name)}});
            return ok(json::object{{"name", to_lower(*name)}}, 201);
          });
  api.add("DELETE", "/api/v1/domains/{domain}", Access::admin,
          Doc{"Stop hosting a domain (it must have no accounts left).", "domains",
              {{"domain", "path", "string", "the domain"}}, "", schema::kEmpty, 204},
          [&svc](Call& c) {
            const std::string d = to_lower(c.params["domain"]);
            if (auto r = svc.store.remove_domain(d); !r) return error_from(r.error());
            record_action(svc, c, "domain_removed", {{"domain", d}});
            return no_content();
          });
  api.add("GET", "/api/v1/domains/{domain}/dns", Access::admin,
          Doc{"The DNS records to publish for a hosted domain (and the server's own), with notes on what is "
              "missing.",
              "domains",
              {{"domain", "path", "string", "the domain"}},
              "",
              R"({"type":"object","required":["records","notes"],"properties":{"records":{"type":"array","items":)"
              R"({"type":"object","required":["owner","type","ttl","value","why","zone"],"properties":{)"
              R"("owner":{"type":"string"},"type":{"type":"string"},"ttl":{"type":"integer"},)"
              R"("value":{"type":"string"},"why":{"type":"string"},"zone":{"type":"string"}}}},)"
              R"("notes":{"type":"array","items":{"type":"string"}}}})"},
          [&svc](Call& c) {
            const std::string d = to_lower(c.params["domain"]);
            auto hosted = svc.store.has_domain(d);
            if (!hosted) return error_from(hosted.error());
            if (!*hosted) return error(404, "not_found", "the domain is not hosted here");
            auto plan = svc.dns_plan(d);
            if (!plan) return error_from(plan.error());
            json::array records;
            for (const auto& r : plan->records)
              records.push_back(json::object{{"owner", r.owner}, {"type", r.type}, {"ttl", r.ttl},
                                             {"value", r.value}, {"why", r.why},   {"zone", r.zone}});
            json::array notes;
            for (const auto& n : plan->notes) notes.push_back(json::value(n));
            return ok(json::object{{"records", std::move(records)}, {"notes", std::move(notes)}});
          });

  api.add("GET", "/api/v1/domains/{domain}/dns/check", Access::admin,
          Doc{"Each record of /dns (PTR aside) as it is published now, asked afresh (no cached answer): one finding "
              "per record set (ok, fail with the problem and the fix, or unknown when DNS did not answer), DNSSEC "
              "validation first. Takes up to about 20 s when DNS servers do not answer; 429 while two run.",
              "domains",
              {{"domain", "path", "string", "the domain"}},
              "",
              R"({"type":"object","required":["findings"],"properties":{"findings":{"type":"array","items":)"
              R"({"type":"object","required":["check","subject","outcome","problem","fix"],"properties":{)"
              R"("check":{"type":"string"},"subject":{"type":"string"},)"
              R"("outcome":{"type":"string","enum":["ok","fail","unknown"]},)"
              R"("problem":{"type":"string"},"fix":{"type":"string"}}}}}})"},
          [&svc](Call& c) -> Reply {
            const std::string d = to_lower(c.params["domain"]);
            auto hosted = svc.store.has_domain(d);
            if (!hosted) return error_from(hosted.error());
            if (!*hosted) return error(404, "not_found", "the domain is not hosted here");
            if (!svc.check_dns) return error(503, "unavailable", "this server cannot check DNS");
            {
              std::lock_guard lock(svc.dns_checks.mu);
              if (svc.dns_checks.n >= Services::kDnsChecks)
                return error(429, "too_many", "other checks are running: try again when they are done");
              ++svc.dns_checks.n;
            }
            std::shared_ptr<void> slot(nullptr, [&svc](void*) {
              std::lock_guard lock(svc.dns_checks.mu);
              --svc.dns_checks.n;
            });
            Reply pending;
            pending.then = [&svc, d, slot] { return check_dns_reply(svc, d, slot); };
            return pending;
          });

  // Accounts.
  api.add("GET", "/api/v1/accounts", Access::admin,
          Doc{"The accounts, by address: a page of at most `limit` (a Link header names the next page).", "accounts",
              {{"q", "query", "string", "only addresses that contain this", false},
               {"after", "query", "string", "start after this address (the Link header's next page)", false},
               {"limit", "query", "integer", "at most this many (1 to 1000; default 1000)", false}},
              "", fmt::format(R"({{"type":"array","items":{}}})", kAccountItem)},
          [&svc](Call& c) {
            using A = store::Account;
            return page_reply(
                c, svc.store.list_accounts(), [](const A& a, const A& b) { return a.address < b.address; },
                [](const A& a) { return a.address; }, [](const A& a, const std::string& after) { return a.address <= after; },
                [](const A& a) { return a.address; }, account_item);
          });
  api.add("POST", "/api/v1/accounts", Access::admin,
          Doc{"Add an account in a hosted domain. The password must pass the password policy and the "
              "breached-password list.",
              "accounts", {},
              R"({"type":"object","required":["address","password"],"properties":{"address":{"type":"string"},)"
              R"("password":{"type":"string"}}})",
              kAccountItem, 201},
          [&svc](Call& c) {
            auto address = string_field(c.body, "address");
            auto password = string_field(c.body, "password");
            if (!address) return bad_field("address", "the new account's address");
            if (!password || password->size() > kMaxPassword) return bad_field("password", "its password");
            auto addr = admin::canonical_address(*address);
            if (!addr) return error_from(addr.error());
            auto pw = admin::hash_new_password(*password, svc.breached_index);
            if (!pw) return pw.error().code == 0 ? error(400, "weak_password", pw.error().message) : error_from(pw.error());
            if (auto r = admin::add_account(svc.store, svc.store, *addr, *pw); !r) return error_from(r.error());
            record_action(svc, c, "account_added", {{"user", *addr}});
            auto acct = named_account(svc, *addr);
            if (!acct) return error_from(acct.error());
            return ok(account_item(*acct), 201);
          });
  api.add("GET", "/api/v1/accounts/{address}", Access::admin,
          Doc{"One account.", "accounts", {{"address", "path", "string", "the account's address"}}, "", kAccountItem},
          [&svc](Call& c) {
            auto acct = named_account(svc, c.params["address"]);
            if (!acct) return error_from(acct.error());
            return ok(account_item(*acct));
          });
  api.add("DELETE", "/api/v1/accounts/{address}", Access::admin,
          Doc{"Remove an account with all its mail.", "accounts",
              {{"address", "path", "string", "the account's address"}}, "", schema::kEmpty, 204},
          [&svc](Call& c) {
            auto acct = named_account(svc, c.params["address"]);
            if (!acct) return error_from(acct.error());
            if (acct->id == c.who->account.id) return error(409, "conflict", "you cannot remove your own account here");
            if (auto r = svc.store.remove_account(acct->address); !r) return error_from(r.error());
            record_action(svc, c, "account_removed", {{"user", acct->address}});
            return no_content();
          });
  api.add("PUT", "/api/v1/accounts/{address}/quota", Access::admin,
          Doc{"Set an account's storage quota in bytes (0: unlimited).", "accounts",
              {{"address", "path", "string", "the account's address"}},
              R"({"type":"object","required":["bytes"],"properties":{"bytes":{"type":"integer","minimum":0}}})",
              kAccountItem},
          [&svc](Call& c) {
            auto bytes = int_field(c.body, "bytes");
            if (!bytes || *bytes < 0) return bad_field("bytes", "a number of bytes, 0 for unlimited");
            auto acct = named_account(svc, c.params["address"]);
            if (!acct) return error_from(acct.error());
            if (auto r = svc.store.set_quota(acct->address, std::uint64_t(*bytes)); !r) return error_from(r.error());
            record_action(svc, c, "quota_set", {{"user", acct->address}, {"bytes", std::to_string(*bytes)}});
            acct->quota_bytes = std::uint64_t(*bytes);
            return ok(account_item(*acct));
          });

  // From a logged-in session only, like the tokens: a leaked API token must not divert mail.
  api.add("PUT", "/api/v1/accounts/{address}/forward", Access::admin_session,
          Doc{"Forward an account's mail to an address elsewhere or to another account here (keep, default true: a "
              "copy stays). The account is mailed about it. Spam is never forwarded; forwarding pauses while the "
              "account is held. From a logged-in session only (not with an API token).",
              "accounts", {{"address", "path", "string", "the account's address"}},
              R"({"type":"object","required":["to"],"properties":{"to":{"type":"string"},"keep":{"type":"boolean"}}})",
              kAccountItem},
          [&svc](Call& c) {
            auto to = string_field(c.body, "to");
            if (!to || to->empty() || to->size() > 320) return bad_field("to", "the address to forward to");
            auto keep = c.body.contains("keep") ? bool_field(c.body, "keep") : std::optional<bool>(true);
            if (!keep) return bad_field("keep", "true or false");
            auto acct = named_account(svc, c.params["address"]);
            if (!acct) return error_from(acct.error());
            auto target = admin::set_forward(svc.store, *acct, *to, *keep);
            if (!target) return error_from(target.error());
            record_action(svc, c, "forward_set", {{"user", acct->address}, {"to", *target}, {"keep", *keep ? "yes" : "no"}});
            tell_forward(svc, acct->address, *target, *keep, "by the administrator");
            acct->forward_to = *target;
            acct->forward_keep = *keep;
            return ok(account_item(*acct));
          });
  api.add("DELETE", "/api/v1/accounts/{address}/forward", Access::admin_session,
          Doc{"Stop forwarding an account's mail.", "accounts", {{"address", "path", "string", "the account's address"}},
              "", schema::kEmpty, 204},
          [&svc](Call& c) {
            auto acct = named_account(svc, c.params["address"]);
            if (!acct) return error_from(acct.error());
            if (acct->forward_to.empty()) return no_content();
            if (auto r = admin::set_forward(svc.store, *acct, "", true); !r) return error_from(r.error());
            record_action(svc, c, "forward_removed", {{"user", acct->address}, {"was", acct->forward_to}});
            return no_content();
          });

  // Aliases.
  constexpr const char* kAlias =
      R"({"type":"object","required":["address","target"],"properties":{"address":{"type":"string"},)"
      R"("target":{"type":"string"}}})";
  api.add("GET", "/api/v1/aliases", Access::admin,
          Doc{"Every alias.", "aliases", {}, "", fmt::format(R"({{"type":"array","items":{}}})", kAlias)},
          [&svc](Call&) {
            return list_reply(svc.store.list_aliases(), [](const store::Alias& a) {
              return json::object{{"address", a.address}, {"target", a.target}};
            });
          });
  api.add("POST", "/api/v1/aliases", Access::admin_session,
          Doc{"Add an alias to an account here, or to an address elsewhere (it then forwards).", "aliases", {},
              kAlias,
              R"({"type":"object","required":["address","target","forwards"],"properties":{"address":)"
              R"({"type":"string"},"target":{"type":"string"},"forwards":{"type":"boolean"}}})",
              201},
          [&svc](Call& c) {
            auto address = string_field(c.body, "address");
            auto target = string_field(c.body, "target");
            if (!address) return bad_field("address", "the alias's address");
            if (!target) return bad_field("target", "where it delivers");
            auto forwards = admin::add_alias(svc.store, *address, *target);
            if (!forwards) return error_from(forwards.error());
            const std::string a = *admin::canonical_address(*address), t = *admin::canonical_address(*target);
            record_action(svc, c, "alias_added", {{"alias", a}, {"target", t}});
            return ok(json::object{{"address", a}, {"target", t}, {"forwards", *forwards}}, 201);
          });
  api.add("DELETE", "/api/v1/aliases/{address}", Access::admin_session,
          Doc{"Remove an alias.", "aliases", {{"address", "path", "string", "the alias"}}, "", schema::kEmpty, 204},
          [&svc](Call& c) {
            auto addr = admin::canonical_address(c.params["address"]);
            if (!addr) return error_from(addr.error());
            if (auto r = svc.store.remove_alias(*addr); !r) return error_from(r.error());
            record_action(svc, c, "alias_removed", {{"alias", *addr}});
            return no_content();
          });

  // The queue.
  api.add("GET", "/api/v1/queue", Access::admin,
          Doc{"The outbound queue, oldest first: a page of at most `limit` (a Link header names the next page).",
              "queue",
              {{"q", "query", "string", "only messages whose sender or a recipient contains this", false},
               {"after", "query", "integer", "start after this message id (the Link header's next page)", false},
               {"limit", "query", "integer", "at most this many (1 to 1000; default 1000)", false}},
              "", fmt::format(R"({{"type":"array","items":{}}})", kQueuedItem)},
          [&svc](Call& c) {
            using M = store::QueuedMessage;
            return page_reply(
                c, svc.store.list_queue(), [](const M& a, const M& b) { return a.id < b.id; },
                [](const M& m) { return std::to_string(m.id); },
                [](const M& m, const std::string& after) {
                  auto id = id_param(after);
                  return !id || m.id <= *id;
                },
                [](const M& m) {
                  std::string t = m.mail_from;
                  for (const auto& r : m.rcpts) t += " " + r.rcpt;
                  return t;
                },
                queued_item);
          });
  // (Named members, not structured bindings: clang 14 cannot capture those in the lambdas.)
  struct QueueVerb {
    const char* verb;
    store::QueueAction action;
    const char* what;
  };
  api.add("GET", "/api/v1/queue/{id}", Access::admin,
          Doc{"One queued (or held) message: its recipients, its header fields and its text, to judge a hold. "
              "The text is the first plain-text part, decoded, at most 64 KiB; nothing of it is rendered as HTML.",
              "queue", {{"id", "path", "integer", "the queued message's id"}}, "",
              R"({"type":"object","required":["message","header","text"],"properties":{"message":)" +
                  std::string(kQueuedItem) +
                  R"(,"header":{"type":"array","items":{"type":"object","required":["name","value"],"properties":{)"
                  R"("name":{"type":"string"},"value":{"type":"string"}}}},"text":{"type":"string"}}})"},
          [&svc](Call& c) {
            auto id = id_param(c.params["id"]);
            if (!id) return error(404, "not_found", "no such queued message");
            auto m = svc.store.queued_message(*id);
            if (!m) return error_from(m.error());
            if (!*m) return error(404, "not_found", "no such queued message");
            auto data = svc.store.read_queued(**m);
            if (!data) return error_from(data.error());
            const message::Parsed msg(std::move(*data));
            json::array header;
            for (const auto& f : msg.header()) {
              if (header.size() >= kMaxShownFields) break;
              std::string raw(trim(f.value));
              for (auto at = raw.find("\r\n"); at != std::string::npos; at = raw.find("\r\n", at)) raw.erase(at, 2);
              std::string value = cut_utf8(message::decode_words(raw), kMaxShownField);
              if (!message::valid_utf8(value)) value = "[not UTF-8]";
              header.push_back(json::object{{"name", log_safe(f.name, 100)}, {"value", value}});
            }
            record_action(svc, c, "queued_message_read", {{"message", std::to_string(*id)}});
            return ok(json::object{{"message", queued_item(**m)},
                                   {"header", std::move(header)},
                                   {"text", readable_text(msg, kMaxShownText)}});
          });
  for (const QueueVerb& qv : {QueueVerb{"retry", store::QueueAction::retry, "Try a queued message again now."},
                              QueueVerb{"hold", store::QueueAction::hold, "Hold a queued message."},
                              QueueVerb{"release", store::QueueAction::release, "Release a held message."},
                              QueueVerb{"drop", store::QueueAction::drop, "Drop a queued message without a bounce."}}) {
    api.add("POST", fmt::format("/api/v1/queue/{{id}}/{}", qv.verb), Access::admin,
            Doc{qv.what, "queue", {{"id", "path", "integer", "the queued message's id"}}, "",
                R"({"type":"object","required":["recipients"],"properties":{"recipients":{"type":"integer"}}})"},
            [&svc, verb = std::string(qv.verb), action = qv.action](Call& c) {
              auto id = id_param(c.params["id"]);
              if (!id) return error(404, "not_found", "no such queued message");
              auto r = svc.store.queue_action(*id, action);
              if (!r) return error_from(r.error());
              record_action(svc, c, "queue_" + verb, {{"message", std::to_string(*id)}});
              return ok(json::object{{"recipients", *r}});
            });
  }

  api.add("POST", "/api/v1/queue/{id}/bounce", Access::admin,
          Doc{"Return a queued message to its sender: a bounce (RFC 3464 DSN, status 5.0.0, with the reason) for "
              "every recipient not yet delivered, then the message leaves the queue. A sender of <> gets none.",
              "queue", {{"id", "path", "integer", "the queued message's id"}},
              R"({"type":"object","properties":{"reason":{"type":"string","description":"for the sender to read"}}})",
              R"({"type":"object","required":["recipients"],"properties":{"recipients":{"type":"integer"}}})"},
          [&svc](Call& c) {
            auto id = id_param(c.params["id"]);
            if (!id) return error(404, "not_found", "no such queued message");
            if (!svc.return_to_sender) return error(503, "unavailable", "this instance sends no mail out (dev)");
            // The bounce makes it one line of at most 500 bytes (outbound::Notifier).
            const std::string reason = string_field(c.body, "reason").value_or("");
            if (!message::valid_utf8(reason)) return bad_field("reason", "UTF-8 text");
            auto r = svc.return_to_sender(*id, reason);
            if (!r) return error_from(r.error());
            record_action(svc, c, "queue_bounce", {{"message", std::to_string(*id)}});
            return ok(json::object{{"recipients", *r}});
          });

  // Containment holds.
  constexpr const char* kHold =
      R"({"type":"object","required":["address","account_id","reason","held_messages","forward_to"],"properties":{)"
      R"("address":{"type":"string"},"account_id":{"type":"integer"},"reason":{"type":"string"},)"
      R"("held_messages":{"type":"integer"},"forward_to":{"type":"string"}}})";
  api.add("GET", "/api/v1/holds", Access::admin,
          Doc{"Accounts whose outbound mail containment holds, why, and how many messages wait.", "holds", {}, "",
              fmt::format(R"({{"type":"array","items":{}}})", kHold)},
          [&svc](Call&) {
            auto l = svc.store.list_accounts();
            if (!l) return error_from(l.error());
            auto q = svc.store.list_queue();
            if (!q) return error_from(q.error());
            json::array out;
            for (const auto& a : *l) {
              if (a.outbound_hold.empty()) continue;
              std::int64_t held = 0;
              for (const auto& m : *q) {
                if (m.sender_account != a.id) continue;
                bool any = false;
                for (const auto& r : m.rcpts) any |= r.state == store::RcptState::held;
                held += any;
              }
              out.push_back(json::object{
                  {"address", a.address}, {"account_id", a.id}, {"reason", a.outbound_hold}, {"held_messages", held},
                  {"forward_to", a.forward_to}});
            }
            return ok(std::move(out));
          });
  for (const auto& verb_drop : {std::pair{"release", false}, std::pair{"delete", true}}) {
    const char* verb = verb_drop.first;
    const bool drop = verb_drop.second;
    api.add("POST", fmt::format("/api/v1/holds/{{address}}/{}", verb), Access::admin,
            Doc{drop ? "End a hold and delete the held messages." : "End a hold and send the held messages.", "holds",
                {{"address", "path", "string", "the held account"}}, "",
                R"({"type":"object","required":["messages","was"],"properties":{"messages":{"type":"integer"},)"
                R"("was":{"type":"string"}}})"},
            [&svc, drop](Call& c) {
              auto acct = named_account(svc, c.params["address"]);
              if (!acct) return error_from(acct.error());
              if (acct->outbound_hold.empty()) return error(409, "not_held", "the account is not held");
              auto n = admin::end_hold(svc.store, svc.store, *acct, drop);
              if (!n) return error_from(n.error());
              record_action(svc, c, drop ? "outbound_dropped" : "outbound_released",
                            {{"user", acct->address}, {"messages", std::to_string(*n)}, {"was", acct->outbound_hold}});
              return ok(json::object{{"messages", *n}, {"was", acct->outbound_hold}});
            });
  }

  // Bans.
  api.add("GET", "/api/v1/bans", Access::admin,
          Doc{"Networks banned from logging in, now.", "security", {}, "",
              R"({"type":"array","items":{"type":"object","required":["network","until","count","reason"],)"
              R"("properties":{"network":{"type":"string"},"until":{"type":"integer"},"count":{"type":"integer"},)"
              R"("reason":{"type":"string"}}}})"},
          [&svc](Call& c) {
            auto bans = svc.store.list_bans();
            if (!bans) return error_from(bans.error());
            json::array out;
            for (const auto& b : *bans)
              if (b.until > c.now)
                out.push_back(json::object{{"network", b.key}, {"until", b.until}, {"count", b.count}, {"reason", b.reason}});
            return ok(std::move(out));
          });
  api.add("DELETE", "/api/v1/bans/{network}", Access::admin,
          Doc{"Lift a ban (an address is lifted as the network it was banned under).", "security",
              {{"network", "path", "string", "the network (\"192.0.2.7\", \"2001:db8:1:2::/64\")"}}, "",
              schema::kEmpty, 204},
          [&svc](Call& c) {
            std::string key = c.params["network"];
            if (auto ip = IpAddr::parse(key)) key = auth::Throttle::network_key(*ip);
            auto r = svc.store.lift_ban(key);
            if (!r) return error_from(r.error());
            if (!*r) return error(404, "not_found", "that network is not banned");
            record_action(svc, c, "ban_lifted", {{"network", key}});
            return no_content();
          });

  // The security log.
  api.add("GET", "/api/v1/security/log", Access::admin,
          Doc{"The security log's newest records and whether its hash chain verifies.",
              "security",
              {{"limit", "query", "integer", "how many of the newest records (at most 500; default 100)", false}},
              "",
              R"({"type":"object","required":["verified","records","problem","recent"],"properties":{)"
              R"("verified":{"type":"boolean"},"records":{"type":"integer"},"problem":{"type":"string"},)"
              R"("recent":{"type":"array","items":{"type":"string"}}}})"},
          [&svc](Call& c) {
            std::int64_t limit = 100;
            if (auto l = c.req.param("limit")) {
              auto v = id_param(*l);
              if (!v) return bad_field("limit", "a positive number");
              limit = std::min(*v, kMaxLogRecords);
            }
            const auto report = svc.log_check.verify(svc.security_log, c.now);
            auto tail = audit::read_tail(svc.security_log, std::size_t(limit));
            if (!tail) return internal(svc, tail.error());
            json::array recent;
            for (auto& line : *tail) recent.push_back(json::value(line));
            return ok(json::object{{"verified", report.ok},
                                           {"records", report.records},
                                           {"problem", report.problem},
                                           {"recent", std::move(recent)}});
          });

  // API tokens.
  constexpr const char* kTokens =
      R"({"type":"array","items":{"type":"object","required":["name","scopes","created","last_used","last_ip"],)"
      R"("properties":{"name":{"type":"string"},"scopes":{"type":"string"},"created":{"type":"integer"},)"
      R"("last_used":{"type":"integer"},"last_ip":{"type":"string"}}}})";
  api.add("GET", "/api/v1/tokens", Access::admin_session, Doc{"Your API tokens.", "tokens", {}, "", kTokens}, [&svc](Call& c) {
    auto l = svc.store.api_tokens(c.who->account.id);
    if (!l) return error_from(l.error());
    json::array out;
    for (const auto& t : *l)
      if (t.scopes != kShareScope)  // the admin's own share tokens are on /api/v1/me/share-tokens
        out.push_back(json::object{{"name", t.name}, {"scopes", t.scopes}, {"created", t.created},
                                   {"last_used", t.last_used}, {"last_ip", t.last_ip}});
    return ok(std::move(out));
  });
  api.mark_slow("POST", "/api/v1/tokens");
  api.add("POST", "/api/v1/tokens", Access::admin_session,
          Doc{"A new API token acting as you (read-only unless write is true); your password is asked again and you "
              "are mailed about it. The token is in this answer only.",
              "tokens", {},
              R"({"type":"object","required":["name","password"],"properties":{"name":{"type":"string"},)"
              R"("write":{"type":"boolean"},"password":{"type":"string","description":"your password, asked again"}}})",
              R"({"type":"object","required":["name","token"],"properties":{"name":{"type":"string"},)"
              R"("token":{"type":"string"}}})",
              201},
          [&svc, &api](Call& c) {
            auto name = string_field(c.body, "name");
            if (!name || !valid_credential_name(*name)) return bad_field("name", "1 to 64 characters, no \"/\"");
            const bool write = bool_field(c.body, "write").value_or(false);
            auto existing = svc.store.api_tokens(c.who->account.id);
            if (!existing) return error_from(existing.error());
            if (std::count_if(existing->begin(), existing->end(), [](const auto& t) { return t.scopes != kShareScope; }) >=
                static_cast<std::ptrdiff_t>(admin::kMaxApiTokens))
              return error(409, "too_many", fmt::format("at most {} API tokens: revoke one first", admin::kMaxApiTokens));
            // A credential that outlives the session: a stolen session alone cannot make one.
            if (auto refused = recheck_password(api, c, string_field(c.body, "password"))) return *refused;
            auto t = api.sessions().new_token(*c.who, *name, write, c.now);
            if (!t) return error_from(t.error());
            record_action(svc, c, "api_token_added", {{"name", *name}, {"write", write ? "yes" : "no"}});
            if (svc.tell_user)
              svc.tell_user(c.who->account.address, "A new API token: " + *name,
                            fmt::format("An API token named \"{}\" ({}) was made for {} from {}. It acts as this admin "
                                        "on the admin API until it is revoked (DELETE /api/v1/tokens/{{name}}).\n\n"
                                        "If you did not make it, revoke it and change your password.\n",
                                        *name, write ? "read and write" : "read-only", c.who->account.address,
                                        c.req.remote_ip));
            return ok(json::object{{"name", *name}, {"token", *t}}, 201);
          });
  api.add("DELETE", "/api/v1/tokens/{name}", Access::admin_session,
          Doc{"Revoke one of your API tokens.", "tokens", {{"name", "path", "string", "the token's name"}}, "",
              schema::kEmpty, 204},
          [&svc](Call& c) {
            auto l = svc.store.api_tokens(c.who->account.id);
            if (!l) return error_from(l.error());
            if (std::none_of(l->begin(), l->end(),
                             [&](const auto& t) { return t.name == c.params["name"] && t.scopes != kShareScope; }))
              return error(404, "not_found", "you have no API token of that name");
            auto r = svc.store.revoke_api_token(c.who->account.id, c.params["name"]);
            if (!r) return error_from(r.error());
            record_action(svc, c, "api_token_revoked", {{"name", c.params["name"]}});
            return no_content();
          });
}

}  // namespace mk::web
