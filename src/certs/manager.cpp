#include "certs/manager.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <iterator>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/write_file.hpp"
#include "dns/rdata.hpp"

namespace mk::certs {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxPem = 1 << 20;
// Let's Encrypt's limit of names in one certificate (and the ACME client's).
constexpr std::size_t kMaxNames = 100;
// How long the web names are set aside after they failed validation.
constexpr std::int64_t kSetAside = 24 * 3600;
// A certificate that ends sooner than this after it arrives is refused (a clock far off, or
// a CA gone wrong): taking it would only ask again at once.
constexpr std::int64_t kMinFreshness = 24 * 3600;

std::int64_t now_s() { return std::int64_t(std::time(nullptr)); }

// Whether the chain's leaf carries the public key of key_pem (after a key rollover it does not).
bool leaf_has_key(std::string_view chain_pem, std::string_view key_pem) {
  BIO* cb = BIO_new_mem_buf(chain_pem.data(), int(chain_pem.size()));
  X509* leaf = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), int(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  const bool same = leaf && key && X509_check_private_key(leaf, key) == 1;
  X509_free(leaf);
  EVP_PKEY_free(key);
  return same;
}

}  // namespace

Manager::Manager(asio::io_context& io, ManagerConfig cfg, net::CertStore& store, Issuer* issuer, dns::Lookup* dns,
                 log::Logger log)
    : io_(io),
      strand_(asio::make_strand(io)),
      cfg_(std::move(cfg)),
      store_(store),
      issuer_(issuer),
      dns_(dns),
      log_(std::move(log)),
      timer_(strand_) {}

Manager::~Manager() = default;

void Manager::start() {
  if (!cfg_.watch_cert.empty()) {
    cert_change_ = std::make_unique<FileChange>(cfg_.watch_cert, 0);
    key_change_ = std::make_unique<FileChange>(cfg_.watch_key, 0);
    bool exists = false;
    cert_change_->changed(now_s(), exists);  // the files as loaded at start
    key_change_->changed(now_s(), exists);
    asio::co_spawn(strand_, run_files(), log::LogThrown{log_, "tls.watch_loop_failed"});
    return;
  }
  if (!issuer_) return;
  // The stored certificate, if any, is presented at once; the loop decides about renewal.
  if (held()) {
    if (auto s = store_.load(cfg_.chain_file, cfg_.key_file); !s)
      log_.warn("tls.stored_certificate_unusable", {{"error", s.error().message}});
  }
  asio::co_spawn(strand_, run_acme(), log::LogThrown{log_, "tls.acme_loop_failed"});
}

void Manager::stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void Manager::wake() {
  asio::post(strand_, [this] {
    woken_ = true;
    timer_.cancel();
  });
}

