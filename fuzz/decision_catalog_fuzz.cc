// Fuzz target for the decisioning parsers: the JSON bodies of actions,
// decision points and contact policies (each input is tried as all three;
// a successful parse must round-trip through ToJson; a failure is a 400), and the decision-table
// reader behind model diffs and publish validation (the same bytes as XML).
// Nothing may crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decision/decision.h"
#include "decision/internal/model_text.h"

namespace {

template <typename Parse, typename T>
void RoundTrip(Parse parse, const rapport::Result<T>& first, std::string_view name) {
  if (!first.ok()) {
    // Bad input is the client's fault (400), never an internal error.
    if (first.status().code() != rapport::StatusCode::kInvalidArgument) std::abort();
    return;
  }
  auto again = parse(rapport::decision::ToJson(*first), name);
  if (!again.ok() || rapport::decision::ToJson(*again) != rapport::decision::ToJson(*first)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rapport::decision;
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip(ParseAction, ParseAction(text, "a1"), "a1");
  RoundTrip(ParseDecisionPoint, ParseDecisionPoint(text, "p1"), "p1");
  RoundTrip(ParseContactPolicy, ParseContactPolicy(text, "c1"), "c1");
  auto tables = internal::ReadDecisionTables(text);
  if (tables.ok()) {
    for (const auto& t : *tables) {
      for (const auto& r : t.rules) {
        for (const auto& o : r.outputs) (void)internal::StringLiteral(o);
      }
    }
  }
  (void)internal::LineDiff(text, "a\nb\n");
  return 0;
}
