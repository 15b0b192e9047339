// acme/client.cpp: one issuance, step by step (RFC 8555 §7): directory, nonce, account,
// order, authorizations and their challenges, finalize, download. See client.hpp.
#include "acme/client.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "acme/x509.hpp"
#include "base/strings.hpp"

namespace mk::acme {
namespace asio = boost::asio;
using Kind = Failure::Kind;

std::string_view challenge_name(ChallengeType t) {
  return t == ChallengeType::http01 ? "http-01" : "tls-alpn-01";
}

std::string_view kind_name(Failure::Kind k) {
  switch (k) {
    case Kind::transport: return "transport";
    case Kind::rate_limited: return "rate_limited";
    case Kind::ca_error: return "ca_error";
    case Kind::challenge_failed: return "challenge_failed";
    case Kind::bad_response: return "bad_response";
    case Kind::timeout: return "timeout";
    case Kind::config: return "config";
  }
  return "unknown";
}

Client::Client(Transport& transport, std::string directory_url, std::string account_key_pem,
               std::vector<std::string> contact, log::Logger logger, Settings settings)
    : transport_(transport),
      directory_url_(std::move(directory_url)),
      key_(AccountKey::from_pem(account_key_pem)),
      contact_(std::move(contact)),
      log_(std::move(logger)),
      settings_(settings) {}

namespace {

// A step's outcome: its value, or why the issuance stops.
template <class T>
class [[nodiscard]] Step {
 public:
  Step(T value) : v_(std::move(value)) {}       // NOLINT: implicit by design
  Step(Failure failure) : v_(std::move(failure)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& operator*() { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  Failure& failure() { return std::get<1>(v_); }

 private:
  std::variant<T, Failure> v_;
};
struct Done {};

Failure failure(Kind kind, std::string message, std::optional<std::chrono::seconds> retry_after = {},
                std::string problem = {}) {
  return Failure{kind, std::move(message), retry_after, std::move(problem)};
}

// RFC 8555 §6.5.1: a nonce is base64url; anything else is not one we can send back.
constexpr std::size_t kMaxNonce = 256;
bool usable_nonce(const std::string& n) { return !n.empty() && n.size() <= kMaxNonce && is_base64url(n); }

// The challenge answers handed to the Responder, taken back when the flow ends however it
// ends (RFC 8555 §8: provisioning may stop once the authorization is settled).
class Answers {
 public:
  explicit Answers(Responder& r) : r_(r) {}
  Answers(const Answers&) = delete;
  Answers& operator=(const Answers&) = delete;
  ~Answers() {
    for (const auto& [type, key] : given_) remove(type, key);
  }
  void put(ChallengeType type, const std::string& key, const std::string& key_authorization) {
    if (type == ChallengeType::http01)
      r_.put_http01(key, key_authorization);
    else
      r_.put_tls_alpn01(key, key_authorization);
    given_.emplace_back(type, key);
  }
  void take_back(ChallengeType type, const std::string& key) {
    auto it = std::find(given_.begin(), given_.end(), std::pair{type, key});
    if (it == given_.end()) return;
    given_.erase(it);
    remove(type, key);
  }

 private:
  void remove(ChallengeType type, const std::string& key) {
    if (type == ChallengeType::http01)
      r_.remove_http01(key);
    else
      r_.remove_tls_alpn01(key);
  }
  Responder& r_;
  std::vector<std::pair<ChallengeType, std::string>> given_;
};

// The budget of one wait (§7.5.1 polling): time and count.
class PollBudget {
 public:
  explicit PollBudget(const Settings& s)
      : s_(s), deadline_(std::chrono::steady_clock::now() + s.poll_timeout), left_(s.max_polls) {}
  // How long to wait before polling again, or nullopt when the budget is spent.
  std::optional<Duration> next(std::optional<std::chrono::seconds> retry_after) {
    if (--left_ <= 0) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) return std::nullopt;
    const Duration remaining = std::chrono::duration_cast<Duration>(deadline_ - now);
    const Duration want = retry_after ? Duration(*retry_after) : s_.poll_interval;
    return std::min(want, remaining);
  }

 private:
  const Settings& s_;
  std::chrono::steady_clock::time_point deadline_;
  int left_;
};

// "300ms", "2m", "90s": a poll budget in a Failure message.
std::string describe(Duration d) {
  const auto ms = d.count();
  if (ms % 60000 == 0) return fmt::format("{}m", ms / 60000);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

// The state of one issue() call; its steps return Step<T> and stop at the first Failure.
class IssueFlow {
 public:
  IssueFlow(Client& c, Responder& responder, ChallengeType type, std::vector<std::string> names,
            std::string cert_key_pem)
      : c_(c),
        answers_(responder),
        type_(type),
        names_(std::move(names)),
        cert_key_(std::move(cert_key_pem)),
        log_(c.log_) {}

  asio::awaitable<IssueResult> run() {
    if (auto bad = check_input()) co_return std::move(*bad);
    if (auto d = co_await load_directory(); !d.ok()) co_return d.failure();
    if (auto a = co_await ensure_account(); !a.ok()) co_return a.failure();
    auto order = co_await new_order();
    if (!order.ok()) co_return order.failure();
    for (const std::string& authz : order->authorizations) {
      if (auto s = co_await authorize(authz); !s.ok()) co_return s.failure();
    }
    auto ready = co_await wait_order(Until::ready);
    if (!ready.ok()) co_return ready.failure();
    auto issued = co_await finalize_and_download(*ready);
    if (!issued.ok()) co_return issued.failure();
    co_return std::move(*issued);
  }

 private:
  std::optional<Failure> check_input() const {
    if (!c_.key_) return failure(Kind::config, c_.key_.error().message);
    if (names_.empty() || names_.size() > kMaxNames)
      return failure(Kind::config, fmt::format("a certificate needs 1 to {} names", kMaxNames));
    for (const auto& n : names_)
      if (!is_valid_dns_name(n)) return failure(Kind::config, fmt::format("not a DNS name: {}", log_safe(n)));
    if (auto csr = make_csr_der(names_, cert_key_); !csr) return failure(Kind::config, csr.error().message);
    return std::nullopt;
  }

  asio::awaitable<void> sleep(Duration d) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<Step<Done>> load_directory() {
    if (c_.directory_) co_return Done{};
    auto reply = co_await c_.transport_.get(c_.directory_url_);
    if (!reply) co_return failure(Kind::transport, "directory: " + reply.error().message);
    if (reply->status != 200) co_return from_reply(*reply, "directory");
    auto dir = parse_directory(reply->body);
    if (!dir) co_return failure(Kind::bad_response, dir.error().message);
    // RFC 8555 §7.3.4: external account binding is not supported (Let's Encrypt needs none).
    if (dir->external_account_required)
      co_return failure(Kind::config, "the CA requires external account binding, which mailkeep does not support");
    c_.log_.debug("acme.directory", {{"url", c_.directory_url_}, {"terms", dir->terms_of_service}});
    c_.directory_ = std::move(*dir);
    co_return Done{};
  }

  // Every URL the CA hands out must be on the directory's own origin (scheme, host, port):
  // a CA, or whoever poses as it, cannot make mailkeep send requests anywhere else, such
  // as to a service on the server's loopback.
  bool same_origin(const std::string& url) const {
    auto dir = parse_url(c_.directory_url_);
    auto u = parse_url(url);
    return dir && u && dir->https == u->https && dir->host == u->host && dir->port == u->port;
  }
  Failure foreign(const std::string& url, std::string_view what) const {
    return failure(Kind::bad_response,
                   fmt::format("{}: the CA sent a URL outside its directory's origin: {}", what, log_safe(url, 200)));
  }

  // RFC 8555 §7.2: a nonce from the last reply, else a fresh one from newNonce.
  asio::awaitable<Step<std::string>> take_nonce() {
    if (usable_nonce(c_.nonce_)) co_return std::exchange(c_.nonce_, {});
    if (!same_origin(c_.directory_->new_nonce)) co_return foreign(c_.directory_->new_nonce, "newNonce");
    auto reply = co_await c_.transport_.head(c_.directory_->new_nonce);
    if (!reply) co_return failure(Kind::transport, "newNonce: " + reply.error().message);
    if (reply->status != 200 && reply->status != 204) co_return from_reply(*reply, "newNonce");
    if (!usable_nonce(reply->replay_nonce)) co_return failure(Kind::bad_response, "newNonce: no usable Replay-Nonce");
    co_return std::move(reply->replay_nonce);
  }

  // A signed POST (§6.2), POST-as-GET when payload is nullopt (§6.3). A badNonce problem is
  // retried with the nonce it brought (§6.5); any other 4xx/5xx becomes the Failure.
  asio::awaitable<Step<HttpReply>> post(const std::string& url, std::optional<std::string> payload,
                                        std::string_view what) {
    if (!same_origin(url)) co_return foreign(url, what);
    for (int attempt = 0;; ++attempt) {
      auto nonce = co_await take_nonce();
      if (!nonce.ok()) co_return nonce.failure();
      auto jws = sign_jws(*c_.key_, JwsHeader{url, *nonce, c_.account_url_}, payload);
      if (!jws) co_return failure(Kind::config, jws.error().message);
      auto reply = co_await c_.transport_.post(url, *jws);
      if (!reply) co_return failure(Kind::transport, fmt::format("{}: {}", what, reply.error().message));
      if (usable_nonce(reply->replay_nonce)) c_.nonce_ = reply->replay_nonce;
      if (reply->status >= 200 && reply->status < 300) co_return std::move(*reply);
      Failure f = from_reply(*reply, what);
      if (f.problem == "badNonce" && attempt < c_.settings_.max_bad_nonce_retries) {
        c_.log_.debug("acme.bad_nonce", {{"url", url}, {"attempt", attempt + 1}});
        continue;
      }
      // §7.3.1: the account we knew is gone; the next issue() registers again.
      if (f.problem == "accountDoesNotExist") c_.account_url_.clear();
      co_return f;
    }
  }

  // A reply that is not what the step wanted: the CA's problem document, or the status.
  Failure from_reply(const HttpReply& reply, std::string_view what) {
    if (!reply.body.empty()) {
      if (auto p = parse_problem(reply.body)) {
        const std::string name(p->acme_error());
        const Kind kind = name == "rateLimited" ? Kind::rate_limited : Kind::ca_error;
        std::string message = fmt::format("{}: HTTP {} {}: {}", what, reply.status, p->type, p->describe());
        // §7.3.3: new terms of service to agree to; a person must read them first.
        if (name == "userActionRequired" && !p->instance.empty()) message += " (see " + p->instance + ")";
        return failure(kind, log_safe(message, 2000), reply.retry_after, name);
      }
    }
    if (reply.status >= 500)
      return failure(Kind::ca_error, fmt::format("{}: HTTP {}", what, reply.status), reply.retry_after);
    return failure(Kind::bad_response,
                   fmt::format("{}: unexpected HTTP {} without a problem document", what, reply.status),
                   reply.retry_after);
  }

  // RFC 8555 §7.3: newAccount with termsOfServiceAgreed finds the account of this key or
  // creates it; either way the Location is the account URL (the "kid" from now on).
  asio::awaitable<Step<Done>> ensure_account() {
    if (!c_.account_url_.empty()) co_return Done{};
    auto reply = co_await post(c_.directory_->new_account, new_account_payload(c_.contact_), "newAccount");
    if (!reply.ok()) co_return reply.failure();
    if (reply->location.empty()) co_return failure(Kind::bad_response, "newAccount: no Location");
    if (!reply->body.empty()) {
      auto account = parse_account(reply->body);
      if (!account) co_return failure(Kind::bad_response, "newAccount: " + account.error().message);
      if (account->status != Status::valid)
        co_return failure(Kind::ca_error, fmt::format("the ACME account is {}", to_string(account->status)));
    }
    c_.account_url_ = reply->location;
    c_.log_.info("acme.account", {{"account", c_.account_url_}, {"created", reply->status == 201}});
    co_return Done{};
  }

  // RFC 8555 §7.4: the order, which must be for exactly the names asked.
  asio::awaitable<Step<Order>> new_order() {
    auto reply = co_await post(c_.directory_->new_order, new_order_payload(names_), "newOrder");
    if (!reply.ok()) co_return reply.failure();
    if (reply->location.empty()) co_return failure(Kind::bad_response, "newOrder: no Location");
    auto order = parse_order(reply->body);
    if (!order) co_return failure(Kind::bad_response, "newOrder: " + order.error().message);
    std::vector<std::string> want, got;
    for (const auto& n : names_) want.push_back(to_lower(n));
    for (const auto& id : order->identifiers)
      if (id.type == "dns") got.push_back(to_lower(id.value));
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    std::sort(got.begin(), got.end());
    if (want != got || got.size() != order->identifiers.size())
      co_return failure(Kind::bad_response, "newOrder: the order is not for the names asked");
    order_url_ = reply->location;
    log_ = c_.log_.with({{"order", order_url_}});
    log_.info("acme.order", {{"names", join(names_)}, {"status", to_string(order->status)}});
    if (order->status == Status::invalid) co_return order_failure(*order, Kind::challenge_failed);
    co_return std::move(*order);
  }

  Failure order_failure(const Order& order, Kind kind) {
    std::string why = order.error ? order.error->describe() : std::string("no reason given");
    return failure(kind, log_safe(fmt::format("the order is {}: {}", to_string(order.status), why), 2000), {},
                   order.error ? std::string(order.error->acme_error()) : std::string());
  }

  // RFC 8555 §7.5: one authorization. Already valid (reused): nothing to do. Pending: answer
  // our type of challenge, tell the CA (§7.5.1, payload "{}"), poll until settled.
  asio::awaitable<Step<Done>> authorize(const std::string& url) {
    auto reply = co_await post(url, std::nullopt, "authorization");
    if (!reply.ok()) co_return reply.failure();
    auto authz = parse_authorization(reply->body);
    if (!authz) co_return failure(Kind::bad_response, authz.error().message);
    const std::string name = authz->identifier.value;
    if (authz->identifier.type != "dns" ||
        std::none_of(names_.begin(), names_.end(), [&](const std::string& n) { return iequals(n, name); }))
      co_return failure(Kind::bad_response, "an authorization is for a name not ordered: " + log_safe(name));
    if (authz->status == Status::valid) {
      log_.debug("acme.authorization_valid", {{"name", name}, {"reused", true}});
      co_return Done{};
    }
    if (authz->status != Status::pending) co_return authz_failure(*authz);
    const Challenge* ch = find_challenge(*authz);
    if (!ch) {
      std::vector<std::string> offered;
      for (const auto& c : authz->challenges) offered.push_back(c.type);
      co_return failure(Kind::challenge_failed, fmt::format("{}: the CA offers no {} challenge (offers: {})", name,
                                                            challenge_name(type_), log_safe(join(offered))));
    }
    const std::string key_auth = key_authorization(ch->token, *c_.key_);
    const std::string answer_key = type_ == ChallengeType::http01 ? ch->token : to_lower(name);
    answers_.put(type_, answer_key, key_auth);
    log_.info("acme.challenge", {{"name", name}, {"type", challenge_name(type_)}, {"authorization", url}});
    if (ch->status == Status::pending) {
      auto answered = co_await post(ch->url, std::string("{}"), "challenge");
      if (!answered.ok()) co_return answered.failure();
      if (auto c = parse_challenge(answered->body); !c)
        co_return failure(Kind::bad_response, c.error().message);
    }
    PollBudget budget(c_.settings_);
    for (;;) {
      auto polled = co_await post(url, std::nullopt, "authorization");
      if (!polled.ok()) co_return polled.failure();
      auto now = parse_authorization(polled->body);
      if (!now) co_return failure(Kind::bad_response, now.error().message);
      if (now->status == Status::valid) break;
      if (now->status != Status::pending) co_return authz_failure(*now);
      auto wait = budget.next(polled->retry_after);
      if (!wait)
        co_return failure(Kind::timeout, fmt::format("{}: the CA has not validated the name within {}", name,
                                                     describe(c_.settings_.poll_timeout)));
      co_await sleep(*wait);
    }
    answers_.take_back(type_, answer_key);
    log_.info("acme.authorization_valid", {{"name", name}});
    co_return Done{};
  }

  const Challenge* find_challenge(const Authorization& authz) const {
    for (const auto& c : authz.challenges)
      if (c.type == challenge_name(type_)) return &c;
    return nullptr;
  }

  // The CA's reasons, from the challenges that carry an error (RFC 8555 §7.1.4, §8.2).
  Failure authz_failure(const Authorization& authz) {
    std::string why;
    std::string problem;
    for (const auto& c : authz.challenges) {
      if (!c.error) continue;
      why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", c.type, c.error->describe());
      if (problem.empty()) problem = c.error->acme_error();
    }
    if (why.empty()) why = fmt::format("the authorization is {}", to_string(authz.status));
    log_.warn("acme.authorization_failed", {{"name", authz.identifier.value}, {"error", why}});
    return failure(Kind::challenge_failed, log_safe(authz.identifier.value + ": " + why, 2000), {}, problem);
  }

  // What an order wait waits for (§7.4): its authorizations done ("ready", or further if the
  // CA moved on), or its certificate issued ("valid"). (No initializer_list of states:
  // GCC 12 cannot keep one in a coroutine frame.)
  enum class Until { ready, issued };

  // Polls the order until `until`; other states but "invalid" mean wait. "invalid" is a
  // challenge_failed before finalize (the CA's validation) and a ca_error after.
  asio::awaitable<Step<Order>> wait_order(Until until) {
    const Kind invalid_kind = until == Until::ready ? Kind::challenge_failed : Kind::ca_error;
    auto done = [until](Status s) {
      return s == Status::valid || (until == Until::ready && (s == Status::ready || s == Status::processing));
    };
    PollBudget budget(c_.settings_);
    for (;;) {
      auto reply = co_await post(order_url_, std::nullopt, "order");
      if (!reply.ok()) co_return reply.failure();
      auto order = parse_order(reply->body);
      if (!order) co_return failure(Kind::bad_response, order.error().message);
      if (done(order->status)) co_return std::move(*order);
      if (order->status == Status::invalid) co_return order_failure(*order, invalid_kind);
      auto wait = budget.next(reply->retry_after);
      if (!wait)
        co_return failure(Kind::timeout, fmt::format("the order is still {} after {}", to_string(order->status),
                                                     describe(c_.settings_.poll_timeout)));
      co_await sleep(*wait);
    }
  }

  // RFC 8555 §7.4: finalize with the CSR, wait for "valid", download the chain (§7.4.2).
  asio::awaitable<Step<Issued>> finalize_and_download(Order order) {
    if (order.status == Status::ready) {
      auto csr = make_csr_der(names_, cert_key_);
      if (!csr) co_return failure(Kind::config, csr.error().message);
      log_.info("acme.finalize", {});
      auto reply = co_await post(order.finalize, finalize_payload(*csr), "finalize");
      if (!reply.ok()) co_return reply.failure();
      if (auto o = parse_order(reply->body); !o) co_return failure(Kind::bad_response, o.error().message);
    }
    if (order.status != Status::valid) {
      auto done = co_await wait_order(Until::issued);
      if (!done.ok()) co_return done.failure();
      order = std::move(*done);
    }
    if (order.certificate.empty()) co_return failure(Kind::bad_response, "the valid order has no certificate URL");
    auto cert = co_await post(order.certificate, std::nullopt, "certificate");
    if (!cert.ok()) co_return cert.failure();
    if (auto match = leaf_matches(cert->body, names_, cert_key_); !match)
      co_return failure(Kind::bad_response, "certificate: " + match.error().message);
    auto validity = chain_validity(cert->body);
    if (!validity) co_return failure(Kind::bad_response, "certificate: " + validity.error().message);
    log_.info("acme.issued", {{"not_after", validity->not_after}, {"certificate", order.certificate}});
    co_return Issued{std::move(cert->body), validity->not_before, validity->not_after};
  }

  Client& c_;
  Answers answers_;
  ChallengeType type_;
  std::vector<std::string> names_;
  std::string cert_key_;
  std::string order_url_;
  log::Logger log_;
};

asio::awaitable<IssueResult> Client::issue(std::vector<std::string> names, std::string cert_key_pem,
                                           Responder& responder, ChallengeType challenge) {
  IssueFlow flow(*this, responder, challenge, std::move(names), std::move(cert_key_pem));
  IssueResult result = co_await flow.run();
  if (auto* f = std::get_if<Failure>(&result))
    log_.warn("acme.failed", {{"kind", kind_name(f->kind)}, {"error", f->message}});
  co_return result;
}

}  // namespace mk::acme
