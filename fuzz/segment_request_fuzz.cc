// Fuzz target for the segment and analytics request bodies: the first byte
// picks the body (segment preview, segment, analytics query), the rest is
// parsed as JSON and decoded as the routes decode it; what decodes runs
// against a small profile store under a small budget, as a request would.
// Errors must name a JSON pointer and render as a problem document. Nothing
// may crash, hang or leak (the 15,000-term condition of issue #12 did).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/json.h"
#include "common/time.h"
#include "profile/profile.h"
#include "server/internal/problem.h"
#include "server/internal/segment_codec.h"
#include "problem_checks.h"

namespace {

using namespace rapport;
using namespace rapport::server::internal;

// Evaluation may also answer 503 (the time limit).
void CheckError(const Status& s) { rapport::fuzz::CheckError(s, 599); }

profile::ProfileStore& Store() {
  using profile::ColumnType;
  static std::unique_ptr<profile::ProfileStore> store = [] {
    profile::ProfileStore::Builder b({{"region", ColumnType::kString},
                                      {"revenue", ColumnType::kNumber},
                                      {"lastPurchase", ColumnType::kDate},
                                      {"vip", ColumnType::kBoolean},
                                      {"age", ColumnType::kNumber},
                                      {"postcode", ColumnType::kString}});
    const char* regions[] = {"Nord", "Süd", "Ost", "West"};
    for (int i = 0; i < 300; ++i) {
      b.AddRow(i + 1);
      if (i % 7 != 0) b.SetString(0, regions[i % 4]);
      if (i % 5 != 0) b.SetNumber(1, (i * 37) % 1000 + 0.5);
      if (i % 3 != 0) b.SetDate(2, static_cast<int32_t>(DaysFromCivil(2025, 1, 1) + i));
      b.SetNumber(4, 18 + i % 70);
      b.SetString(5, std::to_string(10000 + i * 13));
    }
    return b.Finish();
  }();
  return *store;
}

// A small budget: the fuzzer must not wait on a runaway input.
feel::EvalLimits Limits() {
  feel::EvalLimits l;
  l.max_steps = 100'000;
  l.max_bytes = 8 << 20;
  return l.WithTimeout(std::chrono::milliseconds(500));
}

template <typename T>
void Answer(const Result<T>& r) {
  if (!r.ok()) CheckError(r.status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  int which = data[0] % 3;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto doc = json::Parse(text);
  if (!doc.ok()) {
    CheckError(doc.status());
    return 0;
  }
  const rapidjson::Value& body = **doc;
  auto& store = Store();
  switch (which) {
    case 0: {
      auto condition = DecodePreview(body);
      if (!condition.ok()) return CheckError(condition.status()), 0;
      Answer(store.Count(*condition, Limits()));
      break;
    }
    case 1: {
      auto s = DecodeSegmentRequest(body);
      if (!s.ok()) return CheckError(s.status()), 0;
      if (!s->operation) Answer(store.Count(s->condition, Limits()));
      break;
    }
    default: {
      auto q = DecodeAnalyticsQuery(body);
      if (!q.ok()) return CheckError(q.status()), 0;
      q->limits = Limits();
      Answer(store.Query(*q));
      break;
    }
  }
  return 0;
}
