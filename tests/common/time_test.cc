#include "common/time.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(TimeTest, ParsesUtcAndOffsets) {
  auto a = ParseRfc3339("2026-03-01T12:30:00Z");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = ParseRfc3339("2026-03-01T14:30:00+02:00");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->micros, b->micros);
  EXPECT_EQ(FormatRfc3339(*a), "2026-03-01T12:30:00Z");
}

TEST(TimeTest, KeepsFractions) {
  auto t = ParseRfc3339("2015-02-23T22:28:55.111Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2015-02-23T22:28:55.111Z");
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2015-02-23T22:28:55.000123Z")), "2015-02-23T22:28:55.000123Z");
}

TEST(TimeTest, BareDateIsMidnightUtc) {
  auto t = ParseRfc3339("1999-12-31");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "1999-12-31T00:00:00Z");
  EXPECT_EQ(FormatDate(*t), "1999-12-31");
}

TEST(TimeTest, RejectsMalformedWithReason) {
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-01-01T25:00:00Z", "2026-01-01T10:00:00",
                          "yesterday", "2026-01-01T10:00:00Zjunk"}) {
    auto r = ParseRfc3339(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(TimeTest, BeforeEpochRoundTrips) {
  auto t = ParseRfc3339("1950-06-15T08:00:00.5Z");
  ASSERT_TRUE(t.ok());
  EXPECT_LT(t->micros, 0);
  EXPECT_EQ(FormatRfc3339(*t), "1950-06-15T08:00:00.500Z");
}

TEST(ClockTest, ManualClockAdvances) {
  ManualClock clock(Timestamp::FromSeconds(100));
  clock.Advance(kMicrosPerSecond);
  EXPECT_EQ(clock.Now().seconds(), 101);
}

}  // namespace
}  // namespace rapport
