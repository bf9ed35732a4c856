// Compilation and evaluation of boxed expressions.

#include "dmn/internal/boxed.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/text.h"
#include "dmn/internal/runtime.h"

namespace rapport::dmn::internal {
namespace {

std::string Shorten(std::string_view text) {
  text = text::Trim(text);
  if (text.size() <= 60) return std::string(text);
  return std::string(text.substr(0, 57)) + "...";
}

Status FeelError(const CompileEnv& env, int line, std::string_view what, std::string_view text,
                 const Status& status) {
  std::string msg = env.source + ":" + std::to_string(line) + ": " + env.where;
  if (!what.empty()) msg += ": " + std::string(what);
  msg += ": '" + Shorten(text) + "': " + status.message();
  int pos = feel::ErrorPosition(status);
  if (pos >= 0) msg += " (at character " + std::to_string(pos + 1) + ")";
  return Status::InvalidArgument(msg);
}

Result<feel::Expression> CompileText(const CompileEnv& env, int line, std::string_view what, std::string_view text) {
  std::string_view t = text::Trim(text);
  auto r = feel::Compile(t.empty() ? std::string_view("null") : t, *env.feel);
  if (!r.ok()) return FeelError(env, line, what, text, r.status());
  return r;
}

Result<feel::UnaryTests> CompileTests(const CompileEnv& env, int line, std::string_view what, std::string_view text) {
  std::string_view t = text::Trim(text);
  auto r = feel::CompileUnaryTests(t.empty() ? std::string_view("-") : t, *env.feel);
  if (!r.ok()) return FeelError(env, line, what, text, r.status());
  return r;
}

Result<const TypeDef*> Type(CompileEnv& env, int line, std::string_view type_ref) {
  auto t = ResolveType(*env.defs, type_ref);
  if (!t.ok()) {
    return Status::InvalidArgument(env.source + ":" + std::to_string(line) + ": " + env.where + ": " +
                                   t.status().message());
  }
  return t;
}

Status CompileChild(CompileEnv& env, Node* n) { return n == nullptr ? Status::Ok() : n->Compile(env); }

feel::Value EvalChild(const Node* n, const feel::Scope& scope, EvalEnv& env) {
  return n == nullptr ? feel::Value() : n->Eval(scope, env);
}

// Items of an iteration domain: a list, a range of integers, or one value.
std::vector<feel::Value> Domain(const feel::Value& v, EvalEnv& env) {
  if (v.is(feel::Type::kList)) return v.list();
  if (v.is(feel::Type::kRange)) {
    const feel::Range& r = v.range();
    bool ea = false, eb = false;
    if (r.low && r.high && r.low->is(feel::Type::kNumber) && r.high->is(feel::Type::kNumber)) {
      int64_t a = r.low->number().ToInt64(&ea), b = r.high->number().ToInt64(&eb);
      if (ea && eb) {
        if (!r.low_closed) a += a <= b ? 1 : -1;
        if (!r.high_closed) b += a <= b ? -1 : 1;
        std::vector<feel::Value> out;
        int64_t step = a <= b ? 1 : -1;
        for (int64_t i = a;; i += step) {
          out.push_back(feel::Value::Number(i));
          if (i == b || out.size() > 1'000'000) break;
        }
        return out;
      }
    }
    env.ctx->Warn("cannot iterate over range " + v.ToString());
    return {};
  }
  if (v.is_null()) return {};
  return {v};
}

}  // namespace

Status Node::Error(const CompileEnv& env, std::string_view element, const std::string& message) const {
  return Status::InvalidArgument(env.source + ":" + std::to_string(line) + ": " + env.where + ": " +
                                 std::string(element) + ": " + message);
}

feel::Value ConformOrNull(const feel::Value& v, const TypeDef* t, EvalEnv& env, std::string_view what) {
  if (t == nullptr || v.is_null()) return v;
  auto c = Conform(v, t, *env.ctx);
  if (c) return std::move(*c);
  env.ctx->Warn(std::string(what) + ": value " + v.ToString() + " does not conform to type " + t->name);
  return feel::Value();
}

// ---------------------------------------------------------------------------

Status LiteralNode::Compile(CompileEnv& env) {
  RP_ASSIGN_OR_RETURN(expr_, CompileText(env, line, "literalExpression", text));
  RP_ASSIGN_OR_RETURN(type, Type(env, line, type_ref));
  return Status::Ok();
}

feel::Value LiteralNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  return expr_->Evaluate(scope, *env.ctx);
}

