// web/routes.hpp: the API's routes (web/api.hpp), by who calls them: the session (log in and
// out), a user's own account (/api/v1/me/...), and the admin's (domains, accounts, aliases,
// queue, holds, bans, the security log, API tokens).
// SECURITY: user routes take no account from the request: they act on the caller's. Every
// change an admin or user makes through the API is written to the security log with who made
// it, from where and how (session or token).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "audit/log.hpp"
#include "auth/login.hpp"
#include "base/result.hpp"
#include "setup/records.hpp"
#include "share/request.hpp"
#include "store/store.hpp"
#include "web/api.hpp"

namespace mk::web {

// The security log's verification for the pages: the whole chain is read again when the log
// grew and the last check is older than kEvery, when it shrank, and every kAlways (an edit
// that kept the size), so page views cost no full scans.
class LogCheck {
 public:
  static constexpr std::int64_t kEvery = 30;     // seconds
  static constexpr std::int64_t kAlways = 300;
  audit::VerifyReport verify(const std::string& path, std::int64_t now);

 private:
  std::mutex mu_;
  std::int64_t checked_ = 0;
  std::int64_t size_ = -1;
  audit::VerifyReport last_;
};

// The dashboard's answer, kept for kFor: it sums the whole store (accounts, queue, the day's
// counters), and a page that several admins keep open, or a monitor polling it, needs it
// once a second at most, not once a request.
class DashboardCache {
 public:
  static constexpr std::int64_t kForMs = 1000;
  template <class F>
  Result<boost::json::object> get(std::int64_t now_ms, F make) {
    std::lock_guard lock(mu_);
    if (made_ms_ != 0 && now_ms - made_ms_ < kForMs && now_ms >= made_ms_) return last_;
    auto fresh = make();
    if (!fresh) return fresh.error();
    last_ = std::move(*fresh);
    made_ms_ = now_ms;
    return last_;
  }

 private:
  std::mutex mu_;
  std::int64_t made_ms_ = 0;
  boost::json::object last_;
};

struct Services {
  store::Store& store;
  const auth::LoginPolicy& policy;  // its audit log records every change
  std::string breached_index;       // the breached-password list (admin::hash_new_password)
  std::string security_log;         // the security log's path
  std::string hostname;             // names the server in authenticator apps (TOTP issuer)
  // The DNS records a hosted domain needs, with notes on what is missing (app/dns_records.cpp).
  struct DnsPlan {
    std::vector<setup::Record> records;
    std::vector<std::string> notes;
  };
  std::function<Result<DnsPlan>(const std::string& domain)> dns_plan;
  // What the dashboard shows of the running server beyond the store: "certificate" {expires,
  // self_signed} and "log_shipping" [{collector, connected, behind}] (app/ gathers them).
  std::function<boost::json::object()> server_status;
  std::string last_check;  // the file `mailkeep check` leaves its last result in
  // Mails the admin (reports::Alerts::tell_admin): a user asks for a hold to be released.
  std::function<void(const std::string& subject, const std::string& body)> tell_admin;
  // Mails an account (reports::Alerts::tell_user): its forwarding was set.
  std::function<void(const std::string& address, const std::string& subject, const std::string& body)> tell_user{};
  // The reports (app/web_reports.cpp); unset: 503.
  struct ReportMakers {
    std::function<Result<boost::json::value>(int days, std::int64_t now)> spam, dmarc;
    std::function<Result<boost::json::value>(const std::string& month)> security;
  } reports{};
  // Returns a queued message to its sender with a bounce (outbound::Runner::return_to_sender);
  // unset (an instance that sends nothing out, dev): 503.
  std::function<Result<std::size_t>(std::int64_t id, const std::string& reason)> return_to_sender{};
  // The domains page's live check of a domain's records (app::live_dns_check); unset: none.
  // At most kDnsChecks run at once (each asks DNS for up to 20 s).
  std::function<boost::asio::awaitable<Result<boost::json::array>>(std::string domain)> check_dns{};
  static constexpr int kDnsChecks = 2;
  struct Running {
    std::mutex mu;
    int n = 0;
  } dns_checks{};
  // Shares a link into the account's mailbox (share::Sharer::share); unset: not offered.
  std::function<boost::asio::awaitable<Result<share::Outcome>>(store::Account, share::Request)> share{};
  share::Limit* share_limit = nullptr;  // shared with sharing by mail (app/runtime.cpp)
  LogCheck log_check{};
  DashboardCache dashboard{};
  // When each held account last asked for its release: one request an hour reaches the admin.
  struct ReleaseAsks {
    std::mutex mu;
    std::map<std::int64_t, std::int64_t> last;  // account id -> unix time
  } release_asks{};
};

void add_session_routes(Api& api, Services& svc);
void add_self_routes(Api& api, Services& svc);
void add_admin_routes(Api& api, Services& svc);
void add_share_routes(Api& api, Services& svc);
void add_report_routes(Api& api, Services& svc);

// The last `mailkeep check` (svc.last_check): when it ran, how many checks, and the findings
// that did not pass (all of them with every_finding); null when there is none.
boost::json::value last_check(const std::string& path, bool every_finding = false);

// Writes an action to the security log: event "web_action", with the action, its target, the
// caller, their address and whether a session or a token did it.
void record_action(const Services& svc, const Call& call, std::string_view action, audit::Fields fields);

// Mails an account that its mail is now forwarded to `target` (`how`: by whom, from where),
// and the account here that receives it, if one does.
void tell_forward(const Services& svc, const std::string& account, const std::string& target, bool keep,
                  const std::string& how);

// The caller's own password, asked again before a change a stolen session alone must not
// make (a credential that outlives the session, where the mail goes, the second factor): the
// login throttle's bans and delays apply. nullopt when it is right, else the reply to send.
std::optional<Reply> recheck_password(Api& api, const Call& c, const std::optional<std::string>& password);

// The name of an app password or token: 1 to 64 bytes, no control characters and no "/"
// (it is revoked by a URL path segment, so "." and ".." are refused too).
bool valid_credential_name(std::string_view name);

// 500 for a failure of the server's own (a file it cannot read): logged, not shown.
Reply internal(const Services& svc, const Error& e);

// Bounds on what callers name things with and on a password's length (argon2id hashes any
// length; this keeps a request's cost bounded).
inline constexpr std::size_t kMaxName = 64;
inline constexpr std::size_t kMaxPassword = 1024;

// A positive decimal id from a path; nullopt for anything else.
std::optional<std::int64_t> id_param(std::string_view s);

// Common JSON Schemas (JSON text) for the routes' documents.
namespace schema {
inline constexpr const char* kEmpty = R"({"type":"object"})";
}

}  // namespace mk::web
