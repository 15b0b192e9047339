// check/mta_sts.hpp: the verdict on a fetched policy and the _mta-sts TXT record.
#include "check/mta_sts.hpp"

#include <gtest/gtest.h>

#include "dns/rdata.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::check {
namespace {

const std::string kHost = "mail.check.example";

Result<outbound::FetchedPolicy> served(tlspolicy::StsMode mode, std::vector<std::string> mx) {
  const std::string text = tlspolicy::render_sts_policy(mode, mx, 604800);
  return outbound::FetchedPolicy{*tlspolicy::parse_sts_policy(text), text};
}

PublishedRrset txt(std::vector<std::string> values) {
  PublishedRrset p;
  p.owner = "_mta-sts.check.example";
  p.type = "TXT";
  for (const auto& v : values) p.rdata.push_back(dns::encode_txt(v));
  return p;
}

std::vector<std::string> lines(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(render_line(f));
  return out;
}

TEST(JudgeMtaSts, Table) {
  const auto good = served(tlspolicy::StsMode::enforce, {kHost});
  const std::string good_txt = tlspolicy::sts_txt_for(good->text);
  const std::string good_id = good_txt.substr(good_txt.find("id=") + 3);
  struct Row {
    const char* name;
    PublishedRrset txt;
    Result<outbound::FetchedPolicy> fetched;
    std::vector<std::string> want;
  };
  const Row rows[] = {
      {"enforce, matching mx, current id", txt({good_txt}), good,
       {"ok   check.example MTA-STS policy (mode enforce, mx mail.check.example)"}},
      {"testing with a wildcard", txt({}), served(tlspolicy::StsMode::testing, {"*.check.example"}),
       {"ok   check.example MTA-STS policy (mode testing, mx *.check.example)"}},
      {"cannot be fetched", txt({good_txt}),
       Result<outbound::FetchedPolicy>(err("certificate of mta-sts.check.example not valid: unable to get local issuer "
                                           "certificate")),
       {"FAIL check.example MTA-STS policy: senders cannot fetch it: certificate of mta-sts.check.example not valid: "
        "unable to get local issuer certificate \u2014 fix: make mta-sts.check.example resolve to this server (a CNAME "
        "to mail.check.example), and serve a certificate that also names mta-sts.check.example"}},
      {"mode none", txt({}), served(tlspolicy::StsMode::none, {kHost}),
       {"FAIL check.example MTA-STS policy: the policy's mode is none: senders apply nothing \u2014 fix: serve mode: "
        "enforce (mailkeep's own policy does)"}},
      {"mx patterns miss the host", txt({}), served(tlspolicy::StsMode::enforce, {"mx.elsewhere.example"}),
       {"FAIL check.example MTA-STS policy: the policy's mx patterns (mx.elsewhere.example) do not match "
        "mail.check.example: senders in enforce mode will not deliver here \u2014 fix: serve a policy with \"mx: "
        "mail.check.example\" (mailkeep's own policy has it)"}},
      {"stale id", txt({"v=STSv1; id=20200101"}), good,
       {"FAIL check.example MTA-STS policy: the _mta-sts TXT record has id 20200101, but the policy served now has id " +
        good_id + ": senders that cached an older policy keep using it \u2014 fix: publish: _mta-sts.check.example. "
        "3600 IN TXT \"" + good_txt + "\""}},
  };
  for (const auto& r : rows) EXPECT_EQ(lines(judge_mta_sts("check.example", kHost, r.txt, r.fetched)), r.want) << r.name;
}

}  // namespace
}  // namespace mk::check
