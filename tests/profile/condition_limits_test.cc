// Segment conditions that crashed the store (a stack overflow in the
// condition evaluator) and runaway per-row FEEL: answered, or stopped at the
// request's budget with the limit's status.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "profile/profile.h"

namespace rapport::profile {
namespace {

std::unique_ptr<ProfileStore> Store(int rows) {
  ProfileStore::Builder b({{"age", ColumnType::kNumber}, {"postcode", ColumnType::kString}});
  for (int i = 0; i < rows; ++i) {
    b.AddRow(i + 1);
    b.SetNumber(0, i % 90);
    b.SetString(1, "p" + std::to_string(i));
  }
  return b.Finish();
}

std::string AndChain(int terms) {
  std::string s = "age > 1";
  for (int i = 1; i < terms; ++i) s += " and age > 1";
  return s;
}

TEST(ConditionLimitsTest, FifteenThousandTermAndChainCounts) {
  auto store = Store(5000);
  auto n = store->Count(AndChain(15000));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, store->Count("age > 1").value());
  QuerySpec q;
  q.measures = {"count"};
  q.filter = AndChain(15000);
  auto r = store->Query(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.at(0).measures.at(0).value(), static_cast<double>(*n));
}

TEST(ConditionLimitsTest, FlatOrChainAndFallbackChainCount) {
  auto store = Store(500);
  std::string ors = "age = 1";
  for (int i = 1; i < 15000; ++i) ors += " or age = 1";
  EXPECT_EQ(store->Count(ors).value(), store->Count("age = 1").value());
  // Terms the scan cannot run (arithmetic over a column) go to FEEL per row.
  std::string mixed = "abs(age) > 1";
  for (int i = 1; i < 15000; ++i) mixed += " and abs(age) > 1";
  auto n = store->Count(mixed);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, store->Count("age > 1").value());
}

TEST(ConditionLimitsTest, PostcodeInFiftyThousandItemsCounts) {
  auto store = Store(1000);
  std::string list = "\"p0\"";
  for (int i = 1; i < 50000; ++i) list += ", \"p" + std::to_string(i) + "\"";
  auto n = store->Count("postcode in (" + list + ")");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1000);
  auto m = store->Count("postcode in [" + list + "]");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, 1000);
}

TEST(ConditionLimitsTest, DeepNestingIsA400NamingTheCondition) {
  auto store = Store(10);
  auto n = store->Count(std::string(3000, '(') + "age > 1" + std::string(3000, ')'));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(n.status().field(), "/condition");
  EXPECT_NE(n.status().message().find("nested too deeply"), std::string::npos);
}

TEST(ConditionLimitsTest, ConstantPastTheStepLimitIs422) {
  auto store = Store(10);
  auto n = store->Count("age > count(for i in 1..100000000 return i)");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kUnprocessable) << n.status().ToString();
  EXPECT_EQ(n.status().field(), "/condition");
}

TEST(ConditionLimitsTest, PerRowRunawayStopsAtTheDeadlineWith503) {
  auto store = Store(5000);
  feel::EvalLimits l = feel::EvalLimits{}.WithTimeout(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  auto n = store->Count("count(for i in 1..100000 return i + age) > 0", l);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kUnavailable) << n.status().ToString();
  EXPECT_EQ(n.status().field(), "/condition");
  EXPECT_LT(took, std::chrono::seconds(2));
  // The analytics filter says /filter.
  QuerySpec q;
  q.measures = {"count"};
  q.filter = "count(for i in 1..100000 return i + age) > 0";
  q.limits = feel::EvalLimits{}.WithTimeout(std::chrono::milliseconds(100));
  auto r = store->Query(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().field(), "/filter");
}

TEST(ConditionLimitsTest, CancelledCountStopsWith503AndCreatesNoSegment) {
  auto store = Store(100);
  std::atomic<bool> cancelled{true};
  feel::EvalLimits l;
  l.cancelled = &cancelled;
  auto s = store->CreateSegment("slow", "", "count(for i in 1..100000 return i + age) > 0", l);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(store->ListSegments().empty());
}

TEST(ConditionLimitsTest, LimitsAreReadFromProfileJson) {
  auto o = ParseProfileOptions(R"({"limits": {"maxSteps": 5000, "maxMemoryBytes": 1048576, "timeoutMs": 250}})", {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->limits.max_steps, 5000u);
  EXPECT_EQ(o->limits.max_bytes, 1048576u);
  EXPECT_EQ(o->eval_timeout, std::chrono::milliseconds(250));
  auto bad = ParseProfileOptions(R"({"limits": {"timeoutMs": 0}})", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "/limits/timeoutMs");
}

}  // namespace
}  // namespace rapport::profile
