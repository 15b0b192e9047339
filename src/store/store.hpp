// store/store.hpp: the storage of one mailkeep instance, as a set of roles.
//
// Each consumer depends on the role it uses, not on the whole store: Directory (domains,
// accounts, aliases), Credentials (passwords, SCRAM, TOTP, app passwords), Security (login
// history, bans), Reputation (correspondents, verdicts, threads, sending history), Mail
// (mailboxes, messages, group-committed delivery), Queue (the outbound queue), Keys (DKIM
// keys, MTA-STS cache), Reports (TLS-RPT and DMARC) and Web (web sessions, API tokens). A
// backend implements all of them in one object, because one delivery writes mail and queue
// in one commit.
//
// Backends store and query, and hold no rules: which mailboxes an account gets, UIDVALIDITY,
// the hosted-domain check and the like live above them (store/accounts.hpp, imap/, smtp/).
// Errors carry a store::Errc (store/error.hpp) that callers map to their protocol's reply.
// store::open() is the one place that chooses a backend; docs/architecture.md tells how to
// add one, and tests/unit/store/ runs the whole store suite against each.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "store/config.hpp"
#include "store/credentials.hpp"
#include "store/directory.hpp"
#include "store/error.hpp"
#include "store/keys.hpp"
#include "store/mail.hpp"
#include "store/queue.hpp"
#include "store/reports.hpp"
#include "store/reputation.hpp"
#include "store/security.hpp"
#include "store/web.hpp"

namespace mk::store {

class Store : public Directory,
              public Credentials,
              public Security,
              public Reputation,
              public Mail,
              public Queue,
              public Keys,
              public Reports,
              public Web {
 public:
  ~Store() override = default;

  // Crash recovery, for the server at start-up while it holds the instance lock: removes the
  // files of deliveries that never committed. Returns how many it removed.
  virtual Result<std::size_t> recover() = 0;

  // Stops background work after finishing every delivery already handed in.
  virtual void close() = 0;
};

// Opens (creating and migrating as needed) the store the configuration names.
Result<std::unique_ptr<Store>> open(const StoreConfig& cfg);

}  // namespace mk::store