// ---------------------------------------------------------------------------

Status ContextNode::Compile(CompileEnv& env) {
  for (auto& e : entries) {
    RP_RETURN_IF_ERROR(CompileChild(env, e.expr.get()));
    RP_ASSIGN_OR_RETURN(e.type, Type(env, line, e.type_ref));
  }
  return Status::Ok();
}

feel::Value ContextNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  feel::Scope local(&scope);
  feel::ContextEntries out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    feel::Value v = EvalChild(e.expr.get(), local, env);
    v = ConformOrNull(v, e.type, env, "context entry '" + e.name + "'");
    if (e.name.empty()) return v;  // the result entry
    local.Set(e.name, v);
    bool replaced = false;
    for (auto& [k, old] : out) {
      if (k == e.name) {
        old = v;
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(e.name, std::move(v));
  }
  return feel::Value::Context(std::move(out));
}

// ---------------------------------------------------------------------------

Status ListNode::Compile(CompileEnv& env) {
  for (auto& i : items) RP_RETURN_IF_ERROR(CompileChild(env, i.get()));
  return Status::Ok();
}

feel::Value ListNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  std::vector<feel::Value> out;
  out.reserve(items.size());
  for (const auto& i : items) out.push_back(EvalChild(i.get(), scope, env));
  return feel::Value::List(std::move(out));
}

// ---------------------------------------------------------------------------

Status RelationNode::Compile(CompileEnv& env) {
  for (auto& c : columns) {
    RP_ASSIGN_OR_RETURN(c.type, Type(env, line, c.type_ref));
  }
  for (auto& row : rows) {
    for (auto& cell : row) RP_RETURN_IF_ERROR(CompileChild(env, cell.get()));
  }
  return Status::Ok();
}

feel::Value RelationNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  std::vector<feel::Value> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    feel::ContextEntries entries;
    for (size_t i = 0; i < columns.size(); ++i) {
      feel::Value v = EvalChild(row[i].get(), scope, env);
      entries.emplace_back(columns[i].name, ConformOrNull(v, columns[i].type, env, "relation column '" + columns[i].name + "'"));
    }
    out.push_back(feel::Value::Context(std::move(entries)));
  }
  return feel::Value::List(std::move(out));
}

// ---------------------------------------------------------------------------

Status InvocationNode::Compile(CompileEnv& env) {
  RP_RETURN_IF_ERROR(CompileChild(env, callee.get()));
  for (auto& b : bindings) RP_RETURN_IF_ERROR(CompileChild(env, b.expr.get()));
  RP_ASSIGN_OR_RETURN(type, Type(env, line, type_ref));
  return Status::Ok();
}

feel::Value InvocationNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  feel::Value fn = callee->Eval(scope, env);
  if (!fn.is(feel::Type::kFunction)) {
    env.ctx->Warn("invocation: " + fn.ToString() + " is not a function");
    return feel::Value();
  }
  const auto& params = fn.function()->parameters();
  std::vector<feel::Value> args(params.size());
  for (const auto& b : bindings) {
    auto it = std::find(params.begin(), params.end(), b.parameter);
    if (it == params.end()) {
      env.ctx->Warn("invocation: the function has no parameter '" + b.parameter + "'");
      return feel::Value();
    }
    args[it - params.begin()] = EvalChild(b.expr.get(), scope, env);
  }
  return fn.function()->Call(args, *env.ctx);
}

// ---------------------------------------------------------------------------

