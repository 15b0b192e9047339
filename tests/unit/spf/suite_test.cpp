// The RFC 7208 test suite (openspf.org, shipped by Debian's python3-spf), every case, against
// a DNS stub fed from the suite's zone data (converted by suite_to_json.py at build time).
#include <fstream>
#include <sstream>

#include <boost/json/src.hpp>
#include <gtest/gtest.h>

#include "await.hpp"
#include "dns/mock.hpp"
#include "spf/check.hpp"

namespace mk::spf {
namespace {

namespace json = boost::json;

void load_zone(dns::MockLookup& dns, const json::object& names) {
  static const std::pair<const char*, int> kTypes[] = {
      {"A", dns::kA}, {"AAAA", dns::kAaaa}, {"MX", dns::kMx}, {"TXT", dns::kTxt}, {"PTR", dns::kPtr}};
  for (const auto& [name, types] : names) {
    dns.add_name(name);
    for (const auto& [tname, type] : kTypes) {
      const auto& v = types.as_object().at(tname);
      if (v.is_string()) {  // "timeout"
        dns.fail(name, type);
        continue;
      }
      for (const auto& rec : v.as_array()) {
        switch (type) {
          case dns::kA:
          case dns::kAaaa: dns.add_address(name, rec.as_string()); break;
          case dns::kMx: {
            const auto& mx = rec.as_array();
            dns.add_mx(name, std::uint16_t(mx.at(0).to_number<int>()), mx.at(1).as_string());
            break;
          }
          case dns::kPtr: dns.add_ptr(name, rec.as_string()); break;
          case dns::kTxt: {
            std::string rdata;
            for (const auto& s : rec.as_array()) rdata += dns::encode_txt(s.as_string());
            dns.add(name, dns::kTxt, rdata);
            break;
          }
        }
      }
    }
  }
}

TEST(Rfc7208Suite, EveryCase) {
  std::ifstream in(MK_SPF_SUITE_JSON);
  ASSERT_TRUE(in) << "missing " << MK_SPF_SUITE_JSON;
  std::stringstream ss;
  ss << in.rdbuf();
  const json::value suite = json::parse(ss.str());
  int total = 0, passed = 0;
  for (const auto& sc : suite.as_array()) {
    const auto& scenario = sc.as_object();
    for (const auto& t : scenario.at("tests").as_array()) {
      const auto& test = t.as_object();
      dns::MockLookup dns;
      load_zone(dns, scenario.at("names").as_object());
      Request req;
      auto ip = IpAddr::parse(test.at("host").as_string());
      ASSERT_TRUE(ip) << test.at("id").as_string();
      req.ip = *ip;
      req.sender = test.at("mailfrom").as_string();
      req.helo = test.at("helo").as_string();
      req.default_explanation = "DEFAULT";
      const Verdict v = test::await(check_mail_from(dns, req));
      ++total;
      const std::string id(test.at("id").as_string());
      bool ok = false;
      std::string expected;
      for (const auto& r : test.at("result").as_array()) {
        expected += std::string(r.as_string()) + " ";
        if (r.as_string() == outcome_name(v.result)) ok = true;
      }
      if (ok && v.result == Outcome::fail && test.at("explanation").is_string() &&
          test.at("explanation").as_string() != v.explanation) {
        ADD_FAILURE() << id << ": explanation '" << v.explanation << "', expected '"
                      << test.at("explanation").as_string().c_str() << "'";
        continue;
      }
      if (!ok) {
        ADD_FAILURE() << id << " (" << scenario.at("description").as_string().c_str() << "): got "
                      << outcome_name(v.result) << " (" << v.problem << "), expected " << expected;
        continue;
      }
      ++passed;
    }
  }
  std::printf("RFC 7208 suite: %d of %d cases pass\n", passed, total);
  EXPECT_EQ(total, 203);  // the whole suite ran
}

}  // namespace
}  // namespace mk::spf
