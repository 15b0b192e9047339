#include "delivery/server_mail.hpp"

#include <chrono>
#include <memory>

#include "delivery/recipients.hpp"
#include "base/strings.hpp"
#include "message/address.hpp"
#include "store/error.hpp"

namespace mk::delivery {

namespace {
constexpr std::string_view kNeverNotify = "NOTIFY=NEVER";
}

Result<store::NewMessage> ServerMail::prepare(std::string message, const std::vector<std::string>& to,
                                              std::string_view what) {
  store::NewMessage m;
  m.data = std::make_shared<const std::string>(std::move(message));
  m.mail_from = "";
  m.internaldate = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  LocalRecipients local(directory_, srs_, true);
  for (const auto& address : to) {
    auto mb = message::parse_mailbox(address);
    if (!mb) {
      log_.warn("server_mail.bad_recipient", {{"what", what}, {"to", log_safe(address)}});
      continue;
    }
    const auto v = local.resolve(*mb);
    using K = smtp::RcptVerdict::Kind;
    switch (v.kind) {
      case K::relay_denied:  // not hosted here: through the queue
      case K::temp_fail:     // cannot look it up now: the queue retries, through our own MX if need be
        m.outbound.push_back(store::OutboundRcpt{mb->canonical(), std::string(kNeverNotify)});
        break;
      case K::unknown_user:
      case K::mailbox_full:
        log_.warn("server_mail.undeliverable", {{"what", what}, {"to", log_safe(address)},
                                                {"reason", v.kind == K::unknown_user ? "unknown" : "full"}});
        break;
      case K::accept:
        for (const auto& t : v.targets) {
          if (t.kind == smtp::Target::Kind::mailbox)
            add_delivery(m, store::Delivery{t.account_id, t.where, mb->canonical(), ""});  // once per mailbox
          else
            m.outbound.push_back(store::OutboundRcpt{t.where, std::string(kNeverNotify)});
        }
        break;
    }
  }
  if (m.deliveries.empty() && m.outbound.empty())
    return store::error(store::Errc::not_found, "no recipient can receive it");
  if (!m.deliveries.empty()) m.summary = summary_of(*m.data);
  return m;
}

Status ServerMail::send(std::string message, const std::vector<std::string>& to, std::string_view what) {
  auto m = prepare(std::move(message), to, what);
  if (!m) return m.error();
  const bool queued = !m->outbound.empty();
  auto done = mail_.deliver_sync(std::move(*m));
  if (!done) return done.error();
  if (queued && on_queued_) on_queued_();
  return {};
}

void ServerMail::send_async(std::string message, const std::vector<std::string>& to, std::string_view what,
                            std::function<void(Status)> done) {
  auto m = prepare(std::move(message), to, what);
  if (!m) {
    if (done) done(m.error());
    return;
  }
  const bool queued = !m->outbound.empty();
  mail_.deliver(std::move(*m), [queued, on_queued = on_queued_, done = std::move(done)](store::DeliverResult r) {
    if (r && queued && on_queued) on_queued();
    if (done) done(r ? Status{} : Status{r.error()});
  });
}

}  // namespace mk::delivery
