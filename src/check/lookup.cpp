// check/lookup.cpp: retried DNS queries for mailkeep check (see lookup.hpp).
#include "check/lookup.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::check {

namespace asio = boost::asio;

bool transient(const Result<dns::Answer>& r) {
  if (!r) return true;
  return !r->bogus && r->rcode != 0 && r->rcode != 3;
}

std::string failure_text(const Result<dns::Answer>& r) {
  if (!r) return r.error().message;
  switch (r->rcode) {
    case 2: return "SERVFAIL";
    case 5: return "REFUSED";
    default: return fmt::format("rcode {}", r->rcode);
  }
}

asio::awaitable<Result<dns::Answer>> RetryLookup::query(std::string name, int type) {
  Result<dns::Answer> r = err("not asked");
  for (int attempt = 1; attempt <= policy_.attempts; ++attempt) {
    r = co_await inner_.query(name, type);
    if (!transient(r)) co_return r;
    if (attempt == policy_.attempts) break;
    asio::steady_timer pause(co_await asio::this_coro::executor, policy_.pause);
    boost::system::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!r) co_return err(fmt::format("{} ({} attempts)", r.error().message, policy_.attempts), r.error().code);
  co_return r;
}

asio::awaitable<PublishedRrset> fetch_rrset(dns::Lookup& dns, std::string owner, std::string type) {
  PublishedRrset p{owner, to_upper(type), {}, false, false, false, {}, {}};
  const auto number = type_number(type);
  if (!number) {
    p.error = "unknown record type " + type;
    co_return p;
  }
  std::string name = owner;
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  auto r = co_await dns.query(name, *number);
  if (transient(r)) {
    p.error = failure_text(r);
    co_return p;
  }
  p.nxdomain = r->nxdomain;
  p.secure = r->secure;
  p.bogus = r->bogus;
  p.why_bogus = r->why_bogus;
  p.rdata = r->rdata;
  co_return p;
}

}  // namespace mk::check
