// Item definitions as checked types: resolution of typeRefs (built-in FEEL
// types, item definitions, imported ones) and the conformance check with
// DMN's implicit conversions.

#include <map>
#include <mutex>
#include <string>

#include "dmn/internal/boxed.h"
#include "dmn/internal/model.h"

namespace rapport::dmn::internal {
namespace {

using K = feel::FeelType::Kind;

std::optional<K> BuiltinKind(std::string_view name) {
  static const std::map<std::string, K, std::less<>> kNames = {
      {"number", K::kNumber},
      {"string", K::kString},
      {"boolean", K::kBoolean},
      {"date", K::kDate},
      {"time", K::kTime},
      {"dateTime", K::kDateTime},
      {"date and time", K::kDateTime},
      {"dayTimeDuration", K::kDaysTimeDuration},
      {"days and time duration", K::kDaysTimeDuration},
      {"yearMonthDuration", K::kYearsMonthsDuration},
      {"years and months duration", K::kYearsMonthsDuration},
      {"Any", K::kAny},
      {"any", K::kAny},
      {"context", K::kContext},
      {"list", K::kList},
      {"function", K::kFunction},
      {"range", K::kRange},
      {"Null", K::kNull},
  };
  auto it = kNames.find(name);
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

const TypeDef* BuiltinType(K kind, std::string_view name) {
  static std::mutex mu;
  static std::map<K, std::unique_ptr<TypeDef>>* types = new std::map<K, std::unique_ptr<TypeDef>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*types)[kind];
  if (!slot) {
    slot = std::make_unique<TypeDef>();
    feel::FeelType t;
    t.kind = kind;
    slot->name = std::string(name);
    slot->builtin = t;
    slot->resolved = true;
  }
  return slot.get();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Status ResolveItem(Definitions& defs, TypeDef* t);

Status ResolveItem(Definitions& defs, TypeDef* t) {
  if (t->resolved) return Status::Ok();
  if (t->resolving) {
    return Status::InvalidArgument(defs.source + ":" + std::to_string(t->line) + ": itemDefinition '" + t->name +
                                   "': refers to itself");
  }
  t->resolving = true;
  auto fail = [&](const std::string& msg) {
    return Status::InvalidArgument(defs.source + ":" + std::to_string(t->line) + ": itemDefinition '" + t->name +
                                   "': " + msg);
  };
  if (!t->base_ref.empty()) {
    auto base = ResolveType(defs, t->base_ref);
    if (!base.ok()) return fail(base.status().message());
    if ((*base)->builtin && !(*base)->base && !(*base)->allowed_values && !(*base)->is_structure &&
        !(*base)->is_collection && !(*base)->type_constraint) {
      t->builtin = (*base)->builtin;
    } else {
      t->base = *base;
    }
  }
  if (!t->output_ref.empty()) {
    auto out = ResolveType(defs, t->output_ref);
    if (!out.ok()) return fail("functionItem outputTypeRef: " + out.status().message());
    t->output = *out;
  }
  for (auto& c : t->owned_components) {
    RP_RETURN_IF_ERROR(ResolveItem(defs, c.get()));
    t->components.emplace_back(c->name, c.get());
  }
  if (!t->allowed_text.empty()) {
    auto ut = feel::CompileUnaryTests(t->allowed_text);
    if (!ut.ok()) return fail("allowedValues: " + ut.status().message());
    t->allowed_values = *ut;
  }
  if (!t->constraint_text.empty()) {
    auto ut = feel::CompileUnaryTests(t->constraint_text);
    if (!ut.ok()) return fail("typeConstraint: " + ut.status().message());
    t->type_constraint = *ut;
  }
  t->resolving = false;
  t->resolved = true;
  return Status::Ok();
}

std::optional<feel::Value> ConformItem(const feel::Value& in, const TypeDef* t, feel::EvalContext& ctx);

std::optional<feel::Value> ConformImpl(const feel::Value& v, const TypeDef* t, feel::EvalContext& ctx) {
  if (t == nullptr || v.is_null()) return v;
  if (t->is_collection) {
    if (!v.is(feel::Type::kList)) {
      auto item = ConformItem(v, t, ctx);
      if (!item) return std::nullopt;
      return feel::Value::List({*item});
    }
    std::vector<feel::Value> items;
    items.reserve(v.list().size());
    bool changed = false;
    for (const auto& e : v.list()) {
      auto item = ConformItem(e, t, ctx);
      if (!item) return std::nullopt;
      changed = changed || item->type() != e.type() || !(item->is_null() || *item == e);
      items.push_back(std::move(*item));
    }
    feel::Value out = changed ? feel::Value::List(std::move(items)) : v;
    if (t->type_constraint) {
      feel::Scope empty;
      if (!t->type_constraint->Matches(out, empty, ctx)) return std::nullopt;
    }
    return out;
  }
  auto out = ConformItem(v, t, ctx);
  if (out && t->type_constraint) {
    feel::Scope empty;
    if (!t->type_constraint->Matches(*out, empty, ctx)) return std::nullopt;
  }
  return out;
}

// Conforms one item (ignoring t->is_collection).
std::optional<feel::Value> ConformItem(const feel::Value& in, const TypeDef* t, feel::EvalContext& ctx) {
  if (in.is_null()) return in;
  feel::Value v = in;
  if (v.is(feel::Type::kList) && v.list().size() == 1 && !t->AcceptsList()) v = v.list()[0];
  if (v.is_null()) return v;
  if (t->base) {
    auto b = ConformImpl(v, t->base, ctx);
    if (!b) return std::nullopt;
    v = std::move(*b);
  } else if (t->builtin) {
    const feel::FeelType& ft = *t->builtin;
    if (ft.kind == K::kDateTime && v.is(feel::Type::kDate)) {
      v = feel::Value::DateTime(v.epoch_days(), 0, feel::ZoneKind::kOffset, 0);
    } else if (!feel::IsInstance(v, ft)) {
      return std::nullopt;
    }
  } else if (t->is_structure) {
    if (!v.is(feel::Type::kContext)) return std::nullopt;
    feel::ContextEntries entries;
    bool changed = false;
    for (const auto& [name, ct] : t->components) {
      const feel::Value* f = v.Get(name);
      if (f == nullptr) return std::nullopt;  // every component must be present
      auto c = ConformImpl(*f, ct, ctx);
      if (!c) return std::nullopt;
      if (c->type() != f->type() || !(c->is_null() || *c == *f)) changed = true;
    }
    if (changed) {
      for (const auto& [name, value] : v.context()) {
        const TypeDef* ct = nullptr;
        for (const auto& [cn, ctype] : t->components) {
          if (cn == name) ct = ctype;
        }
        auto c = ConformImpl(value, ct, ctx);
        entries.emplace_back(name, c ? *c : feel::Value());
      }
      v = feel::Value::Context(std::move(entries));
    }
  } else if (t->is_function) {
    if (!v.is(feel::Type::kFunction)) return std::nullopt;
  }
  if (t->allowed_values) {
    feel::Scope empty;
    if (!t->allowed_values->Matches(v, empty, ctx)) return std::nullopt;
  }
  return v;
}

}  // namespace

bool TypeDef::AcceptsList() const {
  if (is_collection) return true;
  if (base) return base->AcceptsList();
  if (builtin) return builtin->kind == K::kList || builtin->kind == K::kAny;
  return !is_structure && !is_function;  // unconstrained: Any
}

namespace {
feel::FeelType StructuralTypeAt(const TypeDef* t, int depth);

// The type of one item of t (ignoring t->is_collection).
feel::FeelType StructuralItem(const TypeDef* t, int depth) {
  feel::FeelType out;  // Any
  if (t->base) return StructuralTypeAt(t->base, depth + 1);
  if (t->builtin) return *t->builtin;
  if (t->is_structure) {
    out.kind = K::kContext;
    for (const auto& [name, ct] : t->components) out.fields.push_back({name, StructuralTypeAt(ct, depth + 1)});
  } else if (t->is_function) {
    out.kind = K::kFunction;
  }
  return out;
}

feel::FeelType StructuralTypeAt(const TypeDef* t, int depth) {
  // Item definitions cannot refer to themselves (ResolveItem rejects it);
  // the depth bound only guards against pathological nesting.
  if (t == nullptr || depth > 64) return feel::FeelType{};
  if (!t->is_collection) return StructuralItem(t, depth);
  feel::FeelType out;
  out.kind = K::kList;
  out.element = std::make_shared<feel::FeelType>(StructuralItem(t, depth + 1));
  return out;
}
}  // namespace

feel::FeelType StructuralType(const TypeDef* t) { return StructuralTypeAt(t, 0); }

std::optional<feel::Value> Conform(const feel::Value& v, const TypeDef* t, feel::EvalContext& ctx) {
  return ConformImpl(v, t, ctx);
}

Result<const TypeDef*> ResolveType(Definitions& defs, std::string_view type_ref) {
  std::string_view ref = Trim(type_ref);
  if (ref.empty()) return static_cast<const TypeDef*>(nullptr);
  if (ref.substr(0, 5) == "feel:") ref.remove_prefix(5);
  if (auto it = defs.types.find(std::string(ref)); it != defs.types.end()) {
    RP_RETURN_IF_ERROR(ResolveItem(defs, it->second.get()));
    return static_cast<const TypeDef*>(it->second.get());
  }
  if (auto kind = BuiltinKind(ref)) return BuiltinType(*kind, ref);
  // An imported type: "import name.type name".
  for (const auto& imp : defs.imports) {
    if (imp.target == nullptr || imp.name.empty()) continue;
    if (ref.size() > imp.name.size() + 1 && ref.substr(0, imp.name.size()) == imp.name &&
        ref[imp.name.size()] == '.') {
      return ResolveType(*imp.target, ref.substr(imp.name.size() + 1));
    }
  }
  // FEEL type syntax (DMN 1.5): list<number>, context<a: string>, ...
  auto parsed = feel::ParseType(ref);
  if (parsed.ok()) {
    auto t = std::make_unique<TypeDef>();
    t->name = std::string(ref);
    t->builtin = *parsed;
    t->resolved = true;
    const TypeDef* out = t.get();
    defs.types["\x01" + std::string(ref)] = std::move(t);
    return out;
  }
  return Status::NotFound("unknown type '" + std::string(ref) + "'");
}

}  // namespace rapport::dmn::internal
