#pragma once
// Evaluation of the decision requirements graph: one Evaluation per call,
// decisions evaluated on demand in dependency order and memoized, BKMs and
// decision services exposed to FEEL as function values.

#include <optional>
#include <span>
#include <vector>

#include "dmn/dmn.h"
#include "dmn/internal/model.h"

namespace rapport::dmn::internal {

// The callable value of a BKM or decision service (kept by the ModelSet).
feel::Value MakeBkmFunction(const Element* bkm);
feel::Value MakeServiceFunction(const ModelSet* set, const Element* service);

// Resolved inputs: values for input data or decisions, by element.
struct Overrides {
  std::vector<std::pair<const Element*, feel::Value>> values;
  const feel::Value* Find(const Element* e) const {
    for (const auto& [k, v] : values) {
      if (k == e) return &v;
    }
    return nullptr;
  }
};

struct Evaluation {
  const ModelSet* set = nullptr;
  EvalEnv env;
  Overrides overrides;
  std::vector<std::optional<feel::Value>> values;  // by decision index
  std::vector<uint8_t> in_progress;
  std::vector<DecisionOutcome>* outcomes = nullptr;  // nullptr: not recorded

  Evaluation(const ModelSet* s, feel::EvalContext* ctx)
      : set(s), values(s->decisions.size()), in_progress(s->decisions.size()) {
    env.ctx = ctx;
  }
  feel::Value Decision(const Element* d);
};

// Evaluates the output decisions of a service with the given parameter
// values (input decisions, then input data). Single output: its value;
// several: a context by decision name.
feel::Value EvaluateServiceCall(const ModelSet* set, const Element* service, std::span<const feel::Value> args,
                                EvalEnv* outer, std::vector<DecisionOutcome>* outcomes, feel::EvalContext& ctx);
std::vector<std::string> ServiceParameters(const Element* service);

}  // namespace rapport::dmn::internal
