// mailkeep queue list|show|retry|hold|release|drop|bounce: the outbound queue, for the admin.
//
// list prints one line per message and one indented line per recipient; show adds the
// message's headers. hold keeps a message from being sent until release; retry makes its
// waiting recipients due now; drop deletes it without a bounce and bounce returns it to its
// sender with one (the reason in it), so both take one explicit ID and never act on "all".
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "app/app.hpp"
#include "base/read_file.hpp"
#include "delivery/server_mail.hpp"
#include "message/header.hpp"
#include "outbound/notify.hpp"
#include "srs/srs.hpp"

namespace mk::app {
namespace {

std::string when(std::int64_t t) {
  char buf[32];
  std::tm tm{};
  const std::time_t tt = t;
  ::gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

void print_message(const store::QueuedMessage& m) {
  std::printf("%lld  %s  %llu bytes  from <%s>%s\n", static_cast<long long>(m.id), when(m.created).c_str(),
              static_cast<unsigned long long>(m.size), m.mail_from.c_str(), m.requiretls ? "  REQUIRETLS" : "");
  for (const auto& r : m.rcpts) {
    std::string line = fmt::format("    {:<9} <{}>  attempts {}", store::to_string(r.state), r.rcpt, r.attempts);
    if (r.state == store::RcptState::queued) line += "  next " + when(r.next_attempt);
    if (!r.last_error.empty()) line += "  last error: " + r.last_error;
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace

int cmd_queue(const std::string& config_path, const std::string& action, std::int64_t id, const std::string& reason) {
  auto o = open_admin_store(config_path);
  if (!o.store) return o.code;
  auto& s = *o.store;
  if (action == "bounce") {
    // The server's SRS key, when it made one: a bounce to an address it wrote when forwarding
    // goes straight back to the original sender. Read only: the server owns the file.
    std::optional<srs::Srs> srs;
    if (auto key = read_file(o.config.data_dir + "/srs.key", 256); key && key->size() >= 32) srs.emplace(*key);
    delivery::ServerMail mail(s, s, log::Logger(), {}, srs ? &*srs : nullptr);
    const outbound::Notifier notifier{o.config.hostname, whole_seconds(o.config.outbound.max_age), s, mail, log::Logger()};
    auto n = notifier.return_to_sender(id, reason);
    if (!n) {
      if (store::is(n.error(), store::Errc::not_found))
        return fail(err(fmt::format("no queued message {}; `mailkeep queue list` shows them", id)), kExitUsage);
      return fail(n.error());
    }
    warn_unless_audited(o.config.data_dir, "queue_bounced",
                        {{"queue_id", std::to_string(id)}, {"rcpts", std::to_string(*n)}, {"reason", reason}, {"by", "cli"}});
    if (*n == 0) std::printf("message %lld removed; no bounce (its sender is <> or no recipient was left)\n",
                             static_cast<long long>(id));
    else std::printf("message %lld returned to its sender: a bounce names %zu recipient%s\n", static_cast<long long>(id), *n,
                     *n == 1 ? "" : "s");
    return kExitOk;
  }
  if (action == "list") {
    auto q = s.list_queue();
    if (!q) return fail(q.error());
    for (const auto& m : *q) print_message(m);
    std::printf("%zu message%s queued\n", q->size(), q->size() == 1 ? "" : "s");
    return kExitOk;
  }
  if (action == "show") {
    auto m = s.queued_message(id);
    if (!m) return fail(m.error());
    if (!*m) return fail(err(fmt::format("no queued message {}; `mailkeep queue list` shows them", id)), kExitUsage);
    print_message(**m);
    auto data = s.read_queued(**m);
    if (!data) return fail(data.error());
    std::size_t header_end = 0;
    message::find_body_start(*data, header_end);
    std::printf("\n%s", data->substr(0, header_end).c_str());
    return kExitOk;
  }
  store::QueueAction a;
  if (action == "hold") a = store::QueueAction::hold;
  else if (action == "release") a = store::QueueAction::release;
  else if (action == "retry") a = store::QueueAction::retry;
  else a = store::QueueAction::drop;
  auto r = s.queue_action(id, a);
  if (!r) {
    if (store::is(r.error(), store::Errc::not_found))
      return fail(err(fmt::format("no queued message {}; `mailkeep queue list` shows them", id)), kExitUsage);
    return fail(r.error());
  }
  const char* done = a == store::QueueAction::hold ? "held"
                     : a == store::QueueAction::release ? "released"
                     : a == store::QueueAction::retry ? "due now"
                                                      : "dropped";
  std::printf("message %lld: %zu recipient%s %s\n", static_cast<long long>(id), *r, *r == 1 ? "" : "s", done);
  return kExitOk;
}

}  // namespace mk::app