namespace {

// A boxed function definition closed over the variables visible where it was
// evaluated (copied: values are immutable and cheap to share).
class Closure final : public feel::Function {
 public:
  Closure(const FunctionDefinitionNode* def, const feel::Scope& scope) : def_(def) {
    std::vector<const feel::Scope*> chain;
    for (const feel::Scope* s = &scope; s != nullptr; s = s->parent()) chain.push_back(s);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      for (const auto& [name, value] : (*it)->variables()) captured_.Set(name, value);
    }
  }
  const std::vector<std::string>& parameters() const override { return def_->parameter_names; }
  feel::Value Call(std::span<const feel::Value> args, feel::EvalContext& ctx) const override {
    return def_->Invoke(captured_, args, ctx);
  }
  std::string Describe() const override {
    std::string s = "function(";
    for (size_t i = 0; i < def_->parameter_names.size(); ++i) s += (i ? ", " : "") + def_->parameter_names[i];
    return s + ")";
  }

 private:
  const FunctionDefinitionNode* def_;
  feel::Scope captured_;
};

}  // namespace

Status FunctionDefinitionNode::Compile(CompileEnv& env) {
  for (auto& p : parameters) {
    RP_ASSIGN_OR_RETURN(p.type, Type(env, line, p.type_ref));
  }
  if (kind != "FEEL" && kind != "F") return Status::Ok();  // Java, PMML: reported when invoked
  if (!body) return Error(env, "functionDefinition", "has no body");
  return body->Compile(env);
}

feel::Value FunctionDefinitionNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  return feel::Value::MakeFunction(std::make_shared<Closure>(this, scope));
}

feel::Value FunctionDefinitionNode::Invoke(const feel::Scope& closure, std::span<const feel::Value> args,
                                           feel::EvalContext& ctx) const {
  if (kind != "FEEL" && kind != "F") {
    ctx.Warn((owner.empty() ? std::string("function") : owner) + ": functions of kind " + kind +
             " are not supported");
    return feel::Value();
  }
  EvalEnv* outer = CurrentEvalEnv();
  EvalEnv env;
  env.ctx = &ctx;
  env.explanation = outer ? outer->explanation : nullptr;
  env.element = owner;
  env.depth = outer ? outer->depth + 1 : 1;
  if (env.depth > kMaxCallDepth) {
    ctx.Warn(owner + ": calls nested too deeply");
    return feel::Value();
  }
  feel::Scope scope(&closure);
  for (size_t i = 0; i < parameters.size(); ++i) {
    feel::Value a = i < args.size() ? args[i] : feel::Value();
    if (parameters[i].type != nullptr && !a.is_null()) {
      auto c = Conform(a, parameters[i].type, ctx);
      if (!c) {
        ctx.Warn((owner.empty() ? std::string("function") : owner) + ": argument '" + parameters[i].name + "' " +
                 a.ToString() + " does not conform to type " + parameters[i].type->name);
        return feel::Value();
      }
      a = std::move(*c);
    }
    scope.Set(parameters[i].name, std::move(a));
  }
  ScopedEvalEnv guard(&env);
  feel::Value result = EvalChild(body.get(), scope, env);
  if (body != nullptr && body->type != nullptr) {
    result = ConformOrNull(result, body->type, env, (owner.empty() ? std::string("function") : owner) + " result");
  }
  return result;
}

// ---------------------------------------------------------------------------

Status ConditionalNode::Compile(CompileEnv& env) {
  RP_RETURN_IF_ERROR(CompileChild(env, condition.get()));
  RP_RETURN_IF_ERROR(CompileChild(env, then_branch.get()));
  return CompileChild(env, else_branch.get());
}

feel::Value ConditionalNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  feel::Value c = condition->Eval(scope, env);
  if (c.is(feel::Type::kBoolean) && c.boolean()) return then_branch->Eval(scope, env);
  if (!c.is_null() && !c.is(feel::Type::kBoolean)) {
    env.ctx->Warn("conditional: the condition " + c.ToString() + " is not a boolean");
    return feel::Value();
  }
  return else_branch->Eval(scope, env);
}

Status FilterNode::Compile(CompileEnv& env) {
  RP_RETURN_IF_ERROR(CompileChild(env, in.get()));
  return CompileChild(env, match.get());
}

