// DRG evaluation, BKM and decision-service functions.

#include "dmn/internal/evaluate.h"

#include "dmn/internal/boxed.h"
#include "dmn/internal/runtime.h"

#include <algorithm>

namespace rapport::dmn::internal {
namespace {

thread_local EvalEnv* g_current_env = nullptr;

// Binds the values of an element's requirements into scope; those of
// imported models under their import name, as a context.
void BindRequirements(Evaluation* ev, const Element* e, feel::Scope* scope) {
  std::vector<std::pair<std::string, feel::ContextEntries>> prefixed;
  for (const auto& req : e->requirements) {
    const Element* t = req.target;
    if (t == nullptr) continue;
    feel::Value v;
    switch (t->kind) {
      case ElementKind::kInputData:
        if (ev != nullptr) {
          if (const feel::Value* given = ev->overrides.Find(t)) v = *given;
        }
        break;
      case ElementKind::kDecision:
        if (ev != nullptr) v = ev->Decision(t);
        break;
      case ElementKind::kBkm:
      case ElementKind::kService:
        v = t->function;
        break;
    }
    if (req.prefix.empty()) {
      scope->Set(t->name, std::move(v));
      continue;
    }
    auto it = std::find_if(prefixed.begin(), prefixed.end(), [&](const auto& p) { return p.first == req.prefix; });
    if (it == prefixed.end()) {
      prefixed.emplace_back(req.prefix, feel::ContextEntries());
      it = prefixed.end() - 1;
    }
    it->second.emplace_back(t->name, std::move(v));
  }
  for (auto& [prefix, entries] : prefixed) scope->Set(prefix, feel::Value::Context(std::move(entries)));
}

// FEEL reads a declared name with a dot ("Person.Gender", "imp.Decision")
// as one name; bind those that are paths into visible contexts.
void BindDottedNames(const Definitions& defs, feel::Scope* scope) {
  for (const auto& [full, path] : defs.dotted_names) {
    const feel::Value* v = scope->Find(path[0]);
    for (size_t i = 1; v != nullptr && i < path.size(); ++i) v = v->Get(path[i]);
    if (v != nullptr && scope->Find(full) == nullptr) scope->Set(full, *v);
  }
}

class BkmFunction final : public feel::Function {
 public:
  explicit BkmFunction(const Element* bkm) : bkm_(bkm) {
    if (const auto* fn = dynamic_cast<const FunctionDefinitionNode*>(bkm->logic.get())) def_ = fn;
  }
  const std::vector<std::string>& parameters() const override {
    static const std::vector<std::string> kNone;
    return def_ ? def_->parameter_names : kNone;
  }
  feel::Value Call(std::span<const feel::Value> args, feel::EvalContext& ctx) const override {
    if (def_ == nullptr || !def_->body) {
      ctx.Warn("business knowledge model '" + bkm_->name + "' has no logic");
      return feel::Value();
    }
    feel::Scope scope;
    BindRequirements(nullptr, bkm_, &scope);
    feel::Value v = def_->Invoke(scope, args, ctx);
    if (bkm_->type != nullptr && !bkm_->type->is_function &&
        !(bkm_->type->builtin && bkm_->type->builtin->kind == feel::FeelType::Kind::kFunction)) {
      EvalEnv env;
      env.ctx = &ctx;
      v = ConformOrNull(v, bkm_->type, env, "business knowledge model '" + bkm_->name + "'");
    }
    return v;
  }
  std::string Describe() const override { return "function " + bkm_->name; }

 private:
  const Element* bkm_;
  const FunctionDefinitionNode* def_ = nullptr;
};

class ServiceFunction final : public feel::Function {
 public:
  ServiceFunction(const ModelSet* set, const Element* service)
      : set_(set), service_(service), parameters_(ServiceParameters(service)) {}
  const std::vector<std::string>& parameters() const override { return parameters_; }
  feel::Value Call(std::span<const feel::Value> args, feel::EvalContext& ctx) const override {
    return EvaluateServiceCall(set_, service_, args, CurrentEvalEnv(), nullptr, ctx);
  }
  std::string Describe() const override { return "decision service " + service_->name; }

