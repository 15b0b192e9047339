// outbound/tls_requirement.hpp: every policy against every TLS outcome, as tables.
#include "outbound/tls_requirement.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mk::outbound {
namespace {

using Action = TlsStep::Action;

TEST(TlsRequirement, WhichPolicyGoverns) {
  struct Row {
    bool tlsa, enforce, testing;
    TlsMode mode;
  };
  const std::vector<Row> rows = {
      {false, false, false, TlsMode::opportunistic},
      {true, false, false, TlsMode::dane},
      {true, true, false, TlsMode::dane},  // RFC 8461 §2: DANE first
      {true, false, true, TlsMode::dane},
      {false, true, false, TlsMode::sts_enforce},
      {false, false, true, TlsMode::sts_testing},
  };
  for (const auto& r : rows)
    EXPECT_EQ(tls_mode(r.tlsa, r.enforce, r.testing), r.mode) << r.tlsa << r.enforce << r.testing;
}

TEST(TlsRequirement, NoStarttls) {
  struct Row {
    TlsMode mode;
    Action action;
    std::string report;
  };
  const std::vector<Row> rows = {
      {TlsMode::opportunistic, Action::go_on, ""},
      {TlsMode::sts_testing, Action::go_on, "starttls-not-supported"},
      {TlsMode::sts_enforce, Action::give_up_host, "starttls-not-supported"},
      {TlsMode::dane, Action::give_up_host, "starttls-not-supported"},
  };
  for (const auto& r : rows) {
    const auto s = on_starttls_offer(r.mode, false);
    EXPECT_EQ(s.action, r.action) << to_string(r.mode);
    EXPECT_EQ(s.report, r.report) << to_string(r.mode);
    EXPECT_EQ(s.failure.empty(), r.action != Action::give_up_host) << to_string(r.mode);
    // Offered: every policy goes on to the handshake, nothing reported yet.
    const auto offered = on_starttls_offer(r.mode, true);
    EXPECT_EQ(offered.action, Action::go_on);
    EXPECT_EQ(offered.report, "");
  }
}

TEST(TlsRequirement, HandshakeFailureNeverFallsBackUnderARequiredPolicy) {
  struct Row {
    TlsMode mode;
    Action action;
    std::string report;
  };
  const std::vector<Row> rows = {
      {TlsMode::opportunistic, Action::plain_retry, ""},
      {TlsMode::sts_testing, Action::plain_retry, "validation-failure"},
      {TlsMode::sts_enforce, Action::give_up_host, "validation-failure"},
      {TlsMode::dane, Action::give_up_host, "validation-failure"},
  };
  for (const auto& r : rows) {
    const auto s = on_handshake_failure(r.mode);
    EXPECT_EQ(s.action, r.action) << to_string(r.mode);
    EXPECT_EQ(s.report, r.report) << to_string(r.mode);
  }
}

TEST(TlsRequirement, AfterTheHandshake) {
  struct Row {
    const char* name;
    TlsMode mode;
    TlsPeer peer;
    Action action;
    std::string report;
  };
  const TlsPeer webpki{"mx.example", 0, false, true, false, false, ""};
  const TlsPeer untrusted{"mx.example", 0, false, false, false, false, "self-signed certificate"};
  const TlsPeer mismatch{"mx.example", 0, false, false, true, false, "hostname mismatch"};
  const TlsPeer expired{"mx.example", 0, false, false, false, true, "certificate has expired"};
  const TlsPeer dane_ok{"mx.example", 2, true, false, false, false, ""};
  const TlsPeer dane_bad{"mx.example", 2, false, true, false, false, "no TLSA match"};
  const TlsPeer dane_unusable{"mx.example", 0, false, false, false, false, ""};
  const std::vector<Row> rows = {
      {"opportunistic takes any certificate", TlsMode::opportunistic, untrusted, Action::go_on, "success"},
      {"enforce: valid", TlsMode::sts_enforce, webpki, Action::go_on, "success"},
      {"enforce: untrusted", TlsMode::sts_enforce, untrusted, Action::give_up_host, "certificate-not-trusted"},
      {"enforce: wrong name", TlsMode::sts_enforce, mismatch, Action::give_up_host, "certificate-host-mismatch"},
      {"enforce: expired", TlsMode::sts_enforce, expired, Action::give_up_host, "certificate-expired"},
      {"testing: reports, goes on", TlsMode::sts_testing, untrusted, Action::go_on, "certificate-not-trusted"},
      {"testing: valid", TlsMode::sts_testing, webpki, Action::go_on, "success"},
      {"dane: matched", TlsMode::dane, dane_ok, Action::go_on, "success"},
      // A WebPKI-valid certificate does not replace a TLSA match.
      {"dane: no match", TlsMode::dane, dane_bad, Action::give_up_host, "validation-failure"},
      {"dane: no usable record, TLS unauthenticated", TlsMode::dane, dane_unusable, Action::go_on, "success"},
  };
  for (const auto& r : rows) {
    const auto s = on_handshake(r.mode, r.peer);
    EXPECT_EQ(s.action, r.action) << r.name;
    EXPECT_EQ(s.report, r.report) << r.name;
    if (r.action == Action::give_up_host) {
      EXPECT_NE(s.failure.find("mx.example"), std::string::npos) << r.name;
    }
  }
}

TEST(TlsRequirement, Requiretls) {
  EXPECT_EQ(requiretls_refusal("mx.example", true, true, false, true), "");
  EXPECT_EQ(requiretls_refusal("mx.example", true, false, true, true), "");
  EXPECT_EQ(requiretls_refusal("mx.example", false, true, true, true),
            "mx.example is vouched for by neither DNSSEC nor MTA-STS");
  EXPECT_EQ(requiretls_refusal("mx.example", true, false, false, true), "no authenticated TLS to mx.example");
  EXPECT_EQ(requiretls_refusal("mx.example", true, true, true, false), "mx.example does not support REQUIRETLS");
}

}  // namespace
}  // namespace mk::outbound