feel::Value FilterNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  feel::Value v = in->Eval(scope, env);
  if (v.is_null()) return v;
  std::vector<feel::Value> out;
  for (const auto& item : Domain(v, env)) {
    feel::Scope local(&scope);
    if (item.is(feel::Type::kContext)) {
      for (const auto& [k, x] : item.context()) local.Set(k, x);
    }
    local.Set("item", item);
    feel::Value m = match->Eval(local, env);
    if (!m.is_null() && !m.is(feel::Type::kBoolean)) {
      env.ctx->Warn("filter: the match " + m.ToString() + " is not a boolean");
      return feel::Value();
    }
    if (m.is(feel::Type::kBoolean) && m.boolean()) out.push_back(item);
  }
  return feel::Value::List(std::move(out));
}

Status IteratorNode::Compile(CompileEnv& env) {
  RP_RETURN_IF_ERROR(CompileChild(env, in.get()));
  return CompileChild(env, body.get());
}

feel::Value IteratorNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  feel::Value v = in->Eval(scope, env);
  std::vector<feel::Value> out;
  bool saw_null = false;
  for (const auto& item : Domain(v, env)) {
    feel::Scope local(&scope);
    local.Set(variable, item);
    feel::Value r = body->Eval(local, env);
    if (kind == Kind::kFor) {
      out.push_back(std::move(r));
      continue;
    }
    if (!r.is(feel::Type::kBoolean)) {
      saw_null = true;
      continue;
    }
    if (kind == Kind::kEvery && !r.boolean()) return feel::Value::Boolean(false);
    if (kind == Kind::kSome && r.boolean()) return feel::Value::Boolean(true);
  }
  if (kind == Kind::kFor) return feel::Value::List(std::move(out));
  if (saw_null) return feel::Value();
  return feel::Value::Boolean(kind == Kind::kEvery);
}

// ---------------------------------------------------------------------------
// Decision tables.

std::string DecisionTableNode::PolicyName() const {
  switch (hit_policy) {
    case HitPolicy::kUnique: return "UNIQUE";
    case HitPolicy::kAny: return "ANY";
    case HitPolicy::kPriority: return "PRIORITY";
    case HitPolicy::kFirst: return "FIRST";
    case HitPolicy::kRuleOrder: return "RULE ORDER";
    case HitPolicy::kOutputOrder: return "OUTPUT ORDER";
    case HitPolicy::kCollect:
      switch (aggregation) {
        case Aggregation::kNone: return "COLLECT";
        case Aggregation::kSum: return "COLLECT SUM";
        case Aggregation::kCount: return "COLLECT COUNT";
        case Aggregation::kMin: return "COLLECT MIN";
        case Aggregation::kMax: return "COLLECT MAX";
      }
  }
  return "?";
}

