#include "smtp/server.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include <fmt/format.h>

#include "auth/login_gate.hpp"
#include "base/strings.hpp"
#include "dkim/sign.hpp"
#include "message/parsed.hpp"
#include "delivery/recipients.hpp"
#include "net/conn_io.hpp"
#include "net/offload.hpp"
#include "smtp/submission_policy.hpp"
#include "store/async_deliver.hpp"

namespace mk::smtp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = net::Clock;
namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
// RFC 5321 §6.3: loop detection by counting Received fields, "normally at least 100".
constexpr std::size_t kMaxReceived = 100;

std::size_t received_fields(const message::Parsed& msg) {
  return std::size_t(std::count_if(msg.header().begin(), msg.header().end(), [](const message::HeaderField& f) {
    return iequals(f.name, "Received");
  }));
}

}  // namespace

Server::Server(asio::io_context& io, ServerConfig cfg, ServerStore store,
               std::shared_ptr<net::TlsContext> tls, log::Logger log)
    : cfg_(std::move(cfg)),
      store_(store),
      tls_(std::move(tls)),
      log_(std::move(log)),
      listener_(io,
                net::ListenerConfig{cfg_.name, cfg_.session.max_connections, cfg_.session.max_connections_per_ip,
                                    cfg_.session.session_timeout,
                                    Reply(421, "4.7.0", cfg_.session.hostname +
                                                            " Too many connections, try again later")
                                        .wire(),
                                    cfg_.metrics},
                log_, [this](std::shared_ptr<net::Conn> c) { return serve(std::move(c), false); }),
      implicit_(io,
                net::ListenerConfig{cfg_.name, cfg_.session.max_connections, cfg_.session.max_connections_per_ip,
                                    cfg_.session.session_timeout, "", cfg_.metrics},
                log_, [this](std::shared_ptr<net::Conn> c) { return serve(std::move(c), true); }) {
  cfg_.session.starttls_available = tls_ != nullptr;
  if (cfg_.metrics)
    store_seconds_ = &cfg_.metrics->histogram("mailkeep_store_seconds",
                                              "How long the store took to make a message durable, by operation.",
                                              metrics::latency_buckets(), {{"op", cfg_.name + "_deliver"}});
  // The spam verdicts' CPU per message (bench/spam reads it).
  if (cfg_.metrics && cfg_.pipeline && !cfg_.session.submission)
    verdict_cpu_ = &cfg_.metrics->histogram(
        "mailkeep_spam_verdict_cpu_seconds",
        "CPU time of the MX's spam and phishing verdicts on one message (rules, "
        "classifier, the store's reads of what the recipients know).",
        metrics::cpu_buckets());
}

