// dns/mock.hpp: a Lookup answering from a record map, for tests of the specification modules
// and the SPF test suite. Names are case-insensitive; CNAMEs are followed like a resolver does.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dns/lookup.hpp"
#include "dns/rdata.hpp"

namespace mk::dns {

class MockLookup final : public Lookup {
 public:
  // A name that exists but has no records of the asked type answers NOERROR with no data;
  // a name never mentioned answers NXDOMAIN.
  void add(std::string_view name, int type, std::string rdata);
  void add_txt(std::string_view name, std::string_view text) { add(name, kTxt, encode_txt(text)); }
  void add_address(std::string_view name, std::string_view ip);
  void add_mx(std::string_view name, std::uint16_t pref, std::string_view host) {
    add(name, kMx, encode_mx(pref, host));
  }
  void add_ptr(std::string_view name, std::string_view host) { add(name, kPtr, encode_name(host)); }
  void add_cname(std::string_view name, std::string_view target) { add(name, kCname, encode_name(target)); }
  void add_name(std::string_view name);             // exists, no records
  void fail(std::string_view name, int type = 0);   // a timeout for this type (0: every type)

  boost::asio::awaitable<Result<Answer>> query(std::string name, int type) override;

  std::size_t queries() const { return queries_; }

 private:
  Result<Answer> answer(const std::string& name, int type, int depth) const;
  std::map<std::pair<std::string, int>, std::vector<std::string>> records_;
  std::set<std::string> names_;
  std::set<std::pair<std::string, int>> failing_;
  std::size_t queries_ = 0;
};

}  // namespace mk::dns
