#pragma once
// The evaluator: a switch over node kinds. Shared helpers (arithmetic,
// range membership, temporal properties) are used by the built-ins too.
// Stateless functions; thread-safe over immutable trees.

#include "feel/internal/ast.h"

namespace rapport::feel::internal {

struct Env {
  const Scope* scope = nullptr;
  EvalContext* ctx = nullptr;
  const Value* input = nullptr;                      // ? in unary tests
  const std::shared_ptr<const Program>* program = nullptr;  // keeps closures' code alive
};

Value Eval(const Node& n, const Env& env);
// A unary-test node against env.input: true/false/null.
Value EvalTest(const Node& n, const Env& env);

Value Add(const Value& a, const Value& b, EvalContext& ctx);
Value Sub(const Value& a, const Value& b, EvalContext& ctx);
Value Mul(const Value& a, const Value& b, EvalContext& ctx);
Value Div(const Value& a, const Value& b, EvalContext& ctx);
// true/false, or null when v is not comparable with the bounds.
Value InRange(const Value& v, const Range& r);
Value Property(const Value& v, std::string_view name, EvalContext& ctx);
// Adds months, clamping the day to the end of the month.
int64_t AddMonthsToDays(int64_t epoch_days, int64_t months);
// Builds a range value from bounds, null if bounds are incompatible.
Value MakeRangeValue(std::optional<Value> low, std::optional<Value> high, bool low_closed, bool high_closed);

}  // namespace rapport::feel::internal
