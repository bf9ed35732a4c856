// The budget of an evaluation and the compile-time bounds: long flat
// chains and huge lists work, deep nesting is refused when compiling, and
// runaway expressions stop at their step, memory, nesting or time limit, or
// when cancelled.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "feel/feel.h"

namespace rapport::feel {
namespace {

std::string Repeat(const std::string& first, const std::string& sep_term, int n) {
  std::string s = first;
  for (int i = 1; i < n; ++i) s += sep_term;
  return s;
}

Value Evaluated(const std::string& text, EvalContext& ctx, const Scope& scope = Scope()) {
  auto e = Compile(text);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (!e.ok()) return Value();
  return e->Evaluate(scope, ctx);
}

TEST(FeelLimitsTest, FlatAndChainOf15000TermsEvaluates) {
  Scope scope;
  scope.Set("age", Value::Number(40));
  EvalContext ctx;
  Value v = Evaluated(Repeat("age > 1", " and age > 1", 15000), ctx, scope);
  ASSERT_TRUE(v.is(Type::kBoolean));
  EXPECT_TRUE(v.boolean());
  EXPECT_FALSE(ctx.stopped());
}

TEST(FeelLimitsTest, InListOf50000ItemsEvaluates) {
  std::string list = "\"p0\"";
  for (int i = 1; i < 50000; ++i) list += ", \"p" + std::to_string(i) + "\"";
  Scope scope;
  scope.Set("postcode", Value::String("p49999"));
  EvalContext ctx;
  Value v = Evaluated("postcode in (" + list + ")", ctx, scope);
  ASSERT_TRUE(v.is(Type::kBoolean));
  EXPECT_TRUE(v.boolean());
}

TEST(FeelLimitsTest, DeepNestingIsRefusedAtCompileNamingThePosition) {
  for (const std::string& text : {std::string(5000, '(') + "1" + std::string(5000, ')'),
                                  Repeat("1", " + 1", 15000),  // a left-deep chain
                                  "x" + Repeat("", ".a", 5000), std::string(3000, '-') + "1",
                                  "1 instance of " + Repeat("list<", "list<", 3000)}) {
    auto e = Compile(text);
    ASSERT_FALSE(e.ok()) << text.substr(0, 40);
    EXPECT_NE(e.status().message().find("nested too deeply"), std::string::npos) << e.status().message();
    EXPECT_GE(ErrorPosition(e.status()), 0);
  }
  EXPECT_TRUE(Compile(Repeat("1", " + 1", 300)).ok());  // real arithmetic stays fine
}

TEST(FeelLimitsTest, TextBeyondTheSizeLimitIsRefused) {
  CompileOptions o;
  o.max_text_bytes = 100;
  auto e = Compile(std::string(101, '1'), o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().field(), "position 100");
  EXPECT_NE(e.status().message().find("size limit"), std::string::npos);
}

TEST(FeelLimitsTest, ForOverAHundredMillionStopsAtTheStepLimitAt422) {
  EvalContext ctx;
  auto start = std::chrono::steady_clock::now();
  Value v = Evaluated("count(for i in 1..100000000 return i) > 0", ctx);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(ctx.exceeded(), LimitExceeded::kSteps);
  Status s = ctx.LimitStatus("/condition");
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable);
  EXPECT_EQ(s.field(), "/condition");
  EXPECT_NE(s.message().find("1000000 steps"), std::string::npos) << s.message();
}

TEST(FeelLimitsTest, ForOverAHundredThousandFitsTheDefaultBudget) {
  EvalContext ctx;
  Value v = Evaluated("count(for i in 1..100000 return i)", ctx);
  ASSERT_TRUE(v.is(Type::kNumber)) << (ctx.warnings().empty() ? "" : ctx.warnings()[0]);
  EXPECT_EQ(v.number(), Decimal::FromInt(100000));
  EvalLimits small;
  small.max_steps = 10'000;
  EvalContext tight(nullptr, small);
  EXPECT_TRUE(Evaluated("count(for i in 1..100000 return i)", tight).is_null());
  EXPECT_EQ(tight.exceeded(), LimitExceeded::kSteps);
}

TEST(FeelLimitsTest, MemoryLimitStopsGrowingStrings) {
  EvalLimits l;
  l.max_bytes = 1 << 20;
  EvalContext ctx(nullptr, l);
  // Each step doubles the string: 2^30 bytes without a limit.
  Value v = Evaluated("{f: function(s, n) if n = 0 then s else f(s + s, n - 1), r: f(\"ab\", 30)}.r", ctx);
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(ctx.exceeded(), LimitExceeded::kMemory);
  EXPECT_EQ(ctx.LimitStatus("/x").code(), StatusCode::kUnprocessable);
}

TEST(FeelLimitsTest, UnboundedRecursionStopsAtTheNestingLimit) {
  EvalContext ctx;
  Value v = Evaluated("{f: function(n) if n = 0 then 0 else 1 + f(n - 1), r: f(1000000)}.r", ctx);
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(ctx.exceeded(), LimitExceeded::kDepth);
  EXPECT_EQ(ctx.LimitStatus("/x").code(), StatusCode::kUnprocessable);
  EvalContext fine;
  EXPECT_EQ(Evaluated("{f: function(n) if n = 0 then 0 else 1 + f(n - 1), r: f(100)}.r", fine).number(),
            Decimal::FromInt(100));
}

TEST(FeelLimitsTest, DeadlineStopsAt503) {
  EvalLimits l;
  l.max_steps = uint64_t{1} << 40;
  l = l.WithTimeout(std::chrono::milliseconds(50));
  EvalContext ctx(nullptr, l);
  auto start = std::chrono::steady_clock::now();
  Value v = Evaluated("count(for i in 1..1000, j in 1..1000, k in 1..1000 return i)", ctx);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(ctx.exceeded(), LimitExceeded::kTime);
  Status s = ctx.LimitStatus("/condition");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("50 ms"), std::string::npos) << s.message();
}

TEST(FeelLimitsTest, CancellationFlagStopsAt503) {
  std::atomic<bool> cancelled{false};
  EvalLimits l;
  l.max_steps = uint64_t{1} << 40;
  l.cancelled = &cancelled;
  EvalContext ctx(nullptr, l);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the evaluation is under way by then
    cancelled = true;
  });
  Value v = Evaluated("count(for i in 1..1000, j in 1..1000, k in 1..1000 return i)", ctx);
  canceller.join();
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(ctx.exceeded(), LimitExceeded::kCancelled);
  EXPECT_EQ(ctx.LimitStatus("").code(), StatusCode::kUnavailable);
}

TEST(FeelLimitsTest, PartialIsOnlyCopiedForBodiesThatReadIt) {
  EvalContext ctx;
  // Quadratic before: each iteration copied every result so far.
  Value v = Evaluated("count(for i in 1..200000 return i)", ctx);
  ASSERT_TRUE(v.is(Type::kNumber));
  EvalContext p;
  Value fib = Evaluated("for i in 0..6 return if i < 2 then i else partial[-1] + partial[-2]", p);
  EXPECT_EQ(fib.ToString(), "[0, 1, 1, 2, 3, 5, 8]");
}

}  // namespace
}  // namespace rapport::feel
