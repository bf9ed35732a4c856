// The profile store at scale: build time and bytes per profile for generated
// customers with 20 columns, the count of a 3-predicate segment condition, a
// group-by over 2 dimensions, and the incremental update of one customer
// with 5 live segments. Baseline in the same run: the same count and
// group-by in DuckDB (@duckdb/node-api, `npm ci` in bench/duckdb) over the
// same profiles exported to CSV.
//
// Rows: RAPPORT_PROFILE_BENCH_ROWS (default 10,000,000). Profiles are drawn
// directly into columns (no SQLite): attribute mixes like the demo company's.

#include <benchmark/benchmark.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/time.h"
#include "demo/demo.h"
#include "profile/profile.h"

namespace rapport::profile {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCondition = R"(revenue90d > 500 and region = "north" and serviceContacts = 0)";
constexpr const char* kSqlWhere = "revenue90d > 500 AND region = 'north' AND serviceContacts = 0";

const std::vector<std::pair<std::string, ColumnType>> kColumns = {
    {"kind", ColumnType::kString},          {"region", ColumnType::kString},
    {"city", ColumnType::kString},          {"postcode", ColumnType::kString},
    {"gender", ColumnType::kString},        {"language", ColumnType::kString},
    {"birthDate", ColumnType::kDate},       {"age", ColumnType::kNumber},
    {"ageBand", ColumnType::kString},       {"industry", ColumnType::kString},
    {"orders", ColumnType::kNumber},        {"revenue", ColumnType::kNumber},
    {"revenue30d", ColumnType::kNumber},    {"revenue90d", ColumnType::kNumber},
    {"revenue365d", ColumnType::kNumber},   {"onlineOrders90d", ColumnType::kNumber},
    {"firstPurchase", ColumnType::kDate},   {"lastPurchase", ColumnType::kDate},
    {"topCategory", ColumnType::kString},   {"serviceContacts", ColumnType::kNumber},
};

// One generated profile, also written to the CSV for DuckDB.
struct Profile {
  std::array<std::string, 20> text;  // "" = null
};

int64_t Rows() {
  const char* env = std::getenv("RAPPORT_PROFILE_BENCH_ROWS");
  return env ? std::max<int64_t>(1000, std::atoll(env)) : 10'000'000;
}

std::string Num(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string Date(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// Fills p with customer i's profile; the same i always gives the same one.
void Draw(demo::Rng& rng, Profile& p) {
  static const char* kRegions[] = {"north", "south", "east", "west", "central", "northeast", "northwest", "southwest"};
  static const char* kLang[] = {"de", "de", "de", "en", "fr", "tr"};
  static const char* kCats[] = {"garden", "kitchen", "furniture", "lighting", "textiles", "tools", "decor", "bath",
                                "storage", "outdoor", "kids", "office"};
  const int64_t today = DaysFromCivil(2026, 1, 1);
  for (auto& t : p.text) t.clear();
  double k = rng.Uniform();
  bool person = k < 0.80;
  p.text[0] = person ? "person" : k < 0.92 ? "household" : "organization";
  p.text[1] = rng.Chance(0.02) ? "" : kRegions[rng.Below(8)];
  p.text[2] = "city" + std::to_string(rng.Below(400));
  p.text[3] = std::to_string(10000 + rng.Below(8000));
  if (person) {
    p.text[4] = rng.Chance(0.5) ? "f" : rng.Chance(0.98) ? "m" : "d";
    int64_t birth = today - static_cast<int64_t>(365.25 * rng.Between(18, 90)) - rng.Below(365);
    p.text[6] = Date(birth);
    int age = static_cast<int>((today - birth) / 365.25);
    p.text[7] = std::to_string(age);
    p.text[8] = age < 30 ? "18-29" : age >= 70 ? "70+" : std::to_string(age / 10 * 10) + "-" + std::to_string(age / 10 * 10 + 9);
  } else if (p.text[0] == "organization") {
    p.text[9] = "industry" + std::to_string(rng.Below(30));
  }
  p.text[5] = kLang[rng.Below(6)];
  if (rng.Chance(0.7)) {
    int64_t orders = 1 + rng.Poisson(7);
    double revenue = 0, r30 = 0, r90 = 0, r365 = 0;
    int64_t online = 0, first = today, last = today - 1100;
    for (int64_t o = 0; o < orders; ++o) {
      double amount = std::round(rng.LogNormal(3.8, 0.9) * 100) / 100;
      int64_t day = today - 1 - static_cast<int64_t>(rng.Below(1095));
      revenue += amount;
      if (day > today - 30) r30 += amount;
      if (day > today - 90) {
        r90 += amount;
        if (rng.Chance(0.5)) ++online;
      }
      if (day > today - 365) r365 += amount;
      first = std::min(first, day);
      last = std::max(last, day);
    }
    p.text[10] = std::to_string(orders);
    p.text[11] = Num(std::round(revenue * 100) / 100);
    p.text[12] = Num(std::round(r30 * 100) / 100);
    p.text[13] = Num(std::round(r90 * 100) / 100);
    p.text[14] = Num(std::round(r365 * 100) / 100);
    p.text[15] = std::to_string(online);
    p.text[16] = Date(first);
    p.text[17] = Date(last);
    p.text[18] = kCats[rng.Below(12)];
  } else {
    for (int c : {10, 11, 12, 13, 14, 15}) p.text[c] = "0";
  }
  p.text[19] = std::to_string(rng.Chance(0.75) ? 0 : rng.Poisson(1.5) + 1);
}

struct World {
  std::unique_ptr<ProfileStore> store;
  double build_seconds = 0;
  int64_t bytes = 0;
  std::string csv;  // path of the DuckDB export
  int64_t rows = 0;
  int64_t count = -1;  // kCondition on the data as exported (before the update benchmark)
};

int32_t DaysOf(const std::string& iso) {
  return static_cast<int32_t>(DaysFromCivil(std::atoi(iso.c_str()), static_cast<unsigned>(std::atoi(iso.c_str() + 5)),
                                            static_cast<unsigned>(std::atoi(iso.c_str() + 8))));
}

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    world->rows = Rows();
    world->csv = (std::filesystem::temp_directory_path() / ("rapport-profiles-" + std::to_string(::getpid()) + ".csv")).string();
    std::FILE* out = std::fopen(world->csv.c_str(), "w");
    std::string line;
    for (size_t c = 0; c < kColumns.size(); ++c) line += (c ? "," : "") + kColumns[c].first;
    line += "\n";
    std::fputs(line.c_str(), out);
    // Generation and CSV writing are not part of the build time.
    std::vector<Profile> batch(100'000);
    ProfileStore::Builder builder(kColumns);
    demo::Rng rng(42);
    double build = 0;
    for (int64_t done = 0; done < world->rows;) {
      size_t n = static_cast<size_t>(std::min<int64_t>(batch.size(), world->rows - done));
      for (size_t i = 0; i < n; ++i) {
        Draw(rng, batch[i]);
        line.clear();
        for (size_t c = 0; c < kColumns.size(); ++c) {
          if (c) line += ',';
          line += batch[i].text[c];
        }
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), out);
      }
      auto t0 = Clock::now();
      for (size_t i = 0; i < n; ++i) {
        builder.AddRow(done + static_cast<int64_t>(i) + 1);
        for (size_t c = 0; c < kColumns.size(); ++c) {
          const std::string& v = batch[i].text[c];
          if (v.empty()) continue;
          switch (kColumns[c].second) {
            case ColumnType::kString: builder.SetString(c, v); break;
            case ColumnType::kNumber: builder.SetNumber(c, std::strtod(v.c_str(), nullptr)); break;
            case ColumnType::kDate: builder.SetDate(c, DaysOf(v)); break;
            case ColumnType::kBoolean: break;
          }
        }
      }
      build += std::chrono::duration<double>(Clock::now() - t0).count();
      done += static_cast<int64_t>(n);
    }
    std::fclose(out);
    auto t0 = Clock::now();
    world->store = builder.Finish();
    build += std::chrono::duration<double>(Clock::now() - t0).count();
    world->build_seconds = build;
    world->bytes = world->store->memory_bytes();
    auto c = world->store->Count(kCondition);
    world->count = c.ok() ? *c : -1;
    return world;
  }();
  return *w;
}

