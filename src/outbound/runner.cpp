#include "outbound/runner.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <random>

#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "outbound/dsn.hpp"
#include "outbound/notify.hpp"
#include "outbound/tls_requirement.hpp"

namespace mk::outbound {

namespace asio = boost::asio;
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Messages one delivery task sends over its connection before it ends and frees the slot.
constexpr std::size_t kPerTask = 100;

std::int64_t now_s() { return std::int64_t(std::time(nullptr)); }

bool needs_8bit(std::string_view data) {
  return std::any_of(data.begin(), data.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}
bool non_ascii(std::string_view s) { return needs_8bit(s); }

// The enhanced code of a reply, or one made from its class.
std::string status_of(const SmtpReply& r, std::string_view fallback) {
  auto e = r.enhanced();
  return e.empty() ? std::string(fallback) : e;
}

}  // namespace

Runner::Runner(asio::io_context& io, RunnerConfig cfg, RunnerStore store, dns::Resolver& resolver,
               std::shared_ptr<net::TlsContext> tls, log::Logger log)
    : io_(io),
      cfg_(std::move(cfg)),
      store_(store),
      resolver_(resolver),
      tls_(std::move(tls)),
      log_(std::move(log)),
      server_mail_(store_.mail, store_.directory, log_, [this] { wake(); }, cfg_.srs),
      strand_(asio::make_strand(io)),
      wake_timer_(strand_),
      report_timer_(strand_) {}

void Runner::start() {
  asio::co_spawn(strand_, loop(), log::LogThrown{log_, "outbound.loop_failed"});
  asio::co_spawn(strand_, report_loop(), log::LogThrown{log_, "outbound.report_loop_failed"});
}


void Runner::wake() {
  asio::post(strand_, [this] {
    woken_ = true;
    wake_timer_.cancel();
  });
}

void Runner::stop() {
  stopping_ = true;
  asio::post(strand_, [this] {
    wake_timer_.cancel();
    report_timer_.cancel();
  });
  std::lock_guard lock(conns_mu_);
  for (auto* c : conns_) c->close();
}

std::int64_t Runner::backoff(int attempts) const {
  // 5 min, 10, 20, ... up to 4 h, with +-10% jitter so retries do not arrive in step.
  double s = double(whole_seconds(cfg_.min_backoff));
  for (int i = 1; i < attempts && s < double(whole_seconds(cfg_.max_backoff)); ++i) s *= 2;
  s = std::min(s, double(whole_seconds(cfg_.max_backoff)));
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  return std::int64_t(s * jitter(rng));
}

asio::awaitable<void> Runner::loop() {
  // Each round claims what is due and starts a delivery task per domain chunk, within the
  // per-domain and global connection limits; it does not wait for them, so a slow or
  // hung destination never holds up the others. A task ending wakes the loop.
  while (!stopping_) {
    woken_ = false;
    const std::int64_t now = now_s();
    bool more = false;
    if (active_ < cfg_.max_connections) {
      // Claim only what the free connections can take (each task sends at most kPerTask).
      const std::size_t limit = std::min(cfg_.batch, (cfg_.max_connections - active_) * kPerTask);
      auto due = store_.queue.claim_due(now, now + whole_seconds(cfg_.lease), limit);
      if (!due) {
        log_.error("outbound.claim_failed", {{"error", due.error().message}});
      } else if (!due->empty()) {
        std::map<std::string, std::vector<Job>> by_domain;
        for (auto& m : *due) {
          std::map<std::string, Job> per;
          for (auto& r : m.rcpts) {
            auto& j = per[r.domain];
            if (j.msg.id == 0) {
              j.msg = m;
              j.msg.rcpts.clear();
            }
            j.msg.rcpts.push_back(r);
          }
          for (auto& [d, j] : per) by_domain[d].push_back(std::move(j));
        }
        std::vector<std::int64_t> postponed;  // claimed, but no connection is free for them
        bool started = false;
        for (auto& [domain, jobs] : by_domain) {
          const std::size_t busy = domain_active_.count(domain) ? domain_active_[domain] : 0;
          const std::size_t free_here = cfg_.connections_per_domain > busy ? cfg_.connections_per_domain - busy : 0;
          const std::size_t free_all = cfg_.max_connections > active_ ? cfg_.max_connections - active_ : 0;
          const std::size_t wanted = (jobs.size() + kPerTask - 1) / kPerTask;
          const std::size_t n = std::min({free_here, free_all, wanted});
          // Up to kPerTask messages per connection, spread evenly; the rest waits for one.
          const std::size_t take = std::min(jobs.size(), n * kPerTask);
          for (std::size_t i = take; i < jobs.size(); ++i)
            for (const auto& r : jobs[i].msg.rcpts) postponed.push_back(r.id);
          if (n == 0) continue;
          std::vector<std::vector<Job>> chunks(n);
          for (std::size_t i = 0; i < take; ++i) chunks[i % n].push_back(std::move(jobs[i]));
          for (auto& chunk : chunks) {
            ++active_;
            ++domain_active_[domain];
            started = true;
            asio::co_spawn(asio::make_strand(io_), deliver(domain, std::move(chunk)), [this, domain](std::exception_ptr e) {
              if (e) log::LogThrown{log_.with({{"domain", domain}}), "outbound.task_failed"}(e);
              asio::post(strand_, [this, domain] {
                --active_;
                if (--domain_active_[domain] == 0) domain_active_.erase(domain);
                woken_ = true;
                wake_timer_.cancel();
              });
            });
          }
        }
        if (!postponed.empty()) {
          if (auto st = store_.queue.reschedule(postponed, now + 1); !st)
            log_.error("outbound.reschedule_failed", {{"error", st.error().message}});
        }
        more = started && due->size() >= limit;  // more may be due right now
      }
    }
    if (stopping_) break;
    if (woken_ || more) continue;
    // Sleep until the next recipient is due (at most a minute), a task ends, or wake().
    std::int64_t wait = 60;
    if (auto next = store_.queue.next_due(); next && *next) wait = std::clamp<std::int64_t>(**next - now_s(), 1, 60);
    wake_timer_.expires_after(std::chrono::seconds(wait));
    auto [ec] = co_await wake_timer_.async_wait(kTuple);
    (void)ec;
  }
}


asio::awaitable<Runner::Addresses> Runner::addresses(std::string host) {
  Addresses out;
  for (int type : {dns::kAaaa, dns::kA}) {
    auto a = co_await resolver_.query(host, type);
    if (!a || a->temporary()) {
      out.trouble = true;
      continue;
    }
    out.secure &= a->secure;
    for (const auto& d : a->rdata)
      if (auto ip = dns::parse_address(d, type)) out.ips.push_back(*ip);
  }
  co_return out;
}

asio::awaitable<Runner::Route> Runner::route(const std::string& domain) {
  Route r;
  r.sts = co_await sts_policy(domain);
  auto mx = co_await resolver_.query(domain, dns::kMx);
  if (!mx || mx->temporary()) {
    r.temporary = true;
    r.status = "4.4.3";
    r.error = !mx ? mx.error().message
                  : fmt::format("DNS failure looking up the MX of {}{}", domain,
                                mx->bogus ? " (DNSSEC validation failed: " + mx->why_bogus + ")" : "");
    co_return r;
  }
  if (mx->nxdomain) {
    r.status = "5.1.2";
    r.error = fmt::format("domain {} does not exist", domain);
    co_return r;
  }
  r.mx_secure = mx->secure;
  std::vector<dns::Mx> list;
  for (const auto& d : mx->rdata)
    if (auto m = dns::parse_mx(d)) list.push_back(*m);
  if (list.size() == 1 && list[0].host.empty()) {
    r.status = "5.1.10";
    r.error = fmt::format("domain {} does not accept mail (null MX, RFC 7505)", domain);
    co_return r;
  }
  std::erase_if(list, [](const dns::Mx& m) { return m.host.empty(); });
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::shuffle(list.begin(), list.end(), rng);  // equal preferences share the load
  std::stable_sort(list.begin(), list.end(), [](const dns::Mx& a, const dns::Mx& b) { return a.preference < b.preference; });
  if (list.empty()) list.push_back(dns::Mx{0, domain});  // no MX: the domain itself (RFC 5321 §5.1)
  bool dns_trouble = false;
  const bool implicit = list.size() == 1 && list[0].host == domain && mx->rdata.empty();
  for (const auto& m : list) {
    auto found = co_await addresses(m.host);
    Host h{m.host, std::move(found.ips), {}, {}};
    const bool addrs_secure = found.secure && !found.trouble;
    dns_trouble |= found.trouble;
    // RFC 7672 §2.2: TLSA records count only when the MX RRset (or, without MX, the
    // domain's address) and the host's addresses are DNSSEC-secure.
    if (!h.addrs.empty() && addrs_secure && (mx->secure || implicit)) {
      auto t = co_await resolver_.query("_25._tcp." + m.host, dns::kTlsa);
      if (!t || t->temporary()) {
        h.unusable = t ? (t->bogus ? "DANE: the TLSA records of " + m.host + " failed DNSSEC validation (" + t->why_bogus + ")"
                                   : "DANE: TLSA lookup for " + m.host + " failed")
                       : "DANE: TLSA lookup failed: " + t.error().message;
      } else if (t->secure) {
        for (const auto& d : t->rdata)
          if (auto rec = dns::parse_tlsa(d)) h.tlsa.push_back(std::move(*rec));
      }
    }
    if (!h.addrs.empty()) r.hosts.push_back(std::move(h));
  }
  if (r.sts && r.sts->mode == tlspolicy::StsMode::enforce) {
    // RFC 8461 §4.1: only MX hosts the policy names.
    std::erase_if(r.hosts, [&](const Host& h) { return !r.sts->allows(h.name); });
    if (r.hosts.empty() && !dns_trouble) {
      r.temporary = true;
      r.status = "4.7.5";
      r.error = fmt::format("no MX host of {} matches its MTA-STS policy", domain);
      co_return r;
    }
  }
  if (r.hosts.empty()) {
    r.temporary = true;
    r.status = "4.4.4";
    r.error = fmt::format("no address for the mail hosts of {}{}", domain, dns_trouble ? " (DNS failure)" : "");
  }
  co_return r;
}

asio::awaitable<void> Runner::deliver(std::string domain, std::vector<Job> jobs) {
  Batch batch;
  auto rt = co_await route(domain);
  if (rt.hosts.empty()) {
    for (const auto& j : jobs) {
      std::vector<Outcome> out(j.msg.rcpts.size(),
                               Outcome{rt.temporary ? store::RcptState::queued : store::RcptState::bounced, rt.status,
                                       rt.error, ""});
      finish(j, out, batch);
    }
    flush(batch);
    co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  std::unique_ptr<Connection> conn;
  std::string mx;
  std::string protection = "none";  // the metrics' tls label of conn
  // ... and the policy the domain's hosts asked for (the last one tried), for the policy label.
  std::string policy = to_string(tls_mode(false, rt.sts && rt.sts->mode == tlspolicy::StsMode::enforce,
                                          rt.sts && rt.sts->mode == tlspolicy::StsMode::testing));
  auto track = [this](Connection* c, bool add) {
    std::lock_guard lock(conns_mu_);
    if (add) conns_.insert(c);
    else conns_.erase(c);
  };
  auto drop = [&] {
    if (!conn) return;
    track(conn.get(), false);
    conn->close();
    conn.reset();
  };
  std::string last_error = "no mail host could be reached";
  // Opens a session with the first host that answers; opportunistic STARTTLS.
  auto connect = [&]() -> asio::awaitable<bool> {
    for (const auto& h : rt.hosts) {
      if (!h.unusable.empty()) {
        last_error = h.unusable;
        policy = to_string(TlsMode::dane);  // a TLSA lookup that failed validation
        tls_result(domain, rt, h, "", "dnssec-invalid");
        continue;
      }
      const TlsMode mode = tls_mode(!h.tlsa.empty(), rt.sts && rt.sts->mode == tlspolicy::StsMode::enforce,
                                    rt.sts && rt.sts->mode == tlspolicy::StsMode::testing);
      policy = to_string(mode);
      // The TLS-RPT record of a step (outbound/tls_requirement.hpp); "success" counts a session.
      auto report = [&](const TlsStep& step, const std::string& ip) {
        if (!step.report.empty()) tls_result(domain, rt, h, ip, step.report == "success" ? "" : step.report);
      };
      for (const auto& ip : h.addrs) {
        for (bool try_tls : {true, false}) {
          if (stopping_) co_return false;
          auto c = std::make_unique<Connection>(ex);
          track(c.get(), true);
          auto greet = co_await c->open(ip, cfg_.port, cfg_.connect_timeout);
          auto fail = [&](std::string why) {
            last_error = fmt::format("{} [{}]: {}", h.name, ip, why);
            track(c.get(), false);
            c->close();
          };
          if (!greet || greet->code != 220) {
            fail(!greet ? greet.error().message : greet->text());
            break;  // next address
          }
          auto hello = co_await c->ehlo(cfg_.hostname, cfg_.command_timeout);
          if (hello.code != 250) {
            fail("EHLO: " + hello.text());
            break;
          }
          // No TLS context: nothing to offer, so a required policy cannot be met.
          const TlsStep offer = on_starttls_offer(mode, c->has("STARTTLS") && tls_);
          report(offer, ip);
          if (offer.action == TlsStep::Action::give_up_host) {
            fail(offer.failure);
            break;  // never in plain text: next address
          }
          bool secured = false;
          if (try_tls && tls_ && c->has("STARTTLS")) {
            auto t = co_await c->starttls(*tls_, h.name, cfg_.command_timeout, h.tlsa);
            if (!t) {
              fail(t.error().message);
              const TlsStep failed = on_handshake_failure(mode);
              report(failed, ip);
              log_.warn("outbound.tls_failed", {{"host", h.name}, {"ip", ip}, {"error", t.error().message}});
              if (failed.action == TlsStep::Action::give_up_host) break;  // no plain-text retry
              continue;  // opportunistic: the same address again, without TLS
            }
            const long code = c->tls_verify_code();
            const TlsStep done = on_handshake(mode, TlsPeer{h.name, c->dane_usable(), c->dane_verified(), c->tls_verified(),
                                                            code == X509_V_ERR_HOSTNAME_MISMATCH,
                                                            code == X509_V_ERR_CERT_HAS_EXPIRED, c->tls_verify_error()});
            report(done, ip);
            if (done.action == TlsStep::Action::give_up_host) {
              fail(done.failure);
              break;
            }
            if (mode == TlsMode::dane) log_.info("outbound.dane", {{"host", h.name}, {"authenticated", c->dane_verified()}});
            if (mode == TlsMode::sts_testing && !c->tls_verified())
              log_.warn("outbound.mta_sts_testing_failure",
                        {{"domain", domain}, {"host", h.name},
                         {"error", "certificate not valid for " + h.name + ": " + c->tls_verify_error()}});
            hello = co_await c->ehlo(cfg_.hostname, cfg_.command_timeout);
            if (hello.code != 250) {
              fail("EHLO after STARTTLS: " + hello.text());
              break;
            }
            secured = true;
          }
          protection = !secured                                             ? "plaintext"
                       : mode == TlsMode::dane && c->dane_verified()         ? "dane"
                       : mode == TlsMode::sts_enforce && c->tls_verified()   ? "mta-sts"
                                                                             : "tls";
          conn = std::move(c);
          mx = h.name;
          co_return true;
        }
      }
    }
    co_return false;
  };
  for (const auto& job : jobs) {
    std::vector<Outcome> out(job.msg.rcpts.size());
    bool done = false;
    for (int tries = 0; tries < 2 && !done && !stopping_; ++tries) {
      if (!conn && !co_await connect()) break;
      const bool validated = rt.mx_secure || (rt.sts && rt.sts->mode != tlspolicy::StsMode::none && rt.sts->allows(mx));
      done = co_await send_one(*conn, mx, validated, job, out);
      if (!done) {
        last_error = mx + ": connection lost during the transaction";
        drop();
      }
    }
    if (!done)
      for (auto& o : out)
        if (o.state == store::RcptState::queued && o.error.empty()) o = Outcome{store::RcptState::queued, "4.4.1", last_error, ""};
    finish(job, out, batch, done ? protection : "none", policy);
    if (batch.finished.size() >= 64) flush(batch);
  }
  flush(batch);
  if (conn) {
    std::string quit = "QUIT";
    (void)co_await conn->command(quit, std::chrono::seconds(10));
    drop();
  }
}

asio::awaitable<bool> Runner::send_one(Connection& c, const std::string& mx, bool mx_validated, const Job& job,
                                       std::vector<Outcome>& out) {
  const auto& m = job.msg;
  auto all = [&](store::RcptState s, std::string status, std::string error) {
    for (auto& o : out)
      if (o.state == store::RcptState::queued && o.error.empty()) o = Outcome{s, status, error, mx};
  };
  auto data = store_.queue.read_queued(m);
  if (!data) {
    all(store::RcptState::queued, "4.3.0", "cannot read the queued message: " + data.error().message);
    co_return true;
  }
  // RFC 5321 §4.4: Return-Path is for final delivery; a forwarded copy shares its file with
  // the local copies that carry one, and must not take it along.
  if (istarts_with(*data, "Return-Path:")) {
    const auto eol = data->find("\r\n");
    if (eol != std::string::npos) data->erase(0, eol + 2);
  }
  const bool eight_bit = needs_8bit(*data);
  bool utf8 = non_ascii(m.mail_from);
  for (const auto& r : m.rcpts) utf8 |= non_ascii(r.rcpt);
  if (eight_bit && !c.has("8BITMIME")) {
    all(store::RcptState::bounced, "5.6.3", mx + " does not accept 8-bit mail (no 8BITMIME)");
    co_return true;
  }
  if (utf8 && !c.has("SMTPUTF8")) {
    all(store::RcptState::bounced, "5.6.7", mx + " does not accept internationalized addresses (no SMTPUTF8)");
    co_return true;
  }
  if (auto limit = c.size_limit(); limit && data->size() > limit) {
    all(store::RcptState::bounced, "5.3.4", fmt::format("{} accepts at most {} bytes", mx, limit));
    co_return true;
  }
  if (m.requiretls) {
    // RFC 8689 §4.2.1: only to an MX vouched for by DNSSEC or MTA-STS, over TLS whose
    // certificate verified (DANE or WebPKI), to a server that takes REQUIRETLS along.
    const std::string why = requiretls_refusal(mx, mx_validated, c.dane_verified(), c.tls_verified(), c.has("REQUIRETLS"));
    if (!why.empty()) {
      all(store::RcptState::bounced, "5.7.30", "REQUIRETLS support required: " + why);
      co_return true;
    }
  }
  const bool dsn = c.has("DSN");
  std::string mail = fmt::format("MAIL FROM:<{}> SIZE={}", m.mail_from, data->size());
  if (m.requiretls) mail += " REQUIRETLS";
  if (eight_bit) mail += " BODY=8BITMIME";
  if (utf8) mail += " SMTPUTF8";
  if (dsn) {
    if (auto ret = dsn_param(m.dsn, "RET", false); !ret.empty()) mail += " RET=" + ret;
    if (auto envid = dsn_param(m.dsn, "ENVID", true); !envid.empty()) mail += " ENVID=" + xtext_encode(envid);
  }
  std::vector<std::string> rcpt_cmds;
  for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
    std::string rcpt = fmt::format("RCPT TO:<{}>", m.rcpts[i].rcpt);
    if (dsn) {
      if (auto n = dsn_param(m.rcpts[i].dsn, "NOTIFY", false); !n.empty()) rcpt += " NOTIFY=" + n;
      if (auto o = dsn_param(m.rcpts[i].dsn, "ORCPT", true); !o.empty()) {
        const auto semi = o.find(';');
        rcpt += " ORCPT=" + (semi == std::string::npos ? "rfc822;" + xtext_encode(o)
                                                       : o.substr(0, semi + 1) + xtext_encode(o.substr(semi + 1)));
      }
    }
    rcpt_cmds.push_back(std::move(rcpt));
  }
  // With PIPELINING (RFC 2920) MAIL, every RCPT and DATA go in one write; else one by one.
  const bool pipelining = c.has("PIPELINING");
  SmtpReply r;
  std::vector<SmtpReply> rcpt_replies;
  std::optional<SmtpReply> data_reply;
  if (pipelining) {
    std::vector<std::string> lines{mail};
    lines.insert(lines.end(), rcpt_cmds.begin(), rcpt_cmds.end());
    lines.push_back("DATA");
    auto replies = co_await c.pipeline(lines, cfg_.command_timeout);
    if (replies.size() != lines.size()) co_return false;
    r = std::move(replies[0]);
    rcpt_replies.assign(std::make_move_iterator(replies.begin() + 1), std::make_move_iterator(replies.end() - 1));
    data_reply = std::move(replies.back());
  } else {
    r = co_await c.command(mail, cfg_.command_timeout);
    if (r.code == 0) co_return false;
    if (r.code < 400) {
      for (const auto& cmd : rcpt_cmds) {
        auto rr = co_await c.command(cmd, cfg_.command_timeout);
        if (rr.code == 0) co_return false;
        rcpt_replies.push_back(std::move(rr));
      }
    }
  }
  // A refused reply: bounced for 5xx, retried for 4xx.
  auto refused = [&mx](const SmtpReply& rep) {
    const bool perm = rep.code >= 500;
    return Outcome{perm ? store::RcptState::bounced : store::RcptState::queued, status_of(rep, perm ? "5.0.0" : "4.0.0"),
                   rep.text(), mx};
  };
  // Ends the transaction without a message; a pipelined DATA the server accepted anyway is
  // closed with an empty one first.
  // The replies decide nothing (every recipient has its outcome already); one that is not
  // positive is logged, and the connection's next use finds out whether it is still good.
  auto abandon = [&]() -> asio::awaitable<void> {
    auto note = [&](const char* what, const SmtpReply& rep) {
      if (rep.code == 0 || rep.code >= 400)
        log_.debug("outbound.abandon_reply", {{"mx", mx}, {"step", what}, {"reply", log_safe(rep.text())}});
    };
    if (data_reply && data_reply->code == 354) {
      std::string_view none;
      note("empty message", co_await c.body(none, cfg_.data_timeout()));
    }
    std::string rset = "RSET";
    note("RSET", co_await c.command(rset, cfg_.command_timeout));
  };
  if (r.code >= 400) {
    const Outcome o = refused(r);
    all(o.state, o.status, o.error);
    co_await abandon();
    co_return true;
  }
  std::vector<std::size_t> accepted;
  for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
    if (rcpt_replies[i].code < 300) accepted.push_back(i);
    else out[i] = refused(rcpt_replies[i]);
  }
  if (accepted.empty()) {
    co_await abandon();
    co_return true;
  }
  SmtpReply dr;
  if (data_reply) {
    if (data_reply->code == 354) dr = co_await c.body(*data, cfg_.data_timeout());
    else dr = std::move(*data_reply);
  } else {
    dr = co_await c.data(*data, cfg_.data_timeout());
  }
  if (dr.code == 0) co_return false;  // unknown: retried (the peer may have it: at least once)
  for (auto i : accepted) {
    if (dr.code < 300) out[i] = Outcome{store::RcptState::delivered, status_of(dr, "2.0.0"), dr.text(), mx};
    else out[i] = refused(dr);
  }
  co_return true;
}

