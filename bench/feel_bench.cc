// FEEL evaluation cost: unary tests against literals (the decision-table hot
// path), a mixed expression, and compilation. Baseline: the same comparison
// written directly in C++ on doubles/strings, in the same process.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "feel/feel.h"

namespace rapport::feel {
namespace {

UnaryTests MustTests(const char* text) { return *CompileUnaryTests(text); }

void BM_Baseline_NativeDoubleLess(benchmark::State& state) {
  double input = 5, limit = 10;
  for (auto _ : state) {
    benchmark::DoNotOptimize(input);
    benchmark::DoNotOptimize(input < limit);
  }
}
BENCHMARK(BM_Baseline_NativeDoubleLess);

void BM_Feel_UnaryNumberLess(benchmark::State& state) {
  UnaryTests t = MustTests("< 10");
  Value input = Value::Number(5);
  Scope scope;
  EvalContext ctx;
  for (auto _ : state) {
    benchmark::DoNotOptimize(input);
    benchmark::DoNotOptimize(t.Matches(input, scope, ctx));
  }
}
BENCHMARK(BM_Feel_UnaryNumberLess);

void BM_Feel_UnaryDecimalLess(benchmark::State& state) {
  UnaryTests t = MustTests("< 10.25");
  Value input = Value::Number(*Decimal::Parse("5.5"));
  Scope scope;
  EvalContext ctx;
  for (auto _ : state) benchmark::DoNotOptimize(t.Matches(input, scope, ctx));
}
BENCHMARK(BM_Feel_UnaryDecimalLess);

void BM_Baseline_NativeStringEq(benchmark::State& state) {
  std::string input = "gold", lit = "gold";
  for (auto _ : state) {
    benchmark::DoNotOptimize(input);
    benchmark::DoNotOptimize(input == lit);
  }
}
BENCHMARK(BM_Baseline_NativeStringEq);

void BM_Feel_UnaryStringEq(benchmark::State& state) {
  UnaryTests t = MustTests("\"gold\"");
  Value input = Value::String("gold");
  Scope scope;
  EvalContext ctx;
  for (auto _ : state) benchmark::DoNotOptimize(t.Matches(input, scope, ctx));
}
BENCHMARK(BM_Feel_UnaryStringEq);

void BM_Feel_UnaryStringList(benchmark::State& state) {
  UnaryTests t = MustTests("\"silver\", \"gold\", \"platinum\"");
  Value input = Value::String("platinum");
  Scope scope;
  EvalContext ctx;
  for (auto _ : state) benchmark::DoNotOptimize(t.Matches(input, scope, ctx));
}
BENCHMARK(BM_Feel_UnaryStringList);

void BM_Feel_UnaryRange(benchmark::State& state) {
  UnaryTests t = MustTests("[18..65)");
  Value input = Value::Number(42);
  Scope scope;
  EvalContext ctx;
  for (auto _ : state) benchmark::DoNotOptimize(t.Matches(input, scope, ctx));
}
BENCHMARK(BM_Feel_UnaryRange);

// A 20-row single-input column: the rows a UNIQUE table would scan.
void BM_Feel_TwentyRowColumn(benchmark::State& state) {
  std::vector<UnaryTests> rows;
  for (int i = 0; i < 20; ++i) {
    std::string text = "[" + std::to_string(i * 10) + ".." + std::to_string(i * 10 + 10) + ")";
    rows.push_back(MustTests(text.c_str()));
  }
  Value input = Value::Number(195);
  Scope scope;
  EvalContext ctx;
  for (auto _ : state) {
    ctx.ResetUsage();
    int matched = -1;
    for (int i = 0; i < 20; ++i) {
      if (rows[i].Matches(input, scope, ctx)) matched = i;
    }
    benchmark::DoNotOptimize(matched);
  }
}
BENCHMARK(BM_Feel_TwentyRowColumn);

void BM_Feel_MixedExpression(benchmark::State& state) {
  CompileOptions opts{{"Monthly Salary"}};
  Expression e = *Compile("if Monthly Salary * 12 > 100000 and age in [18..65] then \"A\" else \"B\"", opts);
  Scope scope;
  scope.Set("Monthly Salary", Value::Number(10000));
  scope.Set("age", Value::Number(42));
  EvalContext ctx;
  for (auto _ : state) {
    ctx.ResetUsage();  // each iteration is one evaluation, with its own budget
    benchmark::DoNotOptimize(e.Evaluate(scope, ctx));
  }
}
BENCHMARK(BM_Feel_MixedExpression);

void BM_Feel_BuiltinCall(benchmark::State& state) {
  Expression e = *Compile("sum(for i in [1, 2, 3, 4, 5] return i * x)");
  Scope scope;
  scope.Set("x", Value::Number(3));
  EvalContext ctx;
  for (auto _ : state) {
    ctx.ResetUsage();  // each iteration is one evaluation, with its own budget
    benchmark::DoNotOptimize(e.Evaluate(scope, ctx));
  }
}
BENCHMARK(BM_Feel_BuiltinCall);

void BM_Feel_Compile(benchmark::State& state) {
  for (auto _ : state) {
    auto e = Compile("if a > 10 and b in [\"x\", \"y\"] then date(\"2020-01-01\") + duration(\"P1D\") else null");
    benchmark::DoNotOptimize(e.ok());
  }
}
BENCHMARK(BM_Feel_Compile);

}  // namespace
}  // namespace rapport::feel

BENCHMARK_MAIN();