Status DecisionTableNode::Compile(CompileEnv& env) {
  RP_ASSIGN_OR_RETURN(type, Type(env, line, type_ref));
  for (size_t i = 0; i < inputs.size(); ++i) {
    Input& in = inputs[i];
    std::string what = "input " + std::to_string(i + 1);
    RP_ASSIGN_OR_RETURN(in.expr, CompileText(env, in.line, what + " expression", in.text));
    if (!text::Trim(in.values_text).empty()) {
      RP_ASSIGN_OR_RETURN(in.values, CompileTests(env, in.line, what + " inputValues", in.values_text));
    }
    RP_ASSIGN_OR_RETURN(in.type, Type(env, in.line, in.type_ref));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    Output& out = outputs[i];
    std::string what = "output " + std::to_string(i + 1);
    RP_ASSIGN_OR_RETURN(out.type, Type(env, out.line, out.type_ref));
    const bool single_hit = hit_policy == HitPolicy::kUnique || hit_policy == HitPolicy::kAny ||
                            hit_policy == HitPolicy::kPriority || hit_policy == HitPolicy::kFirst;
    if (out.type == nullptr && outputs.size() == 1 && single_hit && type != nullptr && !type->is_structure) {
      out.type = type;
    }
    if (out.type == nullptr && outputs.size() > 1 && type != nullptr && type->is_structure) {
      for (const auto& [name, ct] : type->components) {
        if (name == out.name) out.type = ct;
      }
    }
    if (!text::Trim(out.values_text).empty()) {
      RP_ASSIGN_OR_RETURN(out.values, CompileTests(env, out.line, what + " outputValues", out.values_text));
      // The listed values give the priority order of PRIORITY and OUTPUT ORDER.
      auto list = feel::Compile("[" + out.values_text + "]", *env.feel);
      if (list.ok()) {
        feel::Scope empty;
        feel::Value v = list->Evaluate(empty);
        if (v.is(feel::Type::kList)) out.priority = v.list();
      }
    }
    if (!text::Trim(out.default_text).empty()) {
      RP_ASSIGN_OR_RETURN(out.default_value, CompileText(env, out.line, what + " defaultOutputEntry", out.default_text));
    }
  }
  for (size_t r = 0; r < rules.size(); ++r) {
    Rule& rule = rules[r];
    for (size_t i = 0; i < rule.input_texts.size(); ++i) {
      std::string what = "rule " + std::to_string(r + 1) + " input entry " + std::to_string(i + 1);
      RP_ASSIGN_OR_RETURN(auto t, CompileTests(env, rule.line, what, rule.input_texts[i]));
      rule.is_any.push_back(t.is_any());
      rule.tests.push_back(std::move(t));
    }
    for (size_t i = 0; i < rule.output_texts.size(); ++i) {
      std::string what = "rule " + std::to_string(r + 1) + " output entry " + std::to_string(i + 1);
      RP_ASSIGN_OR_RETURN(auto e, CompileText(env, rule.line, what, rule.output_texts[i]));
      rule.outputs.push_back(std::move(e));
    }
  }
  return Status::Ok();
}

feel::Value DecisionTableNode::OutputColumn(size_t column, const Rule& rule, const feel::Scope& scope,
                                            EvalEnv& env, bool* ok) const {
  const Output& out = outputs[column];
  feel::Value v = rule.outputs[column].Evaluate(scope, *env.ctx);
  if (out.values && !v.is_null() && !out.values->Matches(v, scope, *env.ctx)) {
    env.ctx->Warn(std::string(env.element) + ": decision table output " + v.ToString() +
                  " is not among the output values " + std::string(text::Trim(out.values_text)));
    *ok = false;
    return feel::Value();
  }
  if (out.type != nullptr && !v.is_null()) {
    auto c = Conform(v, out.type, *env.ctx);
    if (!c) {
      env.ctx->Warn(std::string(env.element) + ": decision table output " + v.ToString() +
                    " does not conform to type " + out.type->name);
      *ok = false;
      return feel::Value();
    }
    return std::move(*c);
  }
  return v;
}

feel::Value DecisionTableNode::RuleOutput(const Rule& rule, const feel::Scope& scope, EvalEnv& env,
                                          bool* ok) const {
  if (outputs.size() == 1) return OutputColumn(0, rule, scope, env, ok);
  feel::ContextEntries entries;
  entries.reserve(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) entries.emplace_back(outputs[i].name, OutputColumn(i, rule, scope, env, ok));
  return feel::Value::Context(std::move(entries));
}

feel::Value DecisionTableNode::Defaults(const feel::Scope& scope, EvalEnv& env) const {
  bool any = false;
  for (const auto& o : outputs) any = any || o.default_value.has_value();
  if (!any) return feel::Value();
  if (outputs.size() == 1) return outputs[0].default_value->Evaluate(scope, *env.ctx);
  feel::ContextEntries entries;
  for (const auto& o : outputs) {
    entries.emplace_back(o.name, o.default_value ? o.default_value->Evaluate(scope, *env.ctx) : feel::Value());
  }
  return feel::Value::Context(std::move(entries));
}

