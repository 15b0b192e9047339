// Reports::add_daily_counts / daily_counts: counters' daily totals, added up across flushes
// and restarts, read back by day range.
#include <gtest/gtest.h>

#include "unit/store/store_fixture.hpp"

namespace mk::store {
namespace {

class DailyCountsTest : public StoreSuite {};

MK_EVERY_BACKEND(DailyCountsTest);

TEST_P(DailyCountsTest, AddsUpPerDayNameAndLabels) {
  const std::string dane = "{result=\"delivered\",tls=\"dane\"}";
  ASSERT_TRUE(store_->add_daily_counts({{20000, "mailkeep_outbound_deliveries_total", dane, 3},
                                        {20000, "mailkeep_outbound_deliveries_total", "{result=\"bounced\",tls=\"tls\"}", 1},
                                        {20001, "mailkeep_outbound_deliveries_total", dane, 5}})
                  .ok());
  reopen();
  ASSERT_TRUE(store_->add_daily_counts({{20000, "mailkeep_outbound_deliveries_total", dane, 4}}).ok());
  auto day = store_->daily_counts(20000, 20001);
  ASSERT_TRUE(day.ok()) << day.error().message;
  ASSERT_EQ(day->size(), 2u);
  EXPECT_EQ((*day)[1].labels, dane);
  EXPECT_EQ((*day)[1].value, 7);
  EXPECT_EQ((*day)[0].value, 1);
  EXPECT_EQ(store_->daily_counts(19999, 20002)->size(), 3u);
  EXPECT_TRUE(store_->daily_counts(20002, 20100)->empty());
}

}  // namespace
}  // namespace mk::store
