// store/directory.cpp: the rules of the Directory role, above every backend: what makes an
// account address valid, that its domain is hosted, and which mailboxes it starts with.
#include "store/directory.hpp"

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/mail.hpp"

namespace mk::store {

Result<std::int64_t> Directory::add_account(std::string_view address, std::string_view password_hash) {
  const std::string addr = to_lower(address);
  const auto at = addr.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == addr.size())
    return error(Errc::invalid, "account address must be local@domain");
  const std::string domain = addr.substr(at + 1);
  auto hosted = has_domain(domain);
  if (!hosted) return hosted.error();
  if (!*hosted)
    return error(Errc::not_found,
                 fmt::format("domain {} is not hosted here; add it first with: mailkeep domain add {}", domain, domain));
  std::vector<NewMailbox> mailboxes;
  for (const auto& mb : kDefaultMailboxes) mailboxes.push_back(NewMailbox{mb.name, mb.special_use, uidvalidity_now()});
  return insert_account(addr, password_hash, mailboxes);
}

}  // namespace mk::store
