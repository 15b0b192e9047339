// SRS: forward and back, and everything a forger could try.
#include <gtest/gtest.h>

#include "srs/srs.hpp"

namespace mk::srs {
namespace {

constexpr std::int64_t kNow = 1764547200;  // 2025-12-01
constexpr std::int64_t kDay = 86400;

TEST(Srs, RoundTrip) {
  Srs s("secret one");
  auto f = s.forward("alice=x@sender.example", "fwd.example", kNow);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->starts_with("SRS0=")) << *f;
  EXPECT_TRUE(f->ends_with("=sender.example=alice=x@fwd.example")) << *f;
  EXPECT_EQ(s.reverse(*f, kNow + 3 * kDay), "alice=x@sender.example");
  // Mail systems may lower-case the address.
  std::string lower = *f;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(s.reverse(lower, kNow), "alice=x@sender.example");
  // Our own domain's senders pass SPF already.
  EXPECT_EQ(s.forward("bob@fwd.example", "fwd.example", kNow), "bob@fwd.example");
}

TEST(Srs, RefusesForgeriesAndOldAddresses) {
  Srs s("secret one");
  const std::string f = *s.forward("alice@sender.example", "fwd.example", kNow);
  EXPECT_FALSE(s.reverse(f, kNow + 22 * kDay));             // expired
  EXPECT_FALSE(Srs("other secret").reverse(f, kNow));        // another key
  std::string other = f;
  other.replace(other.find("alice"), 5, "mallo");            // another original sender
  EXPECT_FALSE(s.reverse(other, kNow));
  EXPECT_FALSE(s.reverse("SRS0=AAAA=AA=victim.example=x@fwd.example", kNow));
  EXPECT_FALSE(s.reverse("alice@fwd.example", kNow));
  EXPECT_FALSE(s.reverse("SRS0=broken@fwd.example", kNow));
  // A long original address (a list's VERP sender) still gets one, longer than 64 octets,
  // which reverses; one too long for any local part we accept is not rewritten.
  const auto longer = s.forward(std::string(60, 'a') + "@sender.example", "fwd.example", kNow);
  ASSERT_TRUE(longer.has_value());
  EXPECT_GT(longer->find('@'), 64u);
  EXPECT_EQ(s.reverse(*longer, kNow), std::string(60, 'a') + "@sender.example");
  EXPECT_FALSE(s.forward(std::string(230, 'a') + "@sender.example", "fwd.example", kNow));
  // A local part that fits, but not with a long forwarding domain: the whole path must fit.
  const std::string domain = std::string(60, 'f') + "." + std::string(30, 'g') + ".example";
  const auto fits = s.forward(std::string(150, 'a') + "@s.example", "fwd.example", kNow);
  ASSERT_TRUE(fits.has_value());
  EXPECT_LE(fits->size() + 2, message::kMaxPath);
  EXPECT_FALSE(s.forward(std::string(150, 'a') + "@s.example", domain, kNow));
}

}  // namespace
}  // namespace mk::srs
