#include "admin/accounts.hpp"

#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "auth/breached.hpp"
#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "dkim/sign.hpp"
#include "base/strings.hpp"
#include "message/address.hpp"

namespace mk::admin {
namespace {

// "mk20261201e": the date the key was made, and its algorithm; a suffix if the day is taken.
std::string new_selector(const std::vector<store::DkimKey>& existing, dkim::Algorithm a) {
  char day[16];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(day, sizeof day, "%Y%m%d", &tm);
  const std::string base = fmt::format("mk{}{}", day, a == dkim::Algorithm::ed25519_sha256 ? 'e' : 'r');
  for (int n = 1;; ++n) {
    std::string s = n == 1 ? base : fmt::format("{}{}", base, n);
    bool taken = false;
    for (const auto& k : existing) taken |= k.selector == s;
    if (!taken) return s;
  }
}

}  // namespace

Result<std::string> canonical_address(std::string_view address) {
  auto mb = message::parse_mailbox(address);
  if (!mb || mb->domain_literal) return err(fmt::format("\"{}\" is not a valid address (local@domain)", address));
  // Mail from others may carry longer local parts (message/address.hpp), but an address of
  // ours must be one every server takes: RFC 5321 §4.5.3.1.1's 64 octets.
  if (mb->local.size() > message::kMaxLocalPart)
    return err(fmt::format("\"{}\": the part before @ is {} octets; other servers refuse more than {} (RFC 5321 "
                           "4.5.3.1.1): choose a shorter one",
                           address, mb->local.size(), message::kMaxLocalPart));
  return mb->canonical();
}

Result<NewPassword> hash_new_password(const std::string& pw, const std::string& breached_index) {
  if (auto p = auth::check_password_policy(pw); !p) return p.error();
  // Every new password is checked against the breached-password list, when one is loaded.
  if (::access(breached_index.c_str(), F_OK) == 0) {
    auto index = auth::BreachedIndex::open(breached_index);
    // Not the user's doing: said as a failure of the server, not as a refusal.
    if (!index) return store::error(store::Errc::unavailable, index.error().message);
    if ((*index)->contains_password(pw))
      return err("this password appears in a list of passwords exposed in data breaches; choose another");
  }
  auto hash = auth::hash_password(pw);
  if (!hash) return hash.error();
  return NewPassword{*hash, auth::make_scram_secret(pw)};
}

Status set_password(store::Store& store, const store::Account& account, const NewPassword& password,
                    std::int64_t keep_session) {
  if (auto r = store.set_password(account.address, password.hash); !r) return r;
  if (auto r = store.set_scram(account.address, password.scram); !r) return r;
  if (auto r = store.remove_web_sessions(account.id, keep_session); !r) return r.error();
  return {};
}

Status create_dkim_keys(store::Keys& keys, const std::string& domain, const std::string& state) {
  auto existing = keys.dkim_keys(domain);
  if (!existing) return existing.error();
  for (auto a : {dkim::Algorithm::ed25519_sha256, dkim::Algorithm::rsa_sha256}) {
    auto kp = dkim::generate_key(a);
    if (!kp) return kp.error();
    store::DkimKey k{domain, new_selector(*existing, a), std::string(dkim::algorithm_name(a)), kp->private_pem,
                     kp->public_b64, state, 0};
    if (auto r = keys.add_dkim_key(k); !r) return r;
    existing->push_back(k);
  }
  return {};
}

Status add_domain(store::Directory& directory, store::Keys& keys, std::string_view name) {
  if (!message::is_valid_domain(name, true)) return err(fmt::format("\"{}\" is not a valid domain name", name));
  if (auto r = directory.add_domain(name); !r) return r;
  return create_dkim_keys(keys, to_lower(name), "active");
}

Result<std::int64_t> add_account(store::Directory& directory, store::Credentials& credentials,
                                 const std::string& address, const NewPassword& password) {
  auto id = directory.add_account(address, password.hash);
  if (!id) return id.error();
  if (auto r = credentials.set_scram(address, password.scram); !r) return r.error();
  return *id;
}

Result<bool> add_alias(store::Directory& directory, std::string_view address, std::string_view target) {
  auto addr = canonical_address(address);
  if (!addr) return addr.error();
  auto tgt = canonical_address(target);
  if (!tgt) return tgt.error();
  auto acct = directory.find_account(*tgt);
  if (!acct) return acct.error();
  auto target_hosted = directory.has_domain(tgt->substr(tgt->rfind('@') + 1));
  if (!target_hosted) return target_hosted.error();
  if (!*acct && *target_hosted) return err(fmt::format("alias target {} is not an account here", *tgt));
  const std::string domain = addr->substr(addr->rfind('@') + 1);
  auto hosted = directory.has_domain(domain);
  if (!hosted) return hosted.error();
  if (!*hosted) return err(fmt::format("domain {0} is not hosted here; add it first with: mailkeep domain add {0}", domain));
  // An account's own address, or one of its +tag sub-addresses, is the account's: an alias
  // must not take its mail (nor that of a disabled account, which may come back).
  const std::string local = addr->substr(0, addr->rfind('@'));
  for (const std::string& own : {*addr, local.substr(0, local.find('+')) + "@" + domain}) {
    auto owner = directory.find_account(own);
    if (!owner) return owner.error();
    if (*owner)
      return err(own == *addr ? fmt::format("{} is an account: an alias cannot take its address", *addr)
                              : fmt::format("{} is a sub-address of the account {}: an alias cannot take it", *addr, own));
  }
  if (auto r = directory.add_alias(*addr, *tgt); !r) return r.error();
  return !*acct && !*target_hosted;
}

Result<std::string> set_forward(store::Directory& directory, const store::Account& account, std::string_view to,
                                bool keep) {
  if (to.empty()) {
    if (auto r = directory.set_forward(account.id, "", true); !r) return r.error();
    return std::string();
  }
  auto target = canonical_address(to);
  if (!target) return target.error();
  auto hosted = directory.has_domain(target->substr(target->rfind('@') + 1));
  if (!hosted) return hosted.error();
  if (*hosted) {
    // Here: an account, so that a forward is one step and never a loop through aliases.
    auto other = directory.find_account(*target);
    if (!other) return other.error();
    if (!*other) return err(fmt::format("{} is not an account here: forward to an account or to an address elsewhere", *target));
    if ((*other)->id == account.id) return err("forwarding to the account's own address would loop: name another one");
    if ((*other)->disabled) return err(fmt::format("{} is disabled", *target));
  }
  if (auto r = directory.set_forward(account.id, *target, keep); !r) return r.error();
  return *target;
}

Result<std::size_t> end_hold(store::Directory& directory, store::Queue& queue, const store::Account& account,
                             bool drop) {
  auto changed = queue.account_queue_action(account.id, drop ? store::QueueAction::drop : store::QueueAction::release);
  if (!changed) return changed.error();
  if (auto r = directory.set_outbound_hold(account.id, ""); !r) return r.error();
  return *changed;
}

}  // namespace mk::admin
