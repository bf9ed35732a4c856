// Fuzz target for the DMN XML loader: any bytes must load or fail with a
// Status, never crash; models that load are evaluated once per decision with
// no inputs (errors become null values and messages).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmn/dmn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 16)) return 0;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  for (bool strict : {true, false}) {
    rapport::dmn::LoadOptions options;
    options.strict = strict;
    auto model = rapport::dmn::LoadModel(xml, "fuzz.dmn", options);
    if (!model.ok()) continue;
    for (const auto& e : (*model)->Elements()) {
      if (e.kind != rapport::dmn::ElementInfo::Kind::kDecision) continue;
      auto r = (*model)->Evaluate(e.name, rapport::feel::Value());
      (void)r;
    }
  }
  return 0;
}
