// Linking and compilation of a model set: requirement hrefs to elements,
// import names, types, FEEL text to compiled expressions, BKM and service
// function values, and the check that the decision graph has no cycle.

#include <algorithm>
#include <cctype>
#include <set>

#include "dmn/internal/boxed.h"
#include "dmn/internal/evaluate.h"
#include "dmn/internal/model.h"

namespace rapport::dmn::internal {
namespace {

const char* KindName(ElementKind k) {
  switch (k) {
    case ElementKind::kInputData: return "inputData";
    case ElementKind::kDecision: return "decision";
    case ElementKind::kBkm: return "businessKnowledgeModel";
    case ElementKind::kService: return "decisionService";
  }
  return "element";
}

Status ElementError(const Element& e, const std::string& message) {
  return Status::InvalidArgument(e.defs->source + ":" + std::to_string(e.line) + ": " + KindName(e.kind) + " '" +
                                 e.name + "': " + message);
}

// Names FEEL cannot read as one plain identifier need to be declared.
bool NeedsDeclaring(std::string_view name) {
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '_' || c >= 0x80)) return true;
  }
  return false;
}

Status Link(ModelSet& set, Element& e, Requirement& r) {
  std::string ns = r.href_ns.empty() ? e.defs->ns : r.href_ns;
  r.target = set.Find(ns, r.href_id);
  if (r.target == nullptr) {
    return ElementError(e, "refers to '" + (r.href_ns.empty() ? "" : r.href_ns) + "#" + r.href_id +
                               "', which is not in the model or its imports");
  }
  if (r.target->defs != e.defs) r.prefix = e.defs->ImportName(r.target->defs->ns);
  return Status::Ok();
}

Status CheckCycles(const Element* d, std::vector<uint8_t>& state) {
  if (state[d->index] == 2) return Status::Ok();
  if (state[d->index] == 1) return ElementError(*d, "the decision requirements form a cycle");
  state[d->index] = 1;
  for (const auto& r : d->requirements) {
    if (r.target != nullptr && r.target->kind == ElementKind::kDecision) RP_RETURN_IF_ERROR(CheckCycles(r.target, state));
  }
  state[d->index] = 2;
  return Status::Ok();
}

}  // namespace

std::string Definitions::ImportName(std::string_view other_ns) const {
  if (other_ns == ns) return {};
  for (const auto& imp : imports) {
    if (imp.ns == other_ns) return imp.name;
  }
  return {};
}

Element* ModelSet::Find(std::string_view ns, std::string_view id) const {
  std::string key(ns);
  key += '#';
  key += id;
  auto it = by_ns_id.find(key);
  return it == by_ns_id.end() ? nullptr : it->second;
}

Element* ModelSet::FindByName(const Definitions& defs, std::string_view name_or_id) const {
  for (const auto& e : defs.elements) {
    if (e->name == name_or_id) return e.get();
  }
  for (const auto& e : defs.elements) {
    if (e->id == name_or_id) return e.get();
  }
  return nullptr;
}

Status CompileModelSet(ModelSet& set, bool strict) {
  for (auto& defs : set.definitions) {
    for (auto& imp : defs->imports) {
      for (auto& other : set.definitions) {
        if (other->ns == imp.ns) imp.target = other.get();
      }
    }
    for (auto& e : defs->elements) {
      std::string key = defs->ns + "#" + e->id;
      if (!e->id.empty() && !set.by_ns_id.emplace(key, e.get()).second) {
        return ElementError(*e, "duplicate id '" + e->id + "'");
      }
      if (e->kind == ElementKind::kDecision) {
        e->index = static_cast<int>(set.decisions.size());
        set.decisions.push_back(e.get());
      }
    }
  }
  for (auto& defs : set.definitions) {
    // Names for the FEEL parser: this model's, and those of its imports
    // qualified by the import name.
    std::set<std::string> names;
    for (const auto& n : defs->declared_names) {
      if (NeedsDeclaring(n)) names.insert(n);
    }
    for (const auto& imp : defs->imports) {
      if (imp.target == nullptr) continue;
      for (const auto& e : imp.target->elements) {
        names.insert(imp.name + "." + e->name);
        if (NeedsDeclaring(e->name)) names.insert(e->name);
      }
      for (const auto& n : imp.target->declared_names) {
        if (NeedsDeclaring(n)) names.insert(n);
      }
      if (NeedsDeclaring(imp.name)) names.insert(imp.name);
    }
    defs->feel_options.known_names.assign(names.begin(), names.end());
    // Item definition names are types in FEEL text (x instance of tPerson).
    Definitions* d = defs.get();
    defs->feel_options.resolve_type = [d](std::string_view name) -> std::optional<feel::FeelType> {
      if (d->types.find(std::string(name)) == d->types.end()) return std::nullopt;
      auto t = ResolveType(*d, name);
      if (!t.ok() || *t == nullptr) return std::nullopt;
      return StructuralType(*t);
    };
    for (const auto& n : names) {
      if (n.find('.') == std::string::npos) continue;
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t dot; (dot = n.find('.', start)) != std::string::npos; start = dot + 1) parts.push_back(n.substr(start, dot - start));
      parts.push_back(n.substr(start));
      defs->dotted_names.emplace_back(n, std::move(parts));
    }

    for (auto& e : defs->elements) {
      for (auto* list : {&e->requirements, &e->output_decisions, &e->encapsulated_decisions, &e->input_decisions,
                         &e->input_data}) {
        for (auto& r : *list) RP_RETURN_IF_ERROR(Link(set, *e, r));
      }
      auto t = ResolveType(*defs, e->type_ref);
      if (!t.ok()) return ElementError(*e, t.status().message());
      e->type = *t;
    }
  }
  for (auto& defs : set.definitions) {
    for (auto& e : defs->elements) {
      if (!e->logic) continue;
      CompileEnv env;
      env.defs = defs.get();
      env.feel = &defs->feel_options;
      env.source = defs->source;
      env.where = std::string(KindName(e->kind)) + " '" + e->name + "'";
      auto* fn = e->kind == ElementKind::kBkm ? static_cast<FunctionDefinitionNode*>(e->logic.get()) : nullptr;
      if (fn != nullptr) fn->owner = e->name;
      Status st = e->logic->Compile(env);
      if (st.ok()) continue;
      if (strict) return st;
      set.diagnostics.push_back(st.message());
      if (fn != nullptr) {
        fn->body = std::make_unique<CompileErrorNode>(st.message());
      } else {
        e->logic = std::make_unique<CompileErrorNode>(st.message());
      }
    }
  }
  for (auto& defs : set.definitions) {
    for (auto& e : defs->elements) {
      if (e->kind == ElementKind::kBkm) e->function = MakeBkmFunction(e.get());
      if (e->kind == ElementKind::kService) e->function = MakeServiceFunction(&set, e.get());
    }
  }
  std::vector<uint8_t> state(set.decisions.size());
  for (const Element* d : set.decisions) RP_RETURN_IF_ERROR(CheckCycles(d, state));
  return Status::Ok();
}

}  // namespace rapport::dmn::internal
