// delivery/server_mail.hpp: the one way the server sends mail it writes itself: alerts to the
// admin, delivery status notifications, DMARC and TLS-RPT aggregate reports.
//
// Such mail has the null reverse-path <> (RFC 5321 §4.5.5, RFC 3464), so nothing ever
// bounces back at us and no loop can start. A recipient hosted here gets it in their mailbox
// exactly as an MX delivery would (accounts, aliases, sub-addresses, forwards); anyone else
// through the outbound queue, with NOTIFY=NEVER. A full mailbox still takes it (an alert
// must reach the user whose mailbox an attacker filled). A hosted address that does not
// exist (or is disabled) is skipped and logged, never sent back out to our own MX; one that
// cannot be looked up now goes through the queue, so the message is not lost.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "srs/srs.hpp"
#include "store/directory.hpp"
#include "store/mail.hpp"

namespace mk::delivery {

class ServerMail {
 public:
  // on_queued runs when a message was committed with recipients for the outbound queue (it
  // wakes the queue runner); it may run on the store's commit thread.
  // srs: to send a bounce for a message we forwarded straight to its original sender.
  ServerMail(store::Mail& mail, store::Directory& directory, log::Logger log, std::function<void()> on_queued = {},
             const srs::Srs* srs = nullptr)
      : mail_(mail), directory_(directory), log_(std::move(log)), on_queued_(std::move(on_queued)), srs_(srs) {}

  // Returns once the message is durable (or failed); `what` names it in the log.
  Status send(std::string message, const std::vector<std::string>& to, std::string_view what);
  // Returns at once; done (optional) gets the outcome from the store's commit thread. For
  // callers on an io thread, which must not wait for a disk sync.
  void send_async(std::string message, const std::vector<std::string>& to, std::string_view what,
                  std::function<void(Status)> done = {});

  // The store delivery for `message` to `to`; exposed for tests. Fails when no recipient
  // can receive it.
  Result<store::NewMessage> prepare(std::string message, const std::vector<std::string>& to, std::string_view what);

 private:
  store::Mail& mail_;
  store::Directory& directory_;
  log::Logger log_;
  std::function<void()> on_queued_;
  const srs::Srs* srs_;
};

}  // namespace mk::delivery
