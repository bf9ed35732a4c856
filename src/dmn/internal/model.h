#pragma once
// The in-memory form of a DMN model set: definitions (the main model and
// every model it imports, transitively), item definitions as checked types,
// DRG elements, and boxed expressions as a tree of nodes that are first
// parsed from XML, then compiled (FEEL text to feel::Expression) and finally
// evaluated. After LoadModel returns, everything here is immutable.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmn/dmn.h"
#include "feel/feel.h"

namespace rapport::dmn::internal {

struct Definitions;
struct ModelSet;

// A checked type: a built-in FEEL type, an item definition (structure,
// collection, constrained base type) or a function type.
struct TypeDef {
  std::string name;
  std::optional<feel::FeelType> builtin;  // set for built-in types and typeRef to them
  const TypeDef* base = nullptr;          // typeRef to another item definition
  bool is_structure = false;
  std::vector<std::pair<std::string, const TypeDef*>> components;  // nullptr = Any
  bool is_collection = false;
  bool is_function = false;
  const TypeDef* output = nullptr;  // function item's outputTypeRef (nullptr: Any)
  std::optional<feel::UnaryTests> allowed_values;   // per item
  std::optional<feel::UnaryTests> type_constraint;  // whole value (DMN 1.5)
  // As read from XML, before resolution.
  std::string base_ref;
  std::string allowed_text;
  std::string constraint_text;
  std::string output_ref;
  int line = 0;
  std::vector<std::unique_ptr<TypeDef>> owned_components;
  bool resolving = false, resolved = false;
  // Whether a singleton list may stand for the value (not when the type
  // itself is a list or Any).
  bool AcceptsList() const;
};

// The FEEL type an item definition describes, for `instance of`: its
// collection, components and base type; allowed values and constraints are
// not part of it (256 is an instance of a number type allowing [0..255]).
feel::FeelType StructuralType(const TypeDef* t);

// Checks v against t with DMN's conversions (singleton list <-> item, date
// to date and time). nullopt when v does not conform. t == nullptr: Any.
std::optional<feel::Value> Conform(const feel::Value& v, const TypeDef* t, feel::EvalContext& ctx);

// Per-evaluation environment threaded through expression evaluation.
struct EvalEnv {
  feel::EvalContext* ctx = nullptr;
  Explanation* explanation = nullptr;  // nullptr: no explanation wanted
  std::string_view element;            // decision/BKM being evaluated
  int depth = 0;                       // call depth, bounds recursion
};

struct CompileEnv {
  Definitions* defs = nullptr;
  const feel::CompileOptions* feel = nullptr;
  std::string source;  // file name, for messages
  std::string where;   // "decision 'X'"
};

// A boxed expression.
class Node {
 public:
  virtual ~Node() = default;
  virtual Status Compile(CompileEnv& env) = 0;
  virtual feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const = 0;

  std::string id;
  std::string type_ref;
  int line = 0;
  const TypeDef* type = nullptr;  // resolved type_ref

 protected:
  Status Error(const CompileEnv& env, std::string_view element, const std::string& message) const;
};

struct Parameter {
  std::string name;
  std::string type_ref;
  const TypeDef* type = nullptr;
};

// A function definition (boxed) or a BKM's encapsulated logic.
class FunctionDefinitionNode;

enum class ElementKind : uint8_t { kInputData, kDecision, kBkm, kService };

struct Requirement {
  std::string href_ns;  // namespace of the required element ("" = same)
  std::string href_id;
  ElementKind kind;     // declared kind (requiredInput, requiredDecision, requiredKnowledge)
  struct Element* target = nullptr;
  std::string prefix;   // import name under which the target is visible, "" = local
};

struct Element {
  ElementKind kind;
  std::string id;
  std::string name;
  std::string type_ref;
  const TypeDef* type = nullptr;
  int line = 0;
  Definitions* defs = nullptr;
  std::vector<Requirement> requirements;  // information + knowledge requirements
  std::unique_ptr<Node> logic;            // decision logic / BKM encapsulated logic
  // Decision services.
  std::vector<Requirement> output_decisions, encapsulated_decisions, input_decisions, input_data;
  // BKMs and services: the callable value bound under the element's name.
  feel::Value function;
  int index = -1;  // dense index among decisions of the model set
};

struct Import {
  std::string name;
  std::string ns;
  std::string location;
  std::string import_type;
  Definitions* target = nullptr;  // DMN imports only
};

struct Definitions {
  std::string name;
  std::string ns;
  std::string id;
  std::string source;
  std::vector<Import> imports;
  std::vector<std::unique_ptr<Element>> elements;
  // Raw item definitions, resolved into types on demand.
  std::map<std::string, std::unique_ptr<TypeDef>> types;
  // Every name declared in the XML (name= and iteratorVariable=), so FEEL
  // can parse names with spaces and operator characters.
  std::vector<std::string> declared_names;
  feel::CompileOptions feel_options;  // built by CompileModelSet
  // Declared names containing '.', split at the dots.
  std::vector<std::pair<std::string, std::vector<std::string>>> dotted_names;
  std::string ImportName(std::string_view ns) const;  // "" when ns is this model's
};

// The loaded main model with its imports.
struct ModelSet {
  std::vector<std::unique_ptr<Definitions>> definitions;  // [0] = main
  std::vector<Element*> decisions;                         // by Element::index
  std::map<std::string, Element*> by_ns_id;                // ns + '#' + id
  Definitions* main() const { return definitions[0].get(); }
  Element* Find(std::string_view ns, std::string_view id) const;
  Element* FindByName(const Definitions& defs, std::string_view name_or_id) const;
  std::vector<std::string> diagnostics;  // compile errors kept in lenient mode
};

// XML -> Definitions (not compiled). Errors name source, element and line.
Result<std::unique_ptr<Definitions>> ParseDefinitions(std::string_view xml, std::string_view source);

// Links requirements and imports, resolves types, compiles every boxed
// expression and builds BKM and service function values.
// strict: any FEEL compile error fails; otherwise the element's logic
// evaluates to null with the error, which is also listed in diagnostics.
Status CompileModelSet(ModelSet& set, bool strict);

// Evaluation state of one Model::Evaluate call.
struct Evaluation;

}  // namespace rapport::dmn::internal
