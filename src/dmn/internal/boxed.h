#pragma once
// Boxed expressions of DMN 1.5 (chapter 7, 8 and 9): literal expressions,
// decision tables, contexts, lists, relations, invocations, function
// definitions, conditionals, filters and iterators. Each is a Node that the
// XML reader builds, Compile() checks and compiles, and Eval() runs.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dmn/internal/model.h"

namespace rapport::dmn::internal {

class LiteralNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  std::string text;

 private:
  std::optional<feel::Expression> expr_;
};

enum class HitPolicy : uint8_t { kUnique, kAny, kPriority, kFirst, kRuleOrder, kOutputOrder, kCollect };
enum class Aggregation : uint8_t { kNone, kSum, kCount, kMin, kMax };

class DecisionTableNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;

  struct Input {
    std::string label;
    std::string text;           // inputExpression
    std::string type_ref;
    std::string values_text;    // inputValues
    int line = 0;
    std::optional<feel::Expression> expr;
    std::optional<feel::UnaryTests> values;
    const TypeDef* type = nullptr;
  };
  struct Output {
    std::string name;
    std::string type_ref;
    std::string values_text;
    std::string default_text;
    int line = 0;
    const TypeDef* type = nullptr;
    std::optional<feel::UnaryTests> values;
    std::vector<feel::Value> priority;  // outputValues as values, for P and O
    std::optional<feel::Expression> default_value;
  };
  struct Rule {
    std::string id;
    int line = 0;
    std::vector<std::string> input_texts;
    std::vector<std::string> output_texts;
    std::vector<feel::UnaryTests> tests;
    std::vector<bool> is_any;
    std::vector<feel::Expression> outputs;
  };

  HitPolicy hit_policy = HitPolicy::kUnique;
  Aggregation aggregation = Aggregation::kNone;
  std::string output_label;
  std::vector<Input> inputs;
  std::vector<Output> outputs;
  std::vector<Rule> rules;

 private:
  std::string PolicyName() const;
  feel::Value RuleOutput(const Rule& rule, const feel::Scope& scope, EvalEnv& env, bool* ok) const;
  feel::Value OutputColumn(size_t column, const Rule& rule, const feel::Scope& scope, EvalEnv& env,
                           bool* ok) const;
  feel::Value Defaults(const feel::Scope& scope, EvalEnv& env) const;
  // Priority rank of a rule's output values (lower = higher priority).
  std::vector<int> Rank(const feel::Value& output) const;
};

class ContextNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  struct Entry {
    std::string name;  // empty: the result entry
    std::string type_ref;
    const TypeDef* type = nullptr;
    std::unique_ptr<Node> expr;  // may be null (no value: null)
  };
  std::vector<Entry> entries;
};

class ListNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  std::vector<std::unique_ptr<Node>> items;
};

class RelationNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  struct Column {
    std::string name;
    std::string type_ref;
    const TypeDef* type = nullptr;
  };
  std::vector<Column> columns;
  std::vector<std::vector<std::unique_ptr<Node>>> rows;
};

class InvocationNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  std::unique_ptr<Node> callee;
  struct Binding {
    std::string parameter;
    std::unique_ptr<Node> expr;  // null: null argument
  };
  std::vector<Binding> bindings;
};

class FunctionDefinitionNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  // A closure over the visible variables.
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  // Runs the body with arguments bound (positional, already matched).
  feel::Value Invoke(const feel::Scope& closure, std::span<const feel::Value> args,
                     feel::EvalContext& ctx) const;

  std::string kind = "FEEL";  // FEEL, Java, PMML
  std::vector<Parameter> parameters;
  std::vector<std::string> parameter_names;
  std::unique_ptr<Node> body;
  std::string owner;  // element name, for messages
};

class ConditionalNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  std::unique_ptr<Node> condition, then_branch, else_branch;
};

class FilterNode final : public Node {
 public:
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  std::unique_ptr<Node> in, match;
};

class IteratorNode final : public Node {
 public:
  enum class Kind : uint8_t { kFor, kEvery, kSome };
  Status Compile(CompileEnv& env) override;
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override;
  Kind kind = Kind::kFor;
  std::string variable;
  std::unique_ptr<Node> in, body;
};

// Stands in for logic that did not compile when the model was loaded
// leniently: evaluates to null with the compile error as the message.
class CompileErrorNode final : public Node {
 public:
  explicit CompileErrorNode(std::string message) : message_(std::move(message)) {}
  Status Compile(CompileEnv& env) override { return Status::Ok(); }
  feel::Value Eval(const feel::Scope& scope, EvalEnv& env) const override {
    env.ctx->Warn(message_);
    return feel::Value();
  }

 private:
  std::string message_;
};

// Resolves a typeRef ("number", "feel:string", "tPerson", "imp.tPerson",
// "list<number>") in the definitions' scope. Unknown names: NotFound.
Result<const TypeDef*> ResolveType(Definitions& defs, std::string_view type_ref);

// Conforms v to t; on failure adds a message and returns null.
feel::Value ConformOrNull(const feel::Value& v, const TypeDef* t, EvalEnv& env, std::string_view what);

}  // namespace rapport::dmn::internal
