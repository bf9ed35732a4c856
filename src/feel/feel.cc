// Compilation entry points and evaluation of compiled programs.

#include "feel/feel.h"

#include "feel/internal/ast.h"
#include "feel/internal/builtins.h"
#include "feel/internal/eval.h"

namespace rapport::feel {

Result<Expression> Compile(std::string_view text, const CompileOptions& options) {
  RP_ASSIGN_OR_RETURN(auto root, internal::ParseExpression(text, options));
  auto p = std::make_shared<Program>();
  p->text = std::string(text);
  p->root = std::move(root);
  return Expression(std::move(p));
}

Result<UnaryTests> CompileUnaryTests(std::string_view text, const CompileOptions& options) {
  RP_ASSIGN_OR_RETURN(auto root, internal::ParseUnaryTests(text, options));
  auto p = std::make_shared<Program>();
  p->text = std::string(text);
  p->root = std::move(root);
  p->unary_tests = true;
  return UnaryTests(std::move(p));
}

int ErrorPosition(const Status& status) {
  const std::string& f = status.field();
  if (f.rfind("position ", 0) != 0) return -1;
  try {
    return std::stoi(f.substr(9));
  } catch (...) {
    return -1;
  }
}

Value Expression::Evaluate(const Scope& scope, EvalContext& ctx) const {
  internal::Env env;
  env.scope = &scope;
  env.ctx = &ctx;
  env.program = &program_;
  return internal::Eval(*program_->root, env);
}

Value Expression::Evaluate(const Scope& scope) const {
  EvalContext ctx;
  return Evaluate(scope, ctx);
}

const std::string& Expression::text() const { return program_->text; }

Value UnaryTests::Evaluate(const Value& input, const Scope& scope, EvalContext& ctx) const {
  internal::Env env;
  env.scope = &scope;
  env.ctx = &ctx;
  env.input = &input;
  env.program = &program_;
  return internal::EvalTest(*program_->root, env);
}

namespace {

// Decision-table fast path: literal comparisons and literal ranges on
// numbers and strings, decided without building result values. Returns
// 1 (match), 0 (no match) or -1 (not handled here).
int FastMatch(const internal::Node& n, const Value& in) {
  using internal::Cmp;
  using internal::NodeKind;
  auto cmp3 = [](const Value& a, const Value& b, int* out) {
    if (a.type() == Type::kNumber && b.type() == Type::kNumber) {
      *out = Decimal::Compare(a.number(), b.number());
      return true;
    }
    if (a.type() == Type::kString && b.type() == Type::kString) {
      int c = a.string().compare(b.string());
      *out = c < 0 ? -1 : (c > 0 ? 1 : 0);
      return true;
    }
    return false;
  };
  switch (n.kind) {
    case NodeKind::kUtAny: return 1;
    case NodeKind::kUtCompareLit: {
      int c;
      if (!cmp3(in, n.value, &c)) return -1;
      switch (n.cmp) {
        case Cmp::kEq: return c == 0;
        case Cmp::kNe: return c != 0;
        case Cmp::kLt: return c < 0;
        case Cmp::kLe: return c <= 0;
        case Cmp::kGt: return c > 0;
        case Cmp::kGe: return c >= 0;
      }
      return -1;
    }
    case NodeKind::kUtRangeLit: {
      const Range& r = n.value.range();
      int c;
      if (!cmp3(in, *r.low, &c)) return -1;
      if (c < 0 || (c == 0 && !r.low_closed)) return 0;
      if (!cmp3(in, *r.high, &c)) return -1;
      return c < 0 || (c == 0 && r.high_closed);
    }
    case NodeKind::kUtOr: {
      for (const auto& k : n.kids) {
        int m = FastMatch(*k, in);
        if (m != 0) return m;  // match, or fall back to the full evaluation
      }
      return 0;
    }
    default: return -1;
  }
}

}  // namespace

bool UnaryTests::Matches(const Value& input, const Scope& scope, EvalContext& ctx) const {
  int fast = FastMatch(*program_->root, input);
  if (fast >= 0) return fast == 1;
  Value r = Evaluate(input, scope, ctx);
  return r.is(Type::kBoolean) && r.boolean();
}

bool UnaryTests::is_any() const { return program_->root->kind == internal::NodeKind::kUtAny; }

const std::string& UnaryTests::text() const { return program_->text; }

Value EvaluateText(std::string_view text, const Scope& scope, EvalContext& ctx) {
  auto e = Compile(text);
  if (!e.ok()) {
    ctx.Warn(e.status().message());
    return Value();
  }
  return e->Evaluate(scope, ctx);
}

Value CallFunction(const Value& fn, std::span<const Value> args, EvalContext& ctx) {
  if (!fn.is(Type::kFunction)) {
    ctx.Warn("not a function: " + fn.ToString());
    return Value();
  }
  return internal::Invoke(fn, args, {}, ctx);
}

std::shared_ptr<const Function> FindBuiltin(std::string_view name) {
  const internal::Builtin* b = internal::LookupBuiltin(name);
  return b ? b->as_value : nullptr;
}

}  // namespace rapport::feel