void Server::dkim_sign(Transaction& txn, const log::Logger& log) {
  // Signed with the From: domain's active keys; a domain without keys sends unsigned, which
  // `mailkeep domain dns` points out.
  auto keys = store_.keys.dkim_keys(txn.from_domain);
  if (!keys) {
    log.error(cfg_.name + ".dkim", {{"domain", txn.from_domain}, {"error", keys.error().message}});
    return;
  }
  std::vector<dkim::SigningKey> active;
  for (const auto& k : *keys) {
    if (k.state != "active") continue;
    active.push_back({k.selector, k.algorithm == "rsa-sha256" ? dkim::Algorithm::rsa_sha256 : dkim::Algorithm::ed25519_sha256,
                      k.private_pem});
  }
  if (active.empty()) {
    log.warn(cfg_.name + ".dkim", {{"domain", txn.from_domain}, {"error", "no active DKIM keys"}});
    return;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  auto sig = dkim::sign(txn.message, txn.from_domain, active, now.count());
  if (!sig) {
    log.error(cfg_.name + ".dkim", {{"domain", txn.from_domain}, {"error", sig.error().message}});
    return;
  }
  txn.trace.insert(0, *sig);  // above Received, as the signer's own field
}

void Server::apply(Transaction& txn, const PipelineDecision& d) {
  // Our trace fields stay on top: Return-Path first, then the pipeline's fields, then
  // Received (RFC 8601 §5 puts Authentication-Results beside the receiving ADMD's trace).
  const auto rp_end = txn.trace.starts_with("Return-Path:") ? txn.trace.find("\r\n") + 2 : 0;
  txn.trace.insert(rp_end, d.fields);
}

void Server::capture(store::NewMessage& msg) {
  if (msg.outbound.empty()) return;
  auto mb = store_.mail.find_mailbox(msg.sender_account, "Captured");
  // Not created: the copies fall back to INBOX (Delivery's rule), still never sent out.
  if (mb && !*mb) log_.ok_or_log(store_.mail.create_mailbox(msg.sender_account, "Captured", ""), "smtp.captured_not_created");
  for (const auto& r : msg.outbound) {
    const bool dup = std::any_of(msg.deliveries.begin(), msg.deliveries.end(), [&](const store::Delivery& d) {
      return d.account_id == msg.sender_account && d.mailbox == "Captured";
    });
    if (!dup) msg.deliveries.push_back(store::Delivery{msg.sender_account, "Captured", r.rcpt, r.dsn});
  }
  msg.outbound.clear();
}

void Server::count_message(std::string_view outcome, std::string_view reason) {
  if (!cfg_.metrics) return;
  cfg_.metrics
      ->counter("mailkeep_smtp_messages_total",
                "Messages by what became of them (accepted, junked, rejected, deferred, contained, failed) and why.",
                {{"service", cfg_.name}, {"outcome", std::string(outcome)},
                 {"reason", reason.empty() ? std::string("none") : std::string(reason)}})
      .inc();
}

void Server::count_received(bool tls, const std::string& dmarc) {
  if (!cfg_.metrics) return;
  cfg_.metrics
      ->counter("mailkeep_smtp_received_total",
                "Messages the MX received (end of DATA), by whether the session used TLS and their DMARC result "
                "(unchecked: DNS did not answer).",
                {{"tls", tls ? "yes" : "no"}, {"dmarc", dmarc.empty() ? std::string("unchecked") : dmarc}})
      .inc();
}

// The metrics' reason for a message the session refused at the end of its content.
std::string_view Server::content_refusal(std::string_view enhanced) {
  if (enhanced == "5.3.4") return "too_large";
  if (enhanced == "5.7.1") return "from_not_owned";
  if (enhanced == "5.6.0") return "from_header";
  if (enhanced == "5.6.11") return "bare_line_ending";
  return "other";
}

void Server::count_refusal(const Reply& reply) {
  if (!cfg_.metrics) return;
  const std::string status = reply.enhanced.empty() ? std::to_string(reply.code) : reply.enhanced;
  cfg_.metrics
      ->counter("mailkeep_smtp_refusals_total",
                "SMTP replies that refused or deferred something (4xx, 5xx), by enhanced status code.",
                {{"service", cfg_.name}, {"status", status}})
      .inc();
}

asio::awaitable<void> Server::serve(std::shared_ptr<net::Conn> conn, bool implicit_tls) {
  const auto started = Clock::now();
  log::Logger log = log_.with({{"conn", conn->id}});
  const std::string& svc = cfg_.name;
  log.info(svc + ".connect", {{"ip", conn->remote_ip}, {"tls", implicit_tls}});
  delivery::LocalRecipients recipients(store_.directory, cfg_.srs);
  const std::optional<IpAddr> client = IpAddr::parse(conn->remote_ip);
  StoreSubmissionPolicy policy(auth::AccountStore(store_.directory, store_.credentials), cfg_.login, client);
  net::ConnIo io(*conn, kReadChunk);
  std::string& in = io.in;
  std::string& out = io.out;
  // Logins are taken on submission only (the MX answers AUTH with 502).
  auth::LoginGate gate(cfg_.session.submission ? cfg_.login : nullptr, svc, conn->remote_ip, cfg_.work, log);
  auto banned = [&] {
    return Reply(421, "4.7.0", cfg_.session.hostname + " Too many failed logins from your network; try again later");
  };
  if (co_await gate.banned_at_connect()) {
    // A banned network: refused before TLS or a greeting (on 465 the socket just closes).
    if (!implicit_tls) out = banned().wire();
    co_await io.goodbye();
    conn->closed = true;
    conn->timer.cancel();
    co_return;
  }
  Session session(cfg_.session, recipients, ConnInfo{conn->id, conn->remote_ip, conn->stream->local_address()},
                  cfg_.session.submission ? &policy : nullptr);
  conn->arm(cfg_.session.command_timeout);

  bool discarding = false;  // skipping the rest of an over-long command line
  std::string end_reason = "quit";

  if (implicit_tls) {
    if (!co_await net::start_tls(*conn, *tls_, in, cfg_.session.command_timeout, log, svc)) co_return;
    auto sum = net::summarize(conn->stream->ssl());
    log.info(svc + ".tls", {{"version", sum.version}, {"cipher", sum.cipher}});
    (void)session.on_tls(TlsInfo{sum.version, sum.cipher, sum.bits});
  }
  Step step = session.greet();
  if (listener_.stopping()) step = session.on_shutdown();
  for (;;) {
    if (step.reply && step.reply->code == 535) {
      // A failed login: answered later and later, and a network that keeps failing is banned.
      std::string user = session.auth_attempt_user();
      const auth::Throttle::Verdict verdict = co_await gate.failed(std::move(user));
      if (verdict.banned) {
        count_refusal(*step.reply);
        out += step.reply->wire();
        step = Step{banned(), Next::close};
      }
    }
    if (step.reply) {
      out += step.reply->wire();
      if (step.reply->code == 235 && session.identity())
        log.info(svc + ".auth", {{"user", session.identity()->address}, {"ip", conn->remote_ip}});
      // Verified credentials go into the books when they are verified: with SCRAM that is a
      // 334 carrying the server's signature, which a client may answer with a cancel.
      if (auto user = session.take_verified_login()) {
        // The EHLO name says which machine or program it is; an address literal says nothing.
        const std::string& helo = session.helo();
        std::string client_name = helo.starts_with("[") ? std::string() : helo.substr(0, 100);
        co_await gate.succeeded(std::move(*user), std::move(client_name));
      }
      if (step.reply->code >= 400) {
        count_refusal(*step.reply);
        log.info(svc + ".reply", {{"code", step.reply->code},
                                {"enhanced", step.reply->enhanced},
                                {"text", step.reply->lines.empty() ? "" : step.reply->lines[0]}});
      }
    }
    if (step.next == Next::close) {
      co_await io.goodbye();
      break;
    }
    if (step.next == Next::start_tls) {
      if (!co_await io.flush(cfg_.session.command_timeout)) { end_reason = "write error"; break; }
      if (!co_await net::start_tls(*conn, *tls_, in, cfg_.session.command_timeout, log, svc)) {
        end_reason = "tls failed";
        break;
      }
      auto sum = net::summarize(conn->stream->ssl());
      log.info(svc + ".tls", {{"version", sum.version}, {"cipher", sum.cipher}});
      step = session.on_tls(TlsInfo{sum.version, sum.cipher, sum.bits});
      continue;
    }
    if (step.next == Next::deliver) {
      auto& txn = session.transaction();
      if (cfg_.session.submission) dkim_sign(txn, log);
      PipelineDecision decision;
      // The content, parsed once for every stage that reads it and for the store (its
      // Message-ID, its IMAP summary); the text moves, it is not copied.
      std::shared_ptr<const message::Parsed> parsed =
          std::make_shared<const message::Parsed>(std::exchange(txn.message, std::string()));
      // RFC 5321 §6.3: a message that went round this many times is in a loop (forwarding
      // here and back elsewhere); refused before anything stores or forwards it again.
      if (const std::size_t hops = received_fields(*parsed); hops >= kMaxReceived) {
        log.info(svc + ".rejected", {{"id", txn.id}, {"code", 554}, {"enhanced", "5.4.6"}, {"hops", hops}});
        count_message("rejected", "loop");
        step = session.on_rejected(
            Reply(554, "5.4.6", fmt::format("Too many hops ({} Received fields): a mail loop", hops)));
        continue;
      }
      if (cfg_.pipeline && !cfg_.session.submission) {
        decision = co_await cfg_.pipeline->check(txn, *parsed, session.helo(), conn->remote_ip);
        count_received(txn.tls, decision.dmarc);
        if (verdict_cpu_ && decision.verdict_cpu_seconds >= 0)
          verdict_cpu_->observe(decision.verdict_cpu_seconds);
        if (decision.reject) {
          std::vector<log::Field> f{{"id", txn.id}, {"code", decision.reject->code},
                                    {"enhanced", decision.reject->enhanced}};
          for (auto& x : decision.log) f.push_back(std::move(x));
          log.info(svc + ".rejected", std::move(f));
          count_message(decision.reject->code >= 500 ? "rejected" : "deferred",
                        decision.reason.empty() ? "other" : decision.reason);
          step = session.on_rejected(*decision.reject);
          continue;
        }
        apply(txn, decision);
        if (decision.content) parsed = decision.content;
      }
      // An account's own forwarding never sends spam or suspected phishing on (the warning
      // rewrote what the ARC seal signed): it stays in the account's mailbox.
      if (decision.junk || decision.warned || !decision.junk_accounts.empty())
        delivery::keep_junk_here(txn, decision.junk || decision.warned, decision.junk_accounts);
      auto msg = delivery::to_new_message(txn, *parsed);
      if (cfg_.session.submission && cfg_.guard) {
        // Where the sender's mail goes: its remote recipients and aliases' forwards, not where
        // another account forwards its own mail (that is not the sender's correspondent).
        std::vector<std::string> remote;
        for (const auto& r : txn.rcpts)
          for (const auto& t : r.targets) {
            if (t.kind == Target::Kind::remote) remote.push_back(r.address);
            else if (t.kind == Target::Kind::forward && t.account_id == 0) remote.push_back(t.where);
          }
        const std::string account = session.identity() ? session.identity()->address : std::string();
        // Containment reads and writes the account's history: on the work pool.
        auto contain = [&] { return cfg_.guard->check(txn, *parsed, account, remote, conn->remote_ip); };
        if (auto refusal = co_await net::offload(cfg_.work, contain)) {
          log.warn(svc + ".contained", {{"id", txn.id}, {"user", session.identity() ? session.identity()->address : ""},
                                        {"reply", refusal->lines.empty() ? "" : refusal->lines[0]}});
          count_message("contained", "containment");
          step = session.on_rejected(*refusal);
          continue;
        }
      }
      // After containment: a held account's mail to itself is refused like the rest.
      if (cfg_.session.submission && cfg_.to_self && session.identity()) {
        if (auto replaced = co_await cfg_.to_self(txn, *parsed, session.identity()->address)) {
          count_message(*replaced ? "accepted" : "failed", *replaced ? "to_self" : "store");
          if (*replaced)
            log.info(svc + ".to_self", {{"id", txn.id}, {"user", session.identity()->address}});
          else
            log.error(svc + ".deliver_failed", {{"id", txn.id}, {"error", replaced->error().message}});
          step = session.on_delivered(replaced->ok(), *replaced ? "" : "storage error");
          continue;
        }
      }
      for (auto& d : msg.deliveries)
        if (decision.junk || std::find(decision.junk_accounts.begin(), decision.junk_accounts.end(), d.account_id) !=
                                 decision.junk_accounts.end())
          d.mailbox = "Junk";
      if (!cfg_.session.submission && !msg.outbound.empty() && cfg_.srs && !msg.mail_from.empty()) {
        // Forwarded copies leave with our SRS sender so that SPF passes where they arrive.
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch()).count();
        if (auto f = cfg_.srs->forward(msg.mail_from, delivery::forward_domain(txn), now)) msg.mail_from = *f;
      }
      if (cfg_.capture_remote) capture(msg);
      const std::size_t size = msg.size();  // what is stored: trace + content
      const std::size_t queued = msg.outbound.size();
      const auto store_started = Clock::now();
      auto res = co_await store::async_deliver(store_.mail, std::move(msg), asio::use_awaitable);
      if (store_seconds_) store_seconds_->observe(std::chrono::duration<double>(Clock::now() - store_started).count());
      Status st = res.ok() ? Status() : Status(res.error());
      const bool junked = decision.junk || !decision.junk_accounts.empty();
      count_message(!st ? "failed" : junked ? "junked" : "accepted", !st ? "store" : decision.reason);
      if (st) {
        log.info(svc + ".delivered", {{"id", txn.id},
                                    {"from", txn.mail.path.null ? std::string("<>") : log_safe(txn.mail.path.mailbox.canonical())},
                                    {"rcpts", txn.rcpts.size()},
                                    {"size", size},
                                    {"tls", txn.tls},
                                    {"queued", queued},
                                    {"user", session.identity() ? session.identity()->address : std::string()}});
        if (!decision.log.empty()) log.info(svc + ".verdict", [&] {
          std::vector<log::Field> f{{"id", txn.id}, {"junk", decision.junk}};
          for (auto& x : decision.log) f.push_back(std::move(x));
          return f;
        }());
      } else {
        log.error(svc + ".deliver_failed", {{"id", txn.id}, {"error", st.error().message}});
      }
      if (st && queued > 0 && cfg_.on_queued) cfg_.on_queued();
      if (st && cfg_.session.submission && cfg_.on_submitted) cfg_.on_submitted(txn.account_id, *parsed);
      step = session.on_delivered(st.ok(), st ? "" : "storage error");
      continue;
    }
    if (step.next == Next::read_data || step.next == Next::read_chunk) {
      // The whole message content is bounded by data_timeout.
      const auto data_deadline = Clock::now() + cfg_.session.data_timeout;
      if (!co_await io.flush(cfg_.session.command_timeout)) { end_reason = "write error"; break; }
      std::optional<Step> done;
      for (;;) {
        if (!in.empty() || (step.next == Next::read_chunk && session.chunk_remaining() == 0)) {
          std::size_t used = 0;
          // Submission checks the From: address against the store at the end of the content.
          auto feed = [&] { return step.next == Next::read_data ? session.on_data(in, used) : session.on_chunk(in, used); };
          // Only the step that may finish the content (a line with the lone dot, or a BDAT
          // chunk) goes to the pool: a large message comes in many reads.
          const bool may_finish = step.next == Next::read_chunk || in.find(".\r\n") != std::string::npos ||
                                  in.find(".\n") != std::string::npos;
          if (cfg_.session.submission && may_finish)
            done = co_await net::offload(cfg_.work, feed);
          else
            done = feed();
          in.erase(0, used);
          if (done) break;
        }
        std::string why;
        if (!co_await io.fill(data_deadline, why)) {
          end_reason = why;
          break;
        }
      }
      if (!done) {
        if (end_reason == "timeout") { step = session.on_timeout(); continue; }
        break;
      }
      step = *done;
      // Refused at the end of the content by the session itself (size, bare line ends, a
      // submitted From: the account does not own): a message refused all the same.
      if (step.reply && step.reply->code >= 400) count_message(step.reply->code >= 500 ? "rejected" : "deferred",
                                                               content_refusal(step.reply->enhanced));
      continue;
    }
    // Next::read_command
    std::optional<Step> next;
    for (;;) {
      if (discarding) {
        bool found = false;
        in.erase(0, skip_to_lf(in, found));
        if (found) discarding = false;
      }
      if (!discarding && !in.empty()) {
        auto r = next_line(in, kMaxCommandLine);
        if (r.status == LineStatus::line) {
          std::string line(r.line);
          in.erase(0, r.consumed);
          // An answer to an AUTH challenge is a credential: never logged, not even its shape.
          const bool credential = session.expecting_auth_response();
          const std::string verb = credential ? std::string() : std::string(parse_command(line).name);
          if (!credential) log.debug(svc + ".command", {{"verb", log_safe(verb, 16)}});
          // What may wait on the store or argon2id runs on the work pool: RCPT (recipient
          // lookup), and in submission AUTH, MAIL (the sender's rights) and the rest.
          // Before AUTH succeeded, submission is served by the login pool (argon2id).
          auto command = [&] { return session.on_command(line); };
          const bool logging_in = cfg_.session.submission && !session.identity() && cfg_.login_work;
          if (cfg_.session.submission || iequals(verb, "RCPT"))
            next = co_await net::offload(logging_in ? cfg_.login_work : cfg_.work, command);
          else
            next = command();
          break;
        }
        if (r.status != LineStatus::need_more) {
          if (r.status == LineStatus::too_long && r.consumed == in.size() &&
              in.find('\n') == std::string::npos)
            discarding = true;
          in.erase(0, r.consumed);
          next = session.on_line_error(r.status);
          break;
        }
      }
      // No complete command buffered: send the replies gathered so far (RFC 2920 §3.2).
      if (!co_await io.flush(cfg_.session.command_timeout)) { end_reason = "write error"; break; }
      const bool in_txn = session.state() != Session::State::greeted &&
                          session.state() != Session::State::ready;
      if (conn->shutdown_requested && !in_txn) {
        next = session.on_shutdown();
        break;
      }
      std::string why;
      const bool ok = co_await io.fill(Clock::now() + cfg_.session.command_timeout, why,
                                       in_txn ? net::Wait::busy : net::Wait::idle);
      if (!ok) {
        if (why == "timeout") next = session.on_timeout();
        else if (why == "shutdown") next = session.on_shutdown();
        else end_reason = why;
        break;
      }
    }
    if (!next) break;
    step = *next;
  }
  conn->closed = true;
  conn->timer.cancel();
  log.info(svc + ".disconnect",
           {{"reason", end_reason},
            {"messages", session.accepted_messages()},
            {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()}});
}

}  // namespace mk::smtp