void BM_Profile_Build(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) state.SetIterationTime(w.build_seconds);
  state.counters["profiles"] = static_cast<double>(w.rows);
  state.counters["bytes_per_profile"] = static_cast<double>(w.bytes) / static_cast<double>(w.rows);
  state.counters["columns"] = static_cast<double>(kColumns.size());
}
BENCHMARK(BM_Profile_Build)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Profile_SegmentCount3Predicates(benchmark::State& state) {
  World& w = TheWorld();
  int64_t n = 0;
  for (auto _ : state) {
    auto c = w.store->Count(kCondition);
    if (!c.ok()) {
      state.SkipWithError(c.status().ToString().c_str());
      return;
    }
    n = *c;
  }
  state.counters["count"] = static_cast<double>(n);
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(w.rows), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Profile_SegmentCount3Predicates)->Unit(benchmark::kMillisecond)->MinTime(2);

void BM_Profile_GroupBy2Dimensions(benchmark::State& state) {
  World& w = TheWorld();
  QuerySpec q;
  q.measures = {"count", "sum(revenue)"};
  q.dimensions = {"region", "ageBand"};
  size_t groups = 0;
  for (auto _ : state) {
    auto r = w.store->Query(q);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    groups = r->rows.size();
  }
  state.counters["groups"] = static_cast<double>(groups);
}
BENCHMARK(BM_Profile_GroupBy2Dimensions)->Unit(benchmark::kMillisecond)->MinTime(2);

