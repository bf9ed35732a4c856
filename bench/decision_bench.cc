// Next best action in process: decisions over 1 million generated profiles
// (ProfileStore::Builder, no SQLite for the profiles) with 50 actions, a
// 100-rule COLLECT decision table, FEEL eligibility conditions on a fifth of
// the actions and a suitability condition given as a DMN decision (of a
// second published model, "care") on a seventh, and four contact policies (consent, an email
// frequency cap, a suppression condition, a 5% control group). Every
// decision is recorded: it gets an id, is remembered for responses and goes
// to the decision log's group-commit writer (SQLite, fsync per batch).
// Baseline in the same run: plain dmn Model::Evaluate of the same table
// with the same inputs already in hand (no profile read, no filtering,
// policies, arbitration or logging). Budget: p50 <= 20 us, p99 <= 100 us.
//
// Rows: RAPPORT_DECISION_BENCH_ROWS (default 1,000,000); decisions per run:
// RAPPORT_DECISION_BENCH_DECISIONS (default 200,000).

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "decision_model.h"
#include "decision/decision.h"
#include "demo/demo.h"
#include "profile/profile.h"
#include "storage/storage.h"

namespace rapport::decision {
namespace {

using Steady = std::chrono::steady_clock;
using profile::ColumnType;

using bench::kRegions;
using bench::NbaModel;
const char* kSegments[] = {"consumer", "premium", "student", "senior"};
const std::vector<std::pair<std::string, ColumnType>> kColumns = {
    {"region", ColumnType::kString}, {"segment", ColumnType::kString}, {"age", ColumnType::kNumber},
    {"revenue", ColumnType::kNumber}, {"revenue90d", ColumnType::kNumber}, {"orders", ColumnType::kNumber},
    {"serviceContacts", ColumnType::kNumber}, {"city", ColumnType::kString},
};

int64_t Env(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::max<int64_t>(1000, std::atoll(v)) : fallback;
}

struct World {
  std::filesystem::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<profile::ProfileStore> profile;
  std::unique_ptr<DecisionEngine> engine;
  std::unique_ptr<dmn::Model> baseline_model;
  int64_t rows = 0;
};

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::abort();
}

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    world->rows = Env("RAPPORT_DECISION_BENCH_ROWS", 1'000'000);
    profile::ProfileStore::Builder builder(kColumns);
    demo::Rng rng(7);
    for (int64_t id = 1; id <= world->rows; ++id) {
      builder.AddRow(id);
      builder.SetString(0, kRegions[rng.Below(5)]);
      builder.SetString(1, kSegments[rng.Below(4)]);
      builder.SetNumber(2, static_cast<double>(rng.Between(18, 87)));
      double revenue = rng.Chance(0.3) ? 0 : std::min(20000.0, rng.LogNormal(5.5, 1.2));
      builder.SetNumber(3, revenue);
      builder.SetNumber(4, revenue * rng.Uniform() * 0.4);
      builder.SetNumber(5, static_cast<double>(rng.Poisson(3)));
      builder.SetNumber(6, static_cast<double>(rng.Poisson(0.4)));
      builder.SetString(7, "city" + std::to_string(rng.Below(200)));
    }
    world->profile = builder.Finish();
    world->dir = std::filesystem::temp_directory_path() / ("rapport-decision-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(world->dir);
    std::filesystem::create_directories(world->dir);
    auto db = storage::OpenSqlite((world->dir / "bench.db").string());
    Check(db.status(), "open");
    world->db = std::move(*db);
    auto engine = DecisionEngine::Open(world->db.get(), world->profile.get(), nullptr);
    Check(engine.status(), "engine");
    world->engine = std::move(*engine);
    DecisionEngine& e = *world->engine;
    Actor author{"bench-author", false}, reviewer{"bench-reviewer", false};
    auto publish = [&](const std::string& xml, const char* name) {
      auto up = e.UploadModel(xml, author);
      Check(up.status(), "upload");
      Check(e.Submit(name, 1, author).status(), "submit");
      Check(e.Approve(name, 1, reviewer).status(), "approve");
      Check(e.Publish(name, 1, reviewer).status(), "publish");
    };
    // The suitability decision the conditions name.
    publish(R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:rapport:bench:care" name="care" id="care">
  <inputData id="in_r90" name="revenue90d"><variable name="revenue90d" typeRef="number"/></inputData>
  <inputData id="in_segment" name="segment"><variable name="segment" typeRef="string"/></inputData>
  <decision id="suitable" name="Suitable">
    <informationRequirement><requiredInput href="#in_r90"/></informationRequirement>
    <informationRequirement><requiredInput href="#in_segment"/></informationRequirement>
    <literalExpression><text>revenue90d &lt; 5000 or segment = "premium"</text></literalExpression>
  </decision>
</definitions>
)", "care");
    for (int i = 0; i < 50; ++i) {
      char id[8];
      std::snprintf(id, sizeof id, "a%02d", i);
      std::string body = R"({"kind":")" + std::string(i % 4 == 3 ? "service" : "offer") + R"(","name":"Action )" +
                         std::to_string(i) + R"(","value":)" + std::to_string(10 + i) + R"(,"businessLever":)" +
                         std::to_string(1 + (i % 3) * 0.5) + R"(,"channels":["web","email"])" +
                         (i % 4 == 3 ? R"(,"purpose":"service")" : "") +
                         (i % 5 == 0 ? R"(,"eligibility":"age >= 25")" : "") +
                         (i % 7 == 0 ? R"(,"suitability":{"model":"care","decision":"Suitable"})" : "") + "}";
      auto a = ParseAction(body, id);
      Check(a.status(), "action");
      Check(e.PutAction(*a).status(), "put action");
    }
    publish(NbaModel(), "nba");
    auto point = ParseDecisionPoint(R"({"model":"nba","decision":"Next Best Actions","channels":["web","email"]})", "web-home");
    Check(point.status(), "point");
    Check(e.PutDecisionPoint(*point).status(), "put point");
    for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
             {"consent", R"({"kind":"consent","purposes":["marketing"],"channels":["email"],"grantedByDefault":true})"},
             {"email-weekly", R"({"kind":"frequencyCap","channels":["email"],"purposes":["marketing"],"max":3,"windowDays":7})"},
             {"service-trouble", R"({"kind":"suppression","condition":"serviceContacts > 2","purposes":["marketing"]})"},
             {"holdout", R"({"kind":"controlGroup","percent":5})"},
         }) {
      auto p = ParseContactPolicy(body, name);
      Check(p.status(), "policy");
      Check(e.PutPolicy(*p).status(), "put policy");
    }
    auto m = dmn::LoadModel(NbaModel(), "nba.dmn");
    Check(m.status(), "baseline model");
    world->baseline_model = std::move(*m);
    return world;
  }();
  return *w;
}

