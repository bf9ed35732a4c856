#pragma once
// The built-in function library of FEEL (DMN 1.5 section 10.3.4). The table
// is built once and immutable; thread-safe.

#include <string>
#include <vector>

#include "feel/feel.h"

namespace rapport::feel::internal {

using BuiltinImpl = Value (*)(std::span<const Value> args, EvalContext& ctx);

// One signature of a built-in: parameter names (required first, then
// optional), and whether extra positional arguments are accepted (list
// functions such as max(1, 2, 3)).
struct BuiltinSignature {
  std::vector<std::string> params;
  size_t required = 0;
  bool variadic = false;
  BuiltinImpl impl = nullptr;
  // Bit i set: parameter i is named "list" / "string" (singleton-list
  // conversions, DMN 1.5 10.3.2.9.4). Filled when the table is built.
  uint32_t list_params = 0;
  uint32_t string_params = 0;
};

struct Builtin {
  std::string name;
  std::vector<BuiltinSignature> signatures;
  std::shared_ptr<const Function> as_value;  // for passing built-ins around (sort(l, f), ...)
};

const Builtin* LookupBuiltin(std::string_view name);
// Every built-in name, longest first (the parser matches multi-word names).
const std::vector<std::string>& BuiltinNames();

// Calls with positional (names empty) or named arguments; null + warning on
// arity or name mismatch.
Value CallBuiltin(const Builtin& b, std::span<const Value> args, const std::vector<std::string>& names,
                  EvalContext& ctx);

// Invokes any function value with positional or named arguments.
Value Invoke(const Value& fn, std::span<const Value> args, const std::vector<std::string>& names,
             EvalContext& ctx);

}  // namespace rapport::feel::internal