asio::awaitable<bool> Manager::sleep(Duration d) {
  if (!woken_) {
    timer_.expires_after(d);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  woken_ = false;
  co_return !stopped_;
}

std::optional<Held> Manager::held() const {
  auto chain = read_file(cfg_.chain_file, kMaxPem);
  if (!chain) return std::nullopt;
  auto info = net::describe_chain(*chain);
  // A self-signed one is what the server presents until the CA has answered: nothing to keep.
  if (!info || info->self_signed) return std::nullopt;
  auto key = read_file(cfg_.key_file, kMaxPem);
  Held h;
  h.names = info->names;
  h.not_before = info->not_before;
  h.not_after = info->not_after;
  h.current_key = key && leaf_has_key(*chain, *key);
  return h;
}

asio::awaitable<std::vector<std::string>> Manager::names_to_order() {
  const std::string host = to_lower(cfg_.hostname);
  if (!dns_) co_return std::vector<std::string>{host};  // no resolver (a dev instance)
  auto addresses = [this](std::string name) -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> out;
    for (int type : {dns::kA, dns::kAaaa}) {
      auto a = co_await dns_->query(name, type);
      if (!a || a->rcode != 0 || a->bogus) continue;
      for (const auto& rd : a->rdata)
        if (auto ip = dns::parse_address(rd, type)) out.push_back(*ip);
    }
    std::sort(out.begin(), out.end());
    co_return out;
  };
  const auto ours = co_await addresses(host);
  std::vector<std::string> out;
  if (ours.empty()) co_return out;
  out.push_back(host);
  if (now_s() < set_aside_until_) co_return out;
  for (const auto& name : wanted_names(host, cfg_.domains ? cfg_.domains() : std::vector<std::string>{})) {
    if (name == host) continue;
    if (out.size() >= kMaxNames) {
      log_.warn("tls.too_many_names", {{"max", kMaxNames}, {"left_out_from", name}});
      break;
    }
    const auto theirs = co_await addresses(name);
    std::vector<std::string> both;
    std::set_intersection(ours.begin(), ours.end(), theirs.begin(), theirs.end(), std::back_inserter(both));
    if (!both.empty()) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  co_return out;
}

asio::awaitable<void> Manager::run_files() {
  while (co_await sleep(cfg_.file_recheck)) {
    bool cert_exists = false, key_exists = false;
    // After a wake the files are looked at whatever the interval says.
    const bool changed = cert_change_->changed(now_s(), cert_exists) | key_change_->changed(now_s(), key_exists);
    if (!changed || !cert_exists || !key_exists) continue;
    // certbot and its kind replace both files; a half-done replacement fails the key check
    // and is tried again at the next look.
    if (auto s = store_.load(cfg_.watch_cert, cfg_.watch_key); !s) {
      log_.error("tls.certificate_reload_failed", {{"error", s.error().message}});
      continue;
    }
    auto info = store_.current();
    log_.info("tls.certificate_reloaded", {{"cert", cfg_.watch_cert}, {"not_after", info ? info->not_after : 0}});
  }
}

asio::awaitable<void> Manager::run_acme() {
  int failures = 0;
  while (!stopped_) {
    auto names = co_await names_to_order();
    if (stopped_) break;
    const std::string host = to_lower(cfg_.hostname);
    if (std::find(names.begin(), names.end(), host) == names.end()) {
      log_.warn("tls.acme_waiting", {{"hostname", host}, {"hint", "publish the A/AAAA record of the hostname"}});
      if (!co_await sleep(std::min<Duration>(cfg_.recheck, cfg_.backoff(1, std::nullopt)))) break;
      continue;
    }
    const auto h = held();
    const std::int64_t when = renew_at(h, names);
    const std::int64_t now = now_s();
    if (when > now) {
      const Duration wait = std::min<Duration>(std::chrono::seconds(when - now), cfg_.recheck);
      if (!co_await sleep(wait)) break;
      continue;
    }
    auto key = read_file(cfg_.key_file, kMaxPem);
    if (!key) {
      log_.error("tls.acme_no_key", {{"error", key.error().message}});
      if (!co_await sleep(cfg_.backoff(++failures, std::nullopt))) break;
      continue;
    }
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
    log_.info("tls.acme_ordering", {{"names", list}, {"reason", !h ? "none yet" : when == 0 ? "names or key changed" : "renewal"}});
    last_order_ = names;
    IssueResult r = co_await issuer_->issue(names, *key);
    if (stopped_) break;
    // `tls rollover` may have replaced the key meanwhile: a certificate for the old key must
    // not be written beside the new one (the server would not start again).
    if (auto now_key = read_file(cfg_.key_file, kMaxPem); !now_key || *now_key != *key) {
      log_.info("tls.acme_key_changed", {{"hint", "the key was rolled over during the order; ordering again"}});
      continue;
    }
    Status stored = r.chain_pem ? Status() : Status(err(r.error));
    if (r.chain_pem) {
      auto info = net::describe_chain(*r.chain_pem);
      if (!info) stored = info.error();
      else if (info->not_after < now_s() + kMinFreshness)
        stored = err("the CA's certificate ends too soon (is the clock right?)");
    }
    if (stored && r.chain_pem) stored = store_.set(*r.chain_pem, *key);
    if (stored && r.chain_pem) stored = write_file_atomic(cfg_.chain_file, *r.chain_pem, 0644);
    if (!stored && r.names_failed && names.size() > 1) {
      // Some name points elsewhere or its challenge cannot reach us: the hostname first.
      set_aside_until_ = now_s() + kSetAside;
      log_.warn("tls.acme_names_set_aside", {{"error", stored.error().message}, {"for_s", kSetAside}});
      continue;
    }
    if (!stored) {
      ++failures;
      const auto wait = cfg_.backoff(failures, r.retry_after);
      log_.warn("tls.acme_failed", {{"error", stored.error().message},
                                    {"attempt", failures},
                                    {"retry_in_s", std::chrono::duration_cast<std::chrono::seconds>(wait).count()}});
      if (!co_await sleep(wait)) break;
      continue;
    }
    failures = 0;
    ++issued_;
    auto info = store_.current();
    log_.info("tls.certificate_issued", {{"names", list}, {"not_after", info ? info->not_after : 0}});
  }
}

}  // namespace mk::certs