// One event: a purchase changes a customer's revenue columns and last
// purchase; the 5 saved segments are re-evaluated for that customer.
void BM_Profile_IncrementalUpdate(benchmark::State& state) {
  World& w = TheWorld();
  static bool segments = [&] {
    for (const char* c : {kCondition, "revenue365d > 1000", R"(kind = "person" and ageBand = "30-39")",
                          "lastPurchase >= date(\"2025-10-01\") and onlineOrders90d > 0", R"(not(region = "west"))"}) {
      if (!w.store->CreateSegment(c, "", c).ok()) return false;
    }
    return true;
  }();
  if (!segments) {
    state.SkipWithError("segments did not compile");
    return;
  }
  demo::Rng rng(7);
  int64_t changes = 0;
  w.store->SetListener([&](const SegmentChange&) { ++changes; });
  for (auto _ : state) {
    int64_t id = 1 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(w.rows)));
    double r90 = static_cast<double>(rng.Below(2000));
    Status s = ProfileStore::Builder::Update(*w.store, id,
                                             {{"revenue90d", Num(r90)},
                                              {"revenue365d", Num(r90 * 2)},
                                              {"lastPurchase", std::to_string(DaysFromCivil(2025, 12, 31))}});
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  w.store->SetListener(nullptr);
  state.counters["segment_changes"] = static_cast<double>(changes);
}
BENCHMARK(BM_Profile_IncrementalUpdate)->Unit(benchmark::kMicrosecond)->MinTime(1);

// ---- DuckDB, same data, same questions ----------------------------------------

struct DuckResult {
  bool ok = false;
  std::string error;
  double load_ms = 0, count_ms = 0, group_ms = 0;
  int64_t count = 0, groups = 0;
};

double JsonNumber(const std::string& s, const std::string& key) {
  size_t p = s.find("\"" + key + "\":");
  return p == std::string::npos ? -1 : std::strtod(s.c_str() + p + key.size() + 3, nullptr);
}

const DuckResult& Duck() {
  static DuckResult r = [] {
    DuckResult out;
    World& w = TheWorld();
    std::string dir = std::string(RAPPORT_SOURCE_DIR) + "/bench/duckdb";
    if (!std::filesystem::exists(dir + "/node_modules/@duckdb/node-api")) {
      out.error = "DuckDB baseline not installed: run `npm ci` in bench/duckdb";
      return out;
    }
    std::string cmd = "node " + dir + "/query.mjs '" + w.csv + "' \"" + kSqlWhere + "\" 'region, ageBand' 7";
    std::FILE* p = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) text += buf;
    int rc = p ? pclose(p) : -1;
    if (rc != 0 || text.find("countMs") == std::string::npos) {
      out.error = "node query.mjs failed: " + text;
      return out;
    }
    out.ok = true;
    out.load_ms = JsonNumber(text, "loadMs");
    out.count_ms = JsonNumber(text, "countMs");
    out.group_ms = JsonNumber(text, "groupByMs");
    out.count = static_cast<int64_t>(JsonNumber(text, "count"));
    out.groups = static_cast<int64_t>(JsonNumber(text, "groups"));
    return out;
  }();
  return r;
}

void BM_DuckDB_SegmentCount3Predicates(benchmark::State& state) {
  const DuckResult& d = Duck();
  if (!d.ok) {
    state.SkipWithError(d.error.c_str());
    return;
  }
  for (auto _ : state) state.SetIterationTime(d.count_ms / 1000);
  state.counters["count"] = static_cast<double>(d.count);
  state.counters["same_answer"] = TheWorld().count == d.count ? 1 : 0;
  state.counters["csv_load_ms"] = d.load_ms;
}
BENCHMARK(BM_DuckDB_SegmentCount3Predicates)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_DuckDB_GroupBy2Dimensions(benchmark::State& state) {
  const DuckResult& d = Duck();
  if (!d.ok) {
    state.SkipWithError(d.error.c_str());
    return;
  }
  for (auto _ : state) state.SetIterationTime(d.group_ms / 1000);
  state.counters["groups"] = static_cast<double>(d.groups);
}
BENCHMARK(BM_DuckDB_GroupBy2Dimensions)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rapport::profile

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove(rapport::profile::TheWorld().csv);
  return 0;
}
