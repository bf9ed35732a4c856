#pragma once
// DMN 1.5 decision models: loading DMN 1.1-1.5 XML (with imports), checking
// and compiling it once into an immutable Model, and evaluating decisions and
// decision services over FEEL values, with an explanation of which rules
// matched and which inputs decided. A Model is immutable after loading and
// safe to evaluate from many threads at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "feel/feel.h"

namespace rapport::dmn {

struct LoadOptions {
  // Finds the XML text of a model named by an <import> (by its namespace,
  // with the locationURI as a hint, possibly empty). Without a resolver a
  // model that imports DMN models fails to load (NotFound naming the import).
  std::function<Result<std::string>(std::string_view ns, std::string_view location)> resolve_import;
  // true: a FEEL syntax error anywhere fails the load. false: the model
  // loads, the element with the error evaluates to null with the error as
  // its message, and Model::diagnostics() lists it (what the TCK runner and
  // modelers showing partial models want).
  bool strict = true;
};

// One input value of an evaluation. `ns` selects an input of an imported
// model by that model's namespace; empty means the loaded (main) model.
// A name may also name a decision: its value is then used instead of
// evaluating it.
struct NamedInput {
  std::string ns;
  std::string name;
  feel::Value value;
};

struct EvaluateOptions {
  bool explain = true;             // fill EvaluationResult::explanation
  const Clock* clock = nullptr;    // for now()/today(); nullptr: system clock
  // The budget of the whole evaluation (every decision, BKM and table of it
  // counts together). Over a limit the evaluation stops and Evaluate answers
  // the limit's Status (422 steps/memory/nesting, 503 time/cancelled).
  feel::EvalLimits limits;
};

// One decision table evaluated during an evaluation.
struct TableHit {
  std::string element;              // the decision or BKM holding the table
  std::string table_id;             // the decisionTable's id (may be empty)
  std::string hit_policy;           // "UNIQUE", "COLLECT SUM", ...
  // The input expressions and their values: the inputs that decided.
  std::vector<std::pair<std::string, feel::Value>> inputs;
  std::vector<int> matched_rules;   // 1-based rule numbers, in rule order
  std::vector<std::string> matched_rule_ids;
  // For each matched rule, the inputs its entries tested (not "-").
  std::vector<std::vector<std::string>> deciding_inputs;
  feel::Value result;
};

struct Explanation {
  std::vector<TableHit> tables;
};

// The outcome of evaluating one decision of the graph.
struct DecisionOutcome {
  std::string name;
  std::string id;
  std::string ns;
  feel::Value value;
  // Errors and warnings raised while evaluating this decision (FEEL
  // diagnostics, hit-policy violations, values outside their type).
  std::vector<std::string> messages;
};

struct EvaluationResult {
  feel::Value value;                       // the requested decision or service
  std::vector<DecisionOutcome> decisions;  // every decision evaluated, in order
  Explanation explanation;
  // All messages of all decisions, for a quick "did anything go wrong".
  std::vector<std::string> messages;
  const DecisionOutcome* Find(std::string_view decision_name) const;
};

struct ElementInfo {
  std::string name;
  std::string id;
  std::string ns;
  enum class Kind : uint8_t { kInputData, kDecision, kBusinessKnowledgeModel, kDecisionService } kind;
  std::string type_ref;
};

class ModelImpl;

// A loaded and compiled DMN model (with the models it imports). Immutable;
// evaluable from many threads at once. feel::Values returned by an
// evaluation may hold functions of the model: keep the Model alive while
// using them.
class Model {
 public:
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const;
  const std::string& ns() const;
  // Compile errors tolerated by a non-strict load.
  const std::vector<std::string>& diagnostics() const;
  // Decisions, input data, BKMs and decision services of the main model.
  std::vector<ElementInfo> Elements() const;

  // Evaluates a decision of the main model by name or id. `inputs` is a
  // context of input data names to values; an entry named after an import
  // holding a context gives that imported model's inputs. NotFound when the
  // decision does not exist; a limit of options.limits reached gives that
  // limit's Status (feel::LimitStatus, naming the decision); other
  // evaluation problems give a null value plus messages, never a Status.
  Result<EvaluationResult> Evaluate(std::string_view decision, const feel::Value& inputs,
                                    const EvaluateOptions& options = {}) const;
  Result<EvaluationResult> Evaluate(std::string_view decision, std::span<const NamedInput> inputs,
                                    const EvaluateOptions& options = {}) const;
  // Invokes a decision service of the main model: parameters (its input
  // decisions and input data) by name from `inputs`. The value is the output
  // decision's value, or a context of them when there are several; the
  // decisions list holds each output decision.
  Result<EvaluationResult> EvaluateService(std::string_view service, std::span<const NamedInput> inputs,
                                           const EvaluateOptions& options = {}) const;

  explicit Model(std::unique_ptr<ModelImpl> impl);

 private:
  std::unique_ptr<ModelImpl> impl_;
};

// Loads DMN XML text. Errors (InvalidArgument) name the source, the element
// and its line: "loan.dmn:42: decisionTable 'Risk': rule 3: ...".
Result<std::unique_ptr<Model>> LoadModel(std::string_view xml, std::string_view source_name,
                                         const LoadOptions& options = {});
// Loads a model file; imports are found among the *.dmn files of the same
// directory by namespace (or by their locationURI).
Result<std::unique_ptr<Model>> LoadModelFile(const std::string& path, const LoadOptions& options = {});

// Converts between JSON text and FEEL values, for `rapport dmn eval`:
// numbers become decimals, objects contexts, arrays lists; strings stay
// strings (typed inputs are coerced by the model's item definitions only
// for FEEL values, so dates are passed as "@\"2024-01-01\""-style FEEL
// literals or as strings that an input of type date converts).
Result<feel::Value> ValueFromJson(std::string_view json);
std::string ValueToJson(const feel::Value& value);

// `rapport dmn eval MODEL.dmn --decision NAME --input JSON`: loads, evaluates
// and prints the result as JSON, then the matched rules. Returns the process
// exit code (0 ok, 1 evaluation problems, 2 load or usage errors).
int RunEvalCommand(const std::string& model_path, const std::string& decision,
                   const std::string& input_json, std::ostream& out);

}  // namespace rapport::dmn
