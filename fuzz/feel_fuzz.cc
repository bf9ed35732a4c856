// Fuzz target for the FEEL parser and evaluator: the input is compiled both
// as an expression and as unary tests, and whatever compiles is evaluated.
// Nothing may crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feel/feel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;  // flat chains and long lists need room (issue #12)
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace rapport::feel;
  Scope scope;
  scope.Set("x", Value::Number(5));
  scope.Set("s", Value::String("abc"));
  EvalContext ctx;
  if (auto e = Compile(text); e.ok()) {
    Value v = e->Evaluate(scope, ctx);
    (void)v.ToString();
  }
  if (auto t = CompileUnaryTests(text); t.ok()) {
    (void)t->Matches(Value::Number(5), scope, ctx);
    (void)t->Matches(Value(), scope, ctx);
  }
  return 0;
}