struct Latencies {
  std::vector<double> us;
  double seconds = 0;
  double Percentile(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  }
};

// The same customers, in the same order, for both measurements.
std::vector<int64_t> Customers(int64_t rows, size_t n) {
  demo::Rng rng(99);
  std::vector<int64_t> out(n);
  for (auto& id : out) id = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(rows))) + 1;
  return out;
}

double g_baseline_p50 = 0, g_baseline_p99 = 0, g_baseline_rate = 0;

void BM_Baseline_DmnEvaluate(benchmark::State& state) {
  World& w = TheWorld();
  auto ids = Customers(w.rows, static_cast<size_t>(Env("RAPPORT_DECISION_BENCH_DECISIONS", 200'000)));
  // Inputs read before the clock starts: the baseline is the table alone.
  std::vector<int> cols = {w.profile->ColumnIndex("region"), w.profile->ColumnIndex("age"),
                           w.profile->ColumnIndex("revenue")};
  std::vector<std::vector<dmn::NamedInput>> inputs(ids.size());
  std::vector<feel::Value> row;
  for (size_t i = 0; i < ids.size(); ++i) {
    Check(w.profile->ReadRow(ids[i], cols, &row), "read");
    inputs[i] = {{"", "region", row[0]}, {"", "age", row[1]}, {"", "revenue", row[2]}};
  }
  dmn::EvaluateOptions eo;
  eo.explain = false;
  Latencies lat;
  lat.us.reserve(ids.size());
  size_t matched = 0;
  for (auto _ : state) {
    auto start = Steady::now();
    for (size_t i = 0; i < ids.size(); ++i) {
      auto t0 = Steady::now();
      auto r = w.baseline_model->Evaluate("Next Best Actions", inputs[i], eo);
      auto t1 = Steady::now();
      if (r.ok() && r->value.is(feel::Type::kList)) matched += r->value.list().size();
      lat.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    lat.seconds = std::chrono::duration<double>(Steady::now() - start).count();
    state.SetIterationTime(lat.seconds);
  }
  g_baseline_rate = static_cast<double>(ids.size()) / lat.seconds;
  g_baseline_p50 = lat.Percentile(0.5);
  g_baseline_p99 = lat.Percentile(0.99);
  state.counters["evals_per_s"] = g_baseline_rate;
  state.counters["p50_us"] = g_baseline_p50;
  state.counters["p99_us"] = g_baseline_p99;
  state.counters["p999_us"] = lat.Percentile(0.999);
  state.counters["max_us"] = lat.us.back();
  state.counters["actions_per_eval"] = static_cast<double>(matched) / static_cast<double>(ids.size());
}
BENCHMARK(BM_Baseline_DmnEvaluate)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Decision_Decide(benchmark::State& state) {
  World& w = TheWorld();
  bool explain = state.range(0) != 0;
  auto ids = Customers(w.rows, static_cast<size_t>(Env("RAPPORT_DECISION_BENCH_DECISIONS", 200'000)));
  Latencies lat;
  lat.us.reserve(ids.size());
  size_t offered = 0, errors = 0;
  DecideRequest req;
  req.decision_point = "web-home";
  req.limit = 3;
  req.explain = explain;
  for (auto _ : state) {
    auto start = Steady::now();
    for (size_t i = 0; i < ids.size(); ++i) {
      req.customer_id = ids[i];
      req.channel = i % 10 == 0 ? "email" : "web";
      auto t0 = Steady::now();
      auto r = w.engine->Decide(req);
      auto t1 = Steady::now();
      if (r.ok()) offered += r->actions.size();
      else ++errors;
      lat.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    lat.seconds = std::chrono::duration<double>(Steady::now() - start).count();
    state.SetIterationTime(lat.seconds);
  }
  Check(w.engine->FlushLog(), "flush");
  double p50 = lat.Percentile(0.5), p99 = lat.Percentile(0.99);
  state.counters["decisions_per_s"] = static_cast<double>(ids.size()) / lat.seconds;
  state.counters["p50_us"] = p50;
  state.counters["p99_us"] = p99;
  state.counters["p999_us"] = lat.Percentile(0.999);
  state.counters["max_us"] = lat.us.back();
  state.counters["baseline_p50_us"] = g_baseline_p50;
  state.counters["baseline_p99_us"] = g_baseline_p99;
  state.counters["actions_per_decision"] = static_cast<double>(offered) / static_cast<double>(ids.size());
  state.counters["errors"] = static_cast<double>(errors);
  std::printf("decide%s over %lld profiles: %.0f decisions/s, p50 %.1f us, p99 %.1f us (budget p50 <= 20, p99 <= 100); "
              "baseline dmn Evaluate of the same table: %.0f evals/s, p50 %.1f us, p99 %.1f us\n",
              explain ? " (explain)" : "", static_cast<long long>(w.rows), static_cast<double>(ids.size()) / lat.seconds,
              p50, p99, g_baseline_rate, g_baseline_p50, g_baseline_p99);
}
BENCHMARK(BM_Decision_Decide)->Arg(0)->Arg(1)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rapport::decision

BENCHMARK_MAIN();
