#include "outbound/notify.hpp"

#include <ctime>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "message/header.hpp"
#include "outbound/dsn.hpp"

namespace mk::outbound {
namespace {

// The admin's reason as one line of the bounce (it also goes into a Diagnostic-Code field):
// control characters (CR, LF, tabs) become spaces; at most kMaxReason bytes, cut between
// characters.
std::string one_line(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += c < 0x20 || c == 0x7f ? ' ' : char(c);
  if (out.size() > kMaxReason) {
    std::size_t cut = kMaxReason;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace

std::string dsn_param(std::string_view dsn, std::string_view key, bool to_end) {
  const std::string k = std::string(key) + "=";
  auto p = dsn.find(k);
  if (p == std::string_view::npos || (p > 0 && dsn[p - 1] != ' ')) return {};
  auto v = dsn.substr(p + k.size());
  if (!to_end) v = v.substr(0, v.find(' '));
  return std::string(v);
}

bool wants(std::string_view rcpt_dsn, std::string_view what) {
  const std::string notify = to_upper(dsn_param(rcpt_dsn, "NOTIFY", false));
  if (notify.empty()) return true;  // default: FAILURE, and DELAY at our discretion
  if (notify == "NEVER") return false;
  return notify.find(what) != std::string::npos;
}

Status Notifier::notify_sender(const store::QueuedMessage& m,
                               const std::vector<std::pair<store::QueueRcpt, RcptOutcome>>& rcpts, bool delayed) const {
  if (m.mail_from.empty()) return {};  // never a notification about a notification
  DsnInput in;
  in.reporting_mta = hostname;
  in.to = m.mail_from;
  in.envid = dsn_param(m.dsn, "ENVID", true);
  in.headers_only = dsn_param(m.dsn, "RET", false) == "HDRS";
  in.delayed = delayed;
  in.arrival = m.created;
  in.now = std::int64_t(std::time(nullptr));
  in.retry_until = m.created + max_age_s;
  for (const auto& [rc, o] : rcpts) {
    if (!wants(rc.dsn, delayed ? "DELAY" : "FAILURE")) continue;
    in.rcpts.push_back(DsnRecipient{rc.rcpt, dsn_param(rc.dsn, "ORCPT", true), o.status, o.remote, o.error});
  }
  if (in.rcpts.empty()) return {};
  auto data = queue.read_queued(m);
  if (!data) {
    log.error("outbound.dsn_failed", {{"queue_id", m.id}, {"error", data.error().message}});
    return data.error();
  }
  in.original = *data;
  // A local sender gets it in their mailbox; anyone else through the queue, from <>.
  auto st = mail.send(make_dsn(in), {m.mail_from}, "dsn");
  if (!st)
    log.error("outbound.dsn_failed", {{"queue_id", m.id}, {"error", st.error().message}});
  else
    log.info(delayed ? "outbound.delay_notice" : "outbound.bounce_sent", {{"queue_id", m.id}, {"to", log_safe(m.mail_from)}});
  return st;
}

Result<std::size_t> Notifier::return_to_sender(std::int64_t id, const std::string& reason) const {
  auto found = queue.queued_message(id);
  if (!found) return found.error();
  if (!*found) return store::error(store::Errc::not_found, "no such queued message");
  const store::QueuedMessage& m = **found;
  if (!message::valid_utf8(reason)) return err("the reason must be UTF-8 text");
  const std::string why = one_line(reason);
  std::vector<std::pair<store::QueueRcpt, RcptOutcome>> rcpts;
  for (const auto& r : m.rcpts)
    if (r.state == store::RcptState::queued || r.state == store::RcptState::held)
      rcpts.emplace_back(r, RcptOutcome{store::RcptState::bounced, "5.0.0",
                                        "returned to the sender by the administrator" + (why.empty() ? "" : ": " + why),
                                        ""});
  // The notification first: a bounce that cannot be written keeps the message queued.
  if (!rcpts.empty())
    if (auto st = notify_sender(m, rcpts, false); !st)
      return store::error(store::Errc::unavailable,
                          fmt::format("the bounce to {} could not be sent, so the message stays queued: {}",
                                      log_safe(m.mail_from), st.error().message));
  auto dropped = queue.queue_action(id, store::QueueAction::drop);
  if (!dropped) return dropped.error();
  log.info("outbound.returned", {{"queue_id", id}, {"rcpts", rcpts.size()}});
  return m.mail_from.empty() ? std::size_t(0) : rcpts.size();
}

}  // namespace mk::outbound
