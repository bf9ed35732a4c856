// Table-driven FEEL tests: every line of expressions.txt is
// `expression ==> expected`, where expected is FEEL text evaluated to the
// value the expression must produce (or `error` for a compile error).
// unary_tests.txt lines are `input ; tests ==> true|false|null`.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/time.h"
#include "feel/feel.h"

namespace rapport::feel {
namespace {

struct Case {
  int line;
  std::string lhs;
  std::string rhs;
};

std::vector<Case> ReadCases(const std::string& file) {
  std::ifstream in(std::string(RAPPORT_SOURCE_DIR) + "/tests/feel/" + file);
  std::vector<Case> cases;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    size_t p = line.rfind(" ==> ");
    if (p == std::string::npos) {
      ADD_FAILURE() << file << ":" << n << ": no ' ==> ' in: " << line;
      continue;
    }
    cases.push_back({n, line.substr(0, p), line.substr(p + 5)});
  }
  return cases;
}

// The scope every case sees: a few variables with spaces in their names.
Scope TestScope() {
  Scope s;
  s.Set("x", Value::Number(5));
  s.Set("Monthly Salary", Value::Number(10000));
  s.Set("Customer Name", Value::String("Ada"));
  s.Set("applicant", Value::Context({{"age", Value::Number(42)},
                                     {"name", Value::String("Bob")},
                                     {"monthly income", Value::Number(3000)}}));
  s.Set("items", Value::List({Value::Context({{"id", Value::Number(1)}, {"price", Value::Number(10)}}),
                              Value::Context({{"id", Value::Number(2)}, {"price", Value::Number(25)}}),
                              Value::Context({{"id", Value::Number(3)}, {"price", Value::Number(7)}})}));
  return s;
}

CompileOptions TestOptions() { return CompileOptions{{"Monthly Salary", "Customer Name", "monthly income"}}; }

bool SameValue(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.type() != b.type()) return false;
  if (a.is(Type::kList)) {
    if (a.list().size() != b.list().size()) return false;
    for (size_t i = 0; i < a.list().size(); ++i) {
      if (!SameValue(a.list()[i], b.list()[i])) return false;
    }
    return true;
  }
  if (a.is(Type::kContext)) {
    if (a.context().size() != b.context().size()) return false;
    for (const auto& [k, v] : a.context()) {
      const Value* o = b.Get(k);
      if (!o || !SameValue(v, *o)) return false;
    }
    return true;
  }
  return a == b;
}

TEST(FeelExpressionsTest, TableOfExpressions) {
  auto cases = ReadCases("expressions.txt");
  ASSERT_GT(cases.size(), 100u);
  Scope scope = TestScope();
  ManualClock clock(Timestamp::FromSeconds(1'700'000'000));  // 2023-11-14T22:13:20Z
  for (const Case& c : cases) {
    SCOPED_TRACE("expressions.txt:" + std::to_string(c.line) + ": " + c.lhs);
    auto compiled = Compile(c.lhs, TestOptions());
    if (c.rhs == "error") {
      EXPECT_FALSE(compiled.ok()) << "expected a compile error";
      if (!compiled.ok()) {
        EXPECT_GE(ErrorPosition(compiled.status()), 0);
      }
      continue;
    }
    if (!compiled.ok()) {
      ADD_FAILURE() << compiled.status().ToString();
      continue;
    }
    auto expected_expr = Compile(c.rhs, TestOptions());
    ASSERT_TRUE(expected_expr.ok()) << "expected side: " << expected_expr.status().ToString();
    EvalContext ctx(&clock), ctx2(&clock);
    Value got = compiled->Evaluate(scope, ctx);
    Value want = expected_expr->Evaluate(scope, ctx2);
    EXPECT_TRUE(SameValue(got, want)) << "got " << got.ToString() << ", want " << want.ToString();
    if (want.is_null()) continue;
    // Literal text round-trips for data values.
    if (!got.is(Type::kFunction)) {
      auto again = Compile(got.ToString());
      ASSERT_TRUE(again.ok()) << got.ToString();
      Value back = again->Evaluate(scope, ctx);
      EXPECT_TRUE(SameValue(back, got)) << "ToString round trip: " << got.ToString() << " -> " << back.ToString();
    }
  }
}

TEST(FeelExpressionsTest, TableOfUnaryTests) {
  auto cases = ReadCases("unary_tests.txt");
  ASSERT_GT(cases.size(), 30u);
  Scope scope = TestScope();
  for (const Case& c : cases) {
    SCOPED_TRACE("unary_tests.txt:" + std::to_string(c.line) + ": " + c.lhs);
    size_t semi = c.lhs.find(" ; ");
    ASSERT_NE(semi, std::string::npos);
    auto input_expr = Compile(c.lhs.substr(0, semi));
    ASSERT_TRUE(input_expr.ok()) << input_expr.status().ToString();
    auto tests = CompileUnaryTests(c.lhs.substr(semi + 3), TestOptions());
    if (c.rhs == "error") {
      EXPECT_FALSE(tests.ok());
      continue;
    }
    if (!tests.ok()) {
      ADD_FAILURE() << tests.status().ToString();
      continue;
    }
    EvalContext ctx;
    Value input = input_expr->Evaluate(scope, ctx);
    Value r = tests->Evaluate(input, scope, ctx);
    EXPECT_EQ(r.ToString(), c.rhs);
    EXPECT_EQ(tests->Matches(input, scope, ctx), c.rhs == "true");
  }
}

}  // namespace
}  // namespace rapport::feel
