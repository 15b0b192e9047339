#include "dns/resolver.hpp"

#include <unbound.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "dns/answer_cache.hpp"

namespace mk::dns {

namespace asio = boost::asio;

namespace {

// A query in flight: libunbound's callback fills it and wakes the waiting coroutine.
struct Pending {
  explicit Pending(asio::any_io_executor ex) : timer(ex, std::chrono::steady_clock::time_point::max()) {}
  asio::steady_timer timer;
  std::mutex mu;
  bool done = false;
  int err = 0;
  std::int64_t ttl = 0;
  Answer answer;
};

void on_result(void* arg, int err, ub_result* r) {
  // Owned by the callback: the waiting coroutine holds another reference.
  auto* holder = static_cast<std::shared_ptr<Pending>*>(arg);
  std::shared_ptr<Pending> p = std::move(*holder);
  delete holder;
  {
    std::lock_guard lock(p->mu);
    p->done = true;
    p->err = err;
    if (err == 0 && r) {
      p->answer.rcode = r->rcode;
      p->ttl = r->ttl;
      p->answer.nxdomain = r->nxdomain != 0;
      p->answer.secure = r->secure != 0;
      p->answer.bogus = r->bogus != 0;
      if (r->why_bogus) p->answer.why_bogus = r->why_bogus;
      for (int i = 0; r->havedata && r->data[i]; ++i) p->answer.rdata.emplace_back(r->data[i], std::size_t(r->len[i]));
    }
  }
  if (r) ub_resolve_free(r);
  asio::post(p->timer.get_executor(), [p] { p->timer.cancel(); });
}

}  // namespace

struct Resolver::Impl {
  explicit Impl(asio::io_context& io) : fd(io) {}
  ~Impl() {
    fd.close();
    if (ctx) ub_ctx_delete(ctx);
  }
  void watch() {
    fd.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
      if (ec) return;
      ub_process(ctx);
      watch();
    });
  }
  ub_ctx* ctx = nullptr;
  asio::posix::stream_descriptor fd;
  Duration timeout{std::chrono::seconds(30)};
  std::mutex mu;
  bool stopped = false;
  std::vector<std::weak_ptr<Pending>> pending;
  AnswerCache cache;
  metrics::Registry* metrics = nullptr;
  void count(const char* result) const {
    if (metrics)
      metrics->counter("mailkeep_dns_queries_total",
                       "DNS queries by result: cached, ok, nxdomain, servfail (any other error code), bogus "
                       "(DNSSEC validation failed), timeout, failed (the resolver could not ask).",
                       {{"result", result}})
          .inc();
  }
};

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

void Resolver::stop() {
  std::lock_guard lock(impl_->mu);
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->fd.cancel(ignored);
  for (auto& w : impl_->pending)
    if (auto p = w.lock()) asio::post(p->timer.get_executor(), [p] { p->timer.cancel(); });
  impl_->pending.clear();
}
Resolver::~Resolver() = default;

Result<std::unique_ptr<Resolver>> Resolver::create(asio::io_context& io, const Config& cfg) {
  auto impl = std::make_unique<Impl>(io);
  impl->timeout = cfg.resolver_timeout;
  impl->ctx = ub_ctx_create();
  if (!impl->ctx) return err("cannot create the DNS resolver");
  auto check = [](int rc, std::string_view what) -> Status {
    if (rc != 0) return err(fmt::format("DNS resolver: {}: {}", what, ub_strerror(rc)));
    return {};
  };
  if (auto s = check(ub_ctx_async(impl->ctx, 1), "threads"); !s) return s.error();
  for (const auto& u : cfg.upstream)
    if (auto s = check(ub_ctx_set_fwd(impl->ctx, u.c_str()), "upstream " + u); !s) return s.error();
  if (cfg.dnssec) {
    if (::access(cfg.trust_anchor.c_str(), R_OK) != 0)
      return err(fmt::format("DNSSEC trust anchor {} is not readable (Debian package dns-root-data)", cfg.trust_anchor));
    if (auto s = check(ub_ctx_add_ta_file(impl->ctx, cfg.trust_anchor.c_str()), "trust anchor " + cfg.trust_anchor); !s)
      return s.error();
  }
  // Forwarders on loopback, as in tests, answer from a non-standard port: allow it.
  (void)ub_ctx_set_option(impl->ctx, "do-not-query-localhost:", "no");
  const int fd = ::dup(ub_fd(impl->ctx));
  if (fd < 0) return err("DNS resolver: cannot watch its pipe");
  impl->fd.assign(fd);
  impl->watch();
  return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

void Resolver::count_into(metrics::Registry& registry) { impl_->metrics = &registry; }

asio::awaitable<Result<Answer>> Resolver::query(std::string name, int type) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) co_return err("DNS resolver stopped");
  }
  // Answered already within its TTL: no round trip through libunbound's thread, and nothing
  // allocated for one.
  if (auto cached = impl_->cache.get(name, type)) {
    impl_->count("cached");
    co_return std::move(*cached);
  }
  auto ex = co_await asio::this_coro::executor;
  auto p = std::make_shared<Pending>(ex);
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) co_return err("DNS resolver stopped");
    std::erase_if(impl_->pending, [](const std::weak_ptr<Pending>& w) { return w.expired(); });
    impl_->pending.push_back(p);
  }
  auto* holder = new std::shared_ptr<Pending>(p);
  int id = 0;
  if (int rc = ub_resolve_async(impl_->ctx, name.c_str(), type, 1, holder, on_result, &id); rc != 0) {
    delete holder;
    impl_->count("failed");
    co_return err(fmt::format("DNS query {} failed: {}", name, ub_strerror(rc)));
  }
  p->timer.expires_after(impl_->timeout);
  bool already = false;
  {
    std::lock_guard lock(p->mu);
    already = p->done;
  }
  // The wake-up is posted to this coroutine's strand, so it cannot run before the wait starts.
  if (!already) {
    auto [ec] = co_await p->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }
  std::lock_guard lock(p->mu);
  if (!p->done) {
    // Timed out: libunbound no longer calls back, so the holder is ours to free.
    if (ub_cancel(impl_->ctx, id) == 0) delete holder;
    impl_->count("timeout");
    co_return err(fmt::format("DNS query for {} timed out", name));
  }
  if (p->err != 0) {
    impl_->count("failed");
    co_return err(fmt::format("DNS query for {} failed: {}", name, ub_strerror(p->err)));
  }
  impl_->count(p->answer.bogus           ? "bogus"
               : p->answer.rcode == 3    ? "nxdomain"
               : p->answer.temporary()   ? "servfail"
                                         : "ok");
  impl_->cache.put(name, type, p->answer, p->ttl);
  co_return p->answer;
}

}  // namespace mk::dns
