// Fuzz target for segment conditions: the input is compiled against a small
// profile store and counted. Whatever compiles must also give the same count
// when the whole condition is evaluated row by row by FEEL (wrapped in
// if-then-else), so the vectorized scan and the FEEL engine cannot drift
// apart unnoticed. Nothing may crash, hang or leak.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/time.h"
#include "profile/profile.h"

namespace {

rapport::profile::ProfileStore& Store() {
  using rapport::profile::ColumnType;
  static std::unique_ptr<rapport::profile::ProfileStore> store = [] {
    rapport::profile::ProfileStore::Builder b({{"region", ColumnType::kString},
                                              {"revenue", ColumnType::kNumber},
                                              {"lastPurchase", ColumnType::kDate},
                                              {"vip", ColumnType::kBoolean},
                                              {"orders", ColumnType::kNumber}});
    const char* regions[] = {"north", "south", "east", "west"};
    for (int i = 0; i < 300; ++i) {
      b.AddRow(i + 1);
      if (i % 7 != 0) b.SetString(0, regions[i % 4]);
      if (i % 5 != 0) b.SetNumber(1, (i * 37) % 1000 + 0.5);
      if (i % 3 != 0) b.SetDate(2, static_cast<int32_t>(rapport::DaysFromCivil(2025, 1, 1) + i));
      b.SetNumber(4, i % 11);
    }
    return b.Finish();
  }();
  return *store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;  // flat chains and long lists need room (issue #12)
  std::string text(reinterpret_cast<const char*>(data), size);
  auto& store = Store();
  // A small budget, as a request has: the fuzzer must not wait on a runaway.
  rapport::feel::EvalLimits limits;
  limits.max_steps = 100'000;
  limits = limits.WithTimeout(std::chrono::milliseconds(500));
  auto fast = store.Count(text, limits);
  if (!fast.ok()) return 0;
  auto slow = store.Count("if " + text + " then true else false", limits);
  if (slow.ok() && *slow != *fast) std::abort();
  return 0;
}
