#include "auth/login_gate.hpp"

#include <chrono>
#include <cstdint>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/strings.hpp"
#include "net/offload.hpp"

namespace mk::auth {

namespace asio = boost::asio;

namespace {

// The user name as logged: bounded, escaped.
constexpr std::size_t kLoggedUser = 80;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LoginGate::LoginGate(const LoginPolicy* policy, std::string service, std::string remote_ip,
                     asio::thread_pool* work, log::Logger log)
    : policy_(policy),
      throttle_(policy ? policy->throttle : nullptr),
      service_(std::move(service)),
      remote_ip_(std::move(remote_ip)),
      client_(IpAddr::parse(remote_ip_)),
      work_(work),
      log_(std::move(log)) {}

asio::awaitable<bool> LoginGate::banned_at_connect() {
  // The check reads the bans kept in memory (reloaded from the store every few seconds): it
  // stays on the io thread, which every connection passes; only the record goes to the pool.
  if (!throttle_ || !client_ || !throttle_->banned(*client_, now_s())) co_return false;
  log_.info(service_ + ".banned", {{"ip", remote_ip_}});
  auto record = [this] {
    policy_->record("connection_refused_banned", {{"service", service_}, {"ip", remote_ip_}});
  };
  co_await net::offload(work_, record);
  co_return true;
}

asio::awaitable<Throttle::Verdict> LoginGate::failed(std::string user) {
  if (!throttle_ || !client_) co_return Throttle::Verdict{};
  // Counting writes the store (bans) and recording writes the security log: on the work pool.
  auto record = [&] {
    const auto v = throttle_->failed(*client_, user, now_s());
    policy_->record("login_failed", {{"service", service_}, {"ip", remote_ip_}, {"user", user}});
    if (v.banned)
      policy_->record("ban", {{"network", Throttle::network_key(*client_)}, {"service", service_}});
    return v;
  };
  const Throttle::Verdict verdict = co_await net::offload(work_, record);
  log_.info(service_ + ".auth_failed", {{"ip", remote_ip_},
                                        {"user", log_safe(user, kLoggedUser)},
                                        {"delay_ms", verdict.delay.count()},
                                        {"banned", verdict.banned}});
  if (verdict.delay.count() > 0) {
    asio::steady_timer wait(co_await asio::this_coro::executor);
    wait.expires_after(verdict.delay);
    auto [ec] = co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }
  co_return verdict;
}

asio::awaitable<void> LoginGate::succeeded(std::string user, std::string client) {
  if (!policy_) co_return;
  // The login history and its alerts write the store: on the work pool.
  auto record = [&] {
    if (throttle_ && client_) throttle_->succeeded(*client_, user, now_s());
    policy_->logged_in(service_, remote_ip_, user, client);
  };
  co_await net::offload(work_, record);
}

}  // namespace mk::auth