void Runner::flush(Batch& batch) {
  if (batch.records.empty() && batch.finished.empty()) return;
  if (auto st = store_.queue.record_attempts(batch.records, batch.finished); !st)
    log_.error("outbound.record_failed", {{"messages", batch.finished.size()}, {"error", st.error().message}});
  batch.records.clear();
  batch.finished.clear();
}

void Runner::finish(const Job& job, const std::vector<Outcome>& outcomes, Batch& batch, std::string_view tls,
                    std::string_view policy) {
  const auto& m = job.msg;
  const std::int64_t now = now_s();
  std::vector<std::pair<store::QueueRcpt, Outcome>> bounced, delayed;
  for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
    const auto& rc = m.rcpts[i];
    Outcome o = outcomes[i];
    if (o.state == store::RcptState::queued && now - m.created >= whole_seconds(cfg_.max_age)) {
      o = Outcome{store::RcptState::bounced, "4.4.7",
                  fmt::format("delivery time expired after {} days; last error: {}", whole_seconds(cfg_.max_age) / 86400, o.error),
                  o.remote};
    }
    const std::int64_t next = o.state == store::RcptState::queued ? now + backoff(rc.attempts + 1) : 0;
    batch.records.push_back(store::AttemptRecord{rc.id, o.state, next, o.error});
    const char* event = o.state == store::RcptState::delivered ? "outbound.delivered"
                        : o.state == store::RcptState::bounced ? "outbound.bounced"
                                                               : "outbound.deferred";
    log_.info(event, {{"queue_id", m.id}, {"rcpt", log_safe(rc.rcpt)}, {"relay", o.remote}, {"status", o.status},
                      {"reply", log_safe(o.error, 300)}, {"attempts", rc.attempts + 1}});
    if (o.state == store::RcptState::bounced) bounced.emplace_back(rc, o);
    if (o.state == store::RcptState::queued) delayed.emplace_back(rc, o);
    if (cfg_.metrics)
      cfg_.metrics
          ->counter("mailkeep_outbound_deliveries_total",
                    "Outbound delivery attempts per recipient, by result, by how the session was protected "
                    "(dane, mta-sts, tls, plaintext; none: no session) and by the policy the receiving "
                    "domain asked for (dane, mta-sts, mta-sts-testing, opportunistic).",
                    {{"result", event + std::string_view("outbound.").size()},
                     {"tls", std::string(tls)},
                     {"policy", std::string(policy)}})
          .inc();
  }
  if (m.sender_account != 0 && cfg_.on_verdicts) {
    int delivered = 0, refused = 0;
    for (const auto& o : outcomes) {
      if (o.state == store::RcptState::delivered) ++delivered;
      else if (o.state == store::RcptState::bounced && o.status.starts_with("5")) ++refused;
    }
    if (delivered + refused > 0) cfg_.on_verdicts(m.sender_account, delivered, refused);
  }
  if (!bounced.empty()) (void)notifier().notify_sender(m, bounced, false);  // logged there
  if (!delayed.empty() && !m.delay_notified && whole_seconds(cfg_.delay_warning) > 0 &&
      now - m.created >= whole_seconds(cfg_.delay_warning)) {
    (void)notifier().notify_sender(m, delayed, true);  // logged there
    // Not recorded: the sender may get a second notice, never none.
    log_.ok_or_log(store_.queue.set_delay_notified(m.id), "outbound.delay_notice_not_recorded", {{"queue_id", m.id}});
  }
  batch.finished.push_back(m.id);
}

Result<std::size_t> Runner::return_to_sender(std::int64_t id, const std::string& reason) {
  return notifier().return_to_sender(id, reason);
}

Notifier Runner::notifier() {
  return Notifier{cfg_.hostname, whole_seconds(cfg_.max_age), store_.queue, server_mail_, log_};
}

}  // namespace mk::outbound
