// Tests for certs/renewal.hpp: the names a certificate covers, when it is renewed, and how
// long a failure waits.
#include "certs/renewal.hpp"

#include <gtest/gtest.h>

namespace mk::certs {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kDay = 24 * 3600;

TEST(Renewal, TheNamesAreTheHostnameAndEachDomainsWebNames) {
  EXPECT_EQ(wanted_names("Mail.Example.org", {"example.org", "Other.example"}),
            (std::vector<std::string>{"autoconfig.example.org", "autoconfig.other.example", "autodiscover.example.org",
                                      "autodiscover.other.example", "mail.example.org", "mta-sts.example.org",
                                      "mta-sts.other.example"}));
  EXPECT_EQ(wanted_names("mail.example.org", {}), std::vector<std::string>{"mail.example.org"});
}

TEST(Renewal, AThirdOfTheLifetimeIsLeftWhenItRenews) {
  const Held held{{"mail.example.org", "mta-sts.example.org"}, 1000 * kDay, 1090 * kDay};
  EXPECT_EQ(renew_at(held, {"mail.example.org"}), 1060 * kDay);  // 30 days before the end of 90
  EXPECT_EQ(renew_at(held, {"mail.example.org", "mta-sts.example.org"}), 1060 * kDay);
}

TEST(Renewal, AtOnceWhenThereIsNothingToKeep) {
  EXPECT_EQ(renew_at(std::nullopt, {"mail.example.org"}), 0);
  // A name that resolves now and is not covered: order again.
  const Held held{{"mail.example.org"}, 1000 * kDay, 1090 * kDay};
  EXPECT_EQ(renew_at(held, {"mail.example.org", "mta-sts.example.org"}), 0);
  Held rolled = held;
  rolled.current_key = false;  // the key was rolled over: the certificate must follow
  EXPECT_EQ(renew_at(rolled, {"mail.example.org"}), 0);
  EXPECT_EQ(renew_at(Held{{"mail.example.org"}, 5, 5}, {"mail.example.org"}), 0);  // nonsense dates
}

TEST(Renewal, FailuresBackOffExponentiallyUpToSixHours) {
  EXPECT_EQ(backoff(1, std::nullopt), 60s);
  EXPECT_EQ(backoff(2, std::nullopt), 120s);
  EXPECT_EQ(backoff(5, std::nullopt), 960s);
  EXPECT_EQ(backoff(9, std::nullopt), 15360s);
  EXPECT_EQ(backoff(10, std::nullopt), 6h);
  EXPECT_EQ(backoff(1000, std::nullopt), 6h);
  EXPECT_EQ(backoff(1, 3600s), 3600s);  // the CA's Retry-After wins when longer
  EXPECT_EQ(backoff(10, 60s), 6h);
  EXPECT_EQ(backoff(1, std::chrono::seconds(365 * 24 * 3600)), 24h);  // a year would outlive the certificate
}

}  // namespace
}  // namespace mk::certs
