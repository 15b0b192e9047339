#include "dns/mock.hpp"

#include "base/strings.hpp"

namespace mk::dns {
namespace {

std::string key(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return to_lower(name);
}

constexpr int kMaxCnameChain = 8;

}  // namespace

void MockLookup::add(std::string_view name, int type, std::string rdata) {
  names_.insert(key(name));
  records_[{key(name), type}].push_back(std::move(rdata));
}

void MockLookup::add_address(std::string_view name, std::string_view ip) {
  auto rd = encode_address(ip);
  if (!rd) return;
  const int type = rd->size() == 4 ? kA : kAaaa;  // before the move below
  add(name, type, std::move(*rd));
}

void MockLookup::add_name(std::string_view name) { names_.insert(key(name)); }

void MockLookup::fail(std::string_view name, int type) { failing_.insert({key(name), type}); }

Result<Answer> MockLookup::answer(const std::string& name, int type, int depth) const {
  if (failing_.count({name, 0}) || failing_.count({name, type})) return err("timeout: " + name);
  Answer a;
  if (!names_.count(name)) {
    a.rcode = 3;
    a.nxdomain = true;
    return a;
  }
  if (auto it = records_.find({name, type}); it != records_.end()) {
    a.rdata = it->second;
    return a;
  }
  if (type != kCname && depth < kMaxCnameChain) {
    if (auto it = records_.find({name, kCname}); it != records_.end() && !it->second.empty()) {
      if (auto target = parse_name(it->second.front())) return answer(*target, type, depth + 1);
    }
  }
  return a;
}

boost::asio::awaitable<Result<Answer>> MockLookup::query(std::string name, int type) {
  ++queries_;
  // Into a local first: GCC 12 mishandles co_return of a non-trivial call result.
  Result<Answer> r = answer(key(name), type, 0);
  co_return r;
}

}  // namespace mk::dns