 private:
  const ModelSet* set_;
  const Element* service_;
  std::vector<std::string> parameters_;
};

}  // namespace

EvalEnv* CurrentEvalEnv() { return g_current_env; }
ScopedEvalEnv::ScopedEvalEnv(EvalEnv* env) : previous_(g_current_env) { g_current_env = env; }
ScopedEvalEnv::~ScopedEvalEnv() { g_current_env = previous_; }

feel::Value MakeBkmFunction(const Element* bkm) {
  return feel::Value::MakeFunction(std::make_shared<BkmFunction>(bkm));
}

feel::Value MakeServiceFunction(const ModelSet* set, const Element* service) {
  return feel::Value::MakeFunction(std::make_shared<ServiceFunction>(set, service));
}

feel::Value Evaluation::Decision(const Element* d) {
  if (const feel::Value* given = overrides.Find(d)) return *given;
  auto& slot = values[d->index];
  if (slot) return *slot;
  if (in_progress[d->index]) {
    env.ctx->Warn("decision '" + d->name + "' depends on itself");
    return feel::Value();
  }
  in_progress[d->index] = 1;
  feel::Scope scope;
  BindRequirements(this, d, &scope);
  BindDottedNames(*d->defs, &scope);
  size_t first_warning = env.ctx->warnings().size();
  EvalEnv denv = env;
  denv.element = d->name;
  ScopedEvalEnv guard(&denv);
  feel::Value v;
  if (d->logic) {
    v = d->logic->Eval(scope, denv);
  } else {
    env.ctx->Warn("decision '" + d->name + "' has no decision logic");
  }
  v = ConformOrNull(v, d->type, denv, "decision '" + d->name + "'");
  in_progress[d->index] = 0;
  slot = v;
  if (outcomes != nullptr) {
    DecisionOutcome o;
    o.name = d->name;
    o.id = d->id;
    o.ns = d->defs->ns;
    o.value = v;
    const auto& w = env.ctx->warnings();
    o.messages.assign(w.begin() + static_cast<ptrdiff_t>(first_warning), w.end());
    outcomes->push_back(std::move(o));
  }
  return v;
}

std::vector<std::string> ServiceParameters(const Element* service) {
  std::vector<std::string> out;
  // Input data first, then input decisions (the order the TCK and the
  // published engines agree on).
  for (const auto& r : service->input_data) out.push_back(r.target ? r.target->name : r.href_id);
  for (const auto& r : service->input_decisions) out.push_back(r.target ? r.target->name : r.href_id);
  return out;
}

feel::Value EvaluateServiceCall(const ModelSet* set, const Element* service, std::span<const feel::Value> args,
                                EvalEnv* outer, std::vector<DecisionOutcome>* outcomes, feel::EvalContext& ctx) {
  int depth = outer ? outer->depth + 1 : 1;
  if (depth > kMaxCallDepth) {
    ctx.Warn("decision service '" + service->name + "': calls nested too deeply");
    return feel::Value();
  }
  Evaluation ev(set, &ctx);
  ev.env.explanation = outer ? outer->explanation : nullptr;
  ev.env.depth = depth;
  ev.outcomes = outcomes;
  size_t i = 0;
  for (const auto* list : {&service->input_data, &service->input_decisions}) {
    for (const auto& r : *list) {
      feel::Value a = i < args.size() ? args[i] : feel::Value();
      ++i;
      if (r.target == nullptr) continue;
      if (!a.is_null() && r.target->type != nullptr) {
        auto c = Conform(a, r.target->type, ctx);
        if (!c) {
          // A wrong-typed argument makes the invocation an error.
          ctx.Warn("decision service '" + service->name + "': parameter '" + r.target->name + "' " + a.ToString() +
                   " does not conform to type " + r.target->type->name);
          return feel::Value();
        }
        a = std::move(*c);
      }
      ev.overrides.values.emplace_back(r.target, std::move(a));
    }
  }
  feel::Value out;
  if (service->output_decisions.size() == 1 && service->output_decisions[0].target != nullptr) {
    out = ev.Decision(service->output_decisions[0].target);
  } else {
    feel::ContextEntries entries;
    for (const auto& r : service->output_decisions) {
      if (r.target == nullptr) continue;
      entries.emplace_back(r.target->name, ev.Decision(r.target));
    }
    out = feel::Value::Context(std::move(entries));
  }
  // A service typed as a function item (typeRef="tService" with
  // outputTypeRef="string") must return that output type.
  const TypeDef* output_type = nullptr;
  for (const TypeDef* t = service->type; t != nullptr; t = t->base) {
    if (t->is_function) {
      output_type = t->output;
      break;
    }
  }
  if (output_type != nullptr) {
    auto c = Conform(out, output_type, ctx);
    if (!c) {
      ctx.Warn("decision service '" + service->name + "': result " + out.ToString() +
               " does not conform to its output type " + output_type->name);
      return feel::Value();
    }
    out = std::move(*c);
  }
  return out;
}

}  // namespace rapport::dmn::internal
