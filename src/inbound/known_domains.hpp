// inbound/known_domains.hpp: the registrable domains the spam filter and containment compare
// with (filter::KnownDomains), kept in memory between verdicts: each account's
// correspondents', and the server's own (hosted) ones.
//
// Every verdict asks whether the message's domains are ones the recipient writes to, and
// whether its author's imitates one. Read from the store for each message, the list cost the
// verdict of a user with 10,000 correspondents at 3,000 domains 11 ms of CPU, seventy times
// a new user's (the rows, the registrable domain of each, the skeleton of each). Kept here, a
// verdict reads the account's Reputation::correspondents_version (one row, by its key) and
// reads the list again only when that changed. The number lives in the shared store, so a
// correspondent added through another node is seen at the next verdict here too.
// The hosted domains, read for every verdict too (the filter's and containment's), are kept the
// same way against Directory::domains_version: a server hosting a thousand domains spent 1.8
// ms a verdict on them, against 0.2 ms for one.
// SECURITY: bounded: at most kMaxDomains (max_domains) domains in all are kept, an account counting
// one more than it has (the least recently used accounts go first); the store gives at most 10,000
// an account.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/log.hpp"
#include "dmarc/dmarc.hpp"
#include "filter/lookalike.hpp"
#include "store/directory.hpp"
#include "store/reputation.hpp"

namespace mk::inbound {

// How long after the store last confirmed a list it is still given when the store cannot say
// (a busy database, a lost connection): long enough for a hiccup, short enough that a list the
// store has long stopped confirming (a domain removed, an account deleted and its id given to
// a new one) is not used for more than a minute of failures. Afterwards, as before, none.
inline constexpr std::chrono::steady_clock::duration kStaleFor = std::chrono::seconds(60);

// The server's hosted domains, registrable.
class HostedDomainsCache {
 public:
  using Clock = std::chrono::steady_clock;
  HostedDomainsCache(store::Directory& store, const dmarc::OrgDomains& orgs, Clock::duration stale_for = kStaleFor)
      : store_(store), orgs_(orgs), stale_for_(stale_for) {}
  // When the store cannot say, what it said last if it confirmed it within stale_for: a
  // verdict judged without its own domains would miss a look-alike of them. Else null (the
  // verdict goes on without them). `error`, if given: set to why the store could not say,
  // for the caller's log; untouched when it answered. Safe from any thread.
  std::shared_ptr<const filter::KnownDomains> get(std::string* error = nullptr);
  // get(), logging `event` with the reason when the store could not say: at warn when the
  // list kept from before stood in, else at error.
  std::shared_ptr<const filter::KnownDomains> get(const log::Logger& log, std::string_view event);

 private:
  // The list held, if confirmed within stale_for_; takes mu_.
  std::shared_ptr<const filter::KnownDomains> kept();

  store::Directory& store_;
  const dmarc::OrgDomains& orgs_;
  const Clock::duration stale_for_;
  std::mutex mu_;
  std::int64_t version_ = 0;
  std::shared_ptr<const filter::KnownDomains> domains_;  // null: not read yet
  Clock::time_point confirmed_;                          // when the store last said domains_ holds
};

class KnownDomainsCache {
 public:
  using Clock = std::chrono::steady_clock;
  // Some 400 bytes a domain with its skeleton and indexes: about 40 MB at most.
  static constexpr std::size_t kMaxDomains = 100'000;
  KnownDomainsCache(store::Reputation& store, const dmarc::OrgDomains& orgs,
                    std::size_t max_domains = kMaxDomains, Clock::duration stale_for = kStaleFor)
      : store_(store), orgs_(orgs), max_domains_(max_domains), stale_for_(stale_for) {}
  // The registrable domains the account writes to. When the store cannot say, the list held
  // for this account id if the store confirmed it within stale_for: mail from the people the
  // user writes to is not judged as a stranger's for a store's hiccup. (Within that minute a
  // deleted account's list could reach a new account given its id: KNOWN_DOMAIN's -1.5 for
  // authenticated mail from those domains, at worst.) Null otherwise (the verdict goes on
  // without them). `error`, if given: as HostedDomainsCache::get's. Safe to call from
  // several threads.
  std::shared_ptr<const filter::KnownDomains> of(std::int64_t account, std::string* error = nullptr);
  // Accounts and domains held now (for tests).
  std::size_t accounts() const;
  std::size_t domains() const;

 private:
  struct Entry {
    std::int64_t version = 0;
    std::shared_ptr<const filter::KnownDomains> domains;
    std::list<std::int64_t>::iterator place;  // in recent_
    Clock::time_point confirmed;              // when the store last said `version` holds
  };
  static std::size_t cost(const filter::KnownDomains& d) { return d.size() + 1; }
  // The account's entry's domains if confirmed within stale_for_, else null; takes mu_.
  std::shared_ptr<const filter::KnownDomains> kept(std::int64_t account);
  // Forgets the account's entry, if any (under mu_).
  void drop(std::int64_t account);

  store::Reputation& store_;
  const dmarc::OrgDomains& orgs_;
  const std::size_t max_domains_;
  const Clock::duration stale_for_;
  mutable std::mutex mu_;
  std::unordered_map<std::int64_t, Entry> entries_;
  std::list<std::int64_t> recent_;  // the accounts, the most recently asked for first
  std::size_t held_ = 0;            // the cost() of every entry
};

}  // namespace mk::inbound