std::vector<int> DecisionTableNode::Rank(const feel::Value& output) const {
  std::vector<int> rank;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const feel::Value* v = &output;
    if (outputs.size() > 1) v = output.is(feel::Type::kContext) ? output.Get(outputs[i].name) : nullptr;
    int r = static_cast<int>(outputs[i].priority.size());
    if (v != nullptr) {
      for (size_t p = 0; p < outputs[i].priority.size(); ++p) {
        if (outputs[i].priority[p] == *v) {
          r = static_cast<int>(p);
          break;
        }
      }
    }
    rank.push_back(r);
  }
  return rank;
}

feel::Value DecisionTableNode::Eval(const feel::Scope& scope, EvalEnv& env) const {
  const size_t n_in = inputs.size();
  std::array<feel::Value, 8> small_values;
  std::vector<feel::Value> big_values;
  feel::Value* values = small_values.data();
  if (n_in > small_values.size()) {
    big_values.resize(n_in);
    values = big_values.data();
  }
  for (size_t i = 0; i < n_in; ++i) {
    values[i] = inputs[i].expr->Evaluate(scope, *env.ctx);
    if (inputs[i].values && !values[i].is_null() && !inputs[i].values->Matches(values[i], scope, *env.ctx)) {
      env.ctx->Warn(std::string(env.element) + ": decision table input '" + std::string(text::Trim(inputs[i].text)) +
                    "' = " + values[i].ToString() + " is not among the input values " +
                    std::string(text::Trim(inputs[i].values_text)));
      return feel::Value();
    }
  }

  // Matching rules, in rule order.
  std::array<int, 32> small_hits;
  std::vector<int> big_hits;
  size_t n_hits = 0;
  auto add_hit = [&](int r) {
    if (n_hits < small_hits.size()) {
      small_hits[n_hits] = r;
    } else {
      if (big_hits.empty()) big_hits.assign(small_hits.begin(), small_hits.end());
      big_hits.push_back(r);
    }
    ++n_hits;
  };
  const bool first_only = hit_policy == HitPolicy::kFirst;
  for (size_t r = 0; r < rules.size(); ++r) {
    const Rule& rule = rules[r];
    bool match = true;
    for (size_t i = 0; i < n_in && match; ++i) {
      if (rule.is_any[i]) continue;
      match = rule.tests[i].Matches(values[i], scope, *env.ctx);
    }
    if (!match) continue;
    add_hit(static_cast<int>(r));
    if (first_only) break;
  }
  auto hit = [&](size_t k) { return n_hits <= small_hits.size() ? small_hits[k] : big_hits[k]; };

  feel::Value result;
  bool ok = true;
  if (n_hits == 0) {
    if (hit_policy == HitPolicy::kCollect && aggregation == Aggregation::kCount && outputs.size() == 1) {
      result = feel::Value::Number(0);
    } else if (hit_policy == HitPolicy::kCollect || hit_policy == HitPolicy::kRuleOrder ||
               hit_policy == HitPolicy::kOutputOrder) {
      result = Defaults(scope, env);
      if (result.is_null() && aggregation == Aggregation::kNone) result = feel::Value::List({});
    } else {
      result = Defaults(scope, env);
    }
  } else {
    switch (hit_policy) {
      case HitPolicy::kUnique:
        if (n_hits > 1) {
          std::string rs;
          for (size_t k = 0; k < n_hits; ++k) rs += (k ? ", " : "") + std::to_string(hit(k) + 1);
          env.ctx->Warn(std::string(env.element) + ": UNIQUE hit policy violated: rules " + rs + " match");
          ok = false;
          break;
        }
        [[fallthrough]];
      case HitPolicy::kFirst:
        result = RuleOutput(rules[hit(0)], scope, env, &ok);
        break;
      case HitPolicy::kAny: {
        result = RuleOutput(rules[hit(0)], scope, env, &ok);
        for (size_t k = 1; k < n_hits && ok; ++k) {
          feel::Value other = RuleOutput(rules[hit(k)], scope, env, &ok);
          if (!(other == result) && !(other.is_null() && result.is_null())) {
            env.ctx->Warn(std::string(env.element) + ": ANY hit policy violated: rules " +
                          std::to_string(hit(0) + 1) + " and " + std::to_string(hit(k) + 1) +
                          " give different outputs");
            ok = false;
          }
        }
        break;
      }
      case HitPolicy::kPriority: {
        std::vector<int> best_rank;
        for (size_t k = 0; k < n_hits; ++k) {
          feel::Value v = RuleOutput(rules[hit(k)], scope, env, &ok);
          std::vector<int> rank = Rank(v);
          if (k == 0 || rank < best_rank) {
            best_rank = std::move(rank);
            result = std::move(v);
          }
        }
        break;
      }
      case HitPolicy::kRuleOrder:
      case HitPolicy::kOutputOrder:
      case HitPolicy::kCollect: {
        std::vector<std::pair<std::vector<int>, feel::Value>> outs;
        for (size_t k = 0; k < n_hits; ++k) {
          feel::Value v = RuleOutput(rules[hit(k)], scope, env, &ok);
          std::vector<int> rank = hit_policy == HitPolicy::kOutputOrder ? Rank(v) : std::vector<int>();
          outs.emplace_back(std::move(rank), std::move(v));
        }
        if (hit_policy == HitPolicy::kOutputOrder) {
          std::stable_sort(outs.begin(), outs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        if (aggregation == Aggregation::kNone) {
          std::vector<feel::Value> list;
          for (auto& o : outs) list.push_back(std::move(o.second));
          result = feel::Value::List(std::move(list));
          break;
        }
        if (outputs.size() > 1) {
          env.ctx->Warn(std::string(env.element) + ": " + PolicyName() + " needs a single output");
          ok = false;
          break;
        }
        std::vector<feel::Value> vals;
        for (auto& o : outs) {
          if (!o.second.is_null()) vals.push_back(std::move(o.second));
        }
        if (aggregation == Aggregation::kCount) {
          // COUNT counts the distinct output values.
          std::vector<feel::Value> distinct;
          for (const auto& v : vals) {
            if (std::none_of(distinct.begin(), distinct.end(), [&](const feel::Value& d) { return d == v; })) {
              distinct.push_back(v);
            }
          }
          result = feel::Value::Number(static_cast<int64_t>(distinct.size()));
          break;
        }
        if (vals.empty()) break;
        if (aggregation == Aggregation::kSum) {
          feel::Decimal sum;
          for (const auto& v : vals) {
            if (!v.is(feel::Type::kNumber)) {
              env.ctx->Warn(std::string(env.element) + ": COLLECT SUM over a non-number " + v.ToString());
              ok = false;
              break;
            }
            sum = sum + v.number();
          }
          if (ok) result = feel::Value::Number(sum);
          break;
        }
        result = vals[0];
        for (size_t k = 1; k < vals.size(); ++k) {
          auto c = feel::CompareValues(vals[k], result);
          if (!c) {
            env.ctx->Warn(std::string(env.element) + ": " + PolicyName() + " over values that do not compare");
            ok = false;
            break;
          }
          if ((aggregation == Aggregation::kMin && *c < 0) || (aggregation == Aggregation::kMax && *c > 0)) {
            result = vals[k];
          }
        }
        break;
      }
    }
  }
  if (!ok) result = feel::Value();

  if (env.explanation != nullptr) {
    TableHit th;
    th.element = std::string(env.element);
    th.table_id = id;
    th.hit_policy = PolicyName();
    for (size_t i = 0; i < n_in; ++i) {
      th.inputs.emplace_back(inputs[i].label.empty() ? std::string(text::Trim(inputs[i].text)) : inputs[i].label, values[i]);
    }
    for (size_t k = 0; k < n_hits; ++k) {
      const Rule& rule = rules[hit(k)];
      th.matched_rules.push_back(hit(k) + 1);
      th.matched_rule_ids.push_back(rule.id);
      std::vector<std::string> deciding;
      for (size_t i = 0; i < n_in; ++i) {
        if (!rule.is_any[i]) deciding.push_back(th.inputs[i].first);
      }
      th.deciding_inputs.push_back(std::move(deciding));
    }
    th.result = result;
    env.explanation->tables.push_back(std::move(th));
  }
  return result;
}

}  // namespace rapport::dmn::internal
