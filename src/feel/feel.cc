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

bool UnaryTests::Matches(const Value& input, const Scope& scope, EvalContext& ctx) const {
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
