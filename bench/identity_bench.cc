// Identity resolution at scale, on the demo company's persons plus noisy
// second records made with the demo generator's noise (typos, phone written
// another way, e-mail or birth date missing), tests/identity/people.json as
// the model:
//   BM_Identity_Dedupe: batch deduplication (normalize, train u and m, score
//     the blocked pairs, cluster) of the argument's number of records (1M by
//     default), beside a same-run baseline of exact-identifier matching only
//     (e-mail or phone equal, the rule most CRMs ship): time and pair F1 of both.
//   BM_Identity_MatchOne: latency of matching one arriving record against an
//     in-memory index of 1M records (p50 and p99 over held-out duplicates),
//     beside the baseline of an exact e-mail hash lookup in the same index.
// The machine is shared, so the CPU seconds of the process are given too.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "../tests/identity/generated_people.h"
#include "identity/identity.h"

namespace rapport::identity {
namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

ModelConfig PeopleConfig() {
  std::ifstream in(std::string(RAPPORT_SOURCE_DIR) + "/tests/identity/people.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseModelConfig(ss.str());
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    std::abort();
  }
  c->threads = 2;
  return *c;
}

struct Data {
  RecordTable records;
  std::vector<std::string> truth;
  testing::GeneratedPeople people;
};

// About n records: persons are ~78% of the demo's customers and 30% of them
// get a second record, so 1.01 records per customer.
const Data& People(int64_t n) {
  static std::map<int64_t, Data> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  Data d;
  d.people = testing::GeneratePeople(static_cast<int64_t>(static_cast<double>(n) / 1.0101), 0.3, 2026);
  d.records = testing::Combined(d.people, &d.truth);
  return cache.emplace(n, std::move(d)).first->second;
}

// Exact-identifier matching: records sharing a normalized e-mail or phone.
std::vector<int64_t> ExactIdentifierClusters(const RecordTable& t) {
  std::vector<ScoredPair> pairs;
  int email = t.ColumnIndex("email"), phone = t.ColumnIndex("phone");
  for (auto [col, norm] : {std::pair{email, Normalizer::kEmail}, std::pair{phone, Normalizer::kPhone}}) {
    std::unordered_map<std::string, int64_t> first;
    first.reserve(t.size());
    for (size_t i = 0; i < t.size(); ++i) {
      std::string v = Normalize(norm, t.rows[i][static_cast<size_t>(col)]);
      if (v.empty()) continue;
      auto [pos, inserted] = first.emplace(std::move(v), static_cast<int64_t>(i));
      if (!inserted) pairs.push_back({pos->second, static_cast<int64_t>(i), 0, 1, true});
    }
  }
  return Cluster(static_cast<int64_t>(t.size()), pairs, 1.0);
}

void BM_Identity_Dedupe(benchmark::State& state) {
  const Data& d = People(state.range(0));
  ModelConfig config = PeopleConfig();
  DedupeResult last;
  double cpu = 0, wall = 0;
  for (auto _ : state) {
    double c0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    auto r = Dedupe(config, d.records);
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu = CpuSeconds() - c0;
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    last = std::move(*r);
  }
  PairQuality q = ClusterQuality(last.cluster, d.truth);
  double c0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int64_t> base = ExactIdentifierClusters(d.records);
  double base_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double base_cpu = CpuSeconds() - c0;
  PairQuality bq = ClusterQuality(base, d.truth);
  state.counters["records"] = static_cast<double>(d.records.size());
  state.counters["seconds"] = wall;
  state.counters["cpu_s"] = cpu;
  state.counters["F1"] = q.f1();
  state.counters["precision"] = q.precision();
  state.counters["recall"] = q.recall();
  state.counters["candidates"] = static_cast<double>(last.params.candidate_pairs);
  state.counters["base_seconds"] = base_wall;
  state.counters["base_F1"] = bq.f1();
  std::printf(
      "identity dedupe: %zu records in %.1f s wall (%.1f s CPU; prepare %.1f, train %.1f, score %.1f, cluster %.2f), "
      "%lld candidate pairs, precision %.4f recall %.4f F1 %.4f | baseline exact e-mail/phone: %.1f s wall "
      "(%.1f s CPU), precision %.4f recall %.4f F1 %.4f\n",
      d.records.size(), wall, cpu, last.seconds_prepare, last.seconds_train, last.seconds_score, last.seconds_cluster,
      static_cast<long long>(last.params.candidate_pairs), q.precision(), q.recall(), q.f1(), base_wall, base_cpu,
      bq.precision(), bq.recall(), bq.f1());
}
BENCHMARK(BM_Identity_Dedupe)->Arg(1000000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

void BM_Identity_MatchOne(benchmark::State& state) {
  const Data& d = People(state.range(0));
  ModelConfig config = PeopleConfig();
  // Train on the whole set and index all of it; then new records arrive one
  // at a time: fresh noisy copies of random indexed persons (not in the index).
  auto prepared = Prepare(config, d.records);
  auto params = Train(config, **prepared, **prepared);
  if (!params.ok()) {
    state.SkipWithError(params.status().ToString().c_str());
    return;
  }
  auto index = MatchIndex::Create(config, *params, d.records.columns);
  if (!index.ok() || !(*index)->AddAll(d.records).ok()) {
    state.SkipWithError("indexing failed");
    return;
  }
  RecordTable arriving;
  std::vector<std::string> arriving_truth;
  demo::Rng rng(99);
  for (int k = 0; k < 20000; ++k) {
    size_t o = static_cast<size_t>(rng.Below(d.people.originals.size()));
    arriving.ids.push_back("new-" + std::to_string(k));
    arriving.rows.push_back(testing::NoisyCopy(d.people.originals.rows[o], rng));
    arriving_truth.push_back(d.people.original_truth[o]);
  }
  // Which record ids belong to which person, to check what Find returns.
  std::unordered_map<std::string, const std::string*> truth_of;
  for (size_t r = 0; r < d.records.size(); ++r) truth_of.emplace(d.records.ids[r], &d.truth[r]);
  std::vector<double> micros;
  micros.reserve(arriving.size());
  size_t i = 0, found = 0, wrong = 0;
  for (auto _ : state) {
    const std::vector<std::string>& row = arriving.rows[i % arriving.size()];
    const std::string& want = arriving_truth[i % arriving.size()];
    auto t0 = std::chrono::steady_clock::now();
    auto matches = (*index)->Find(row, config.review_threshold, 5);
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (!matches.empty()) (*truth_of[matches[0].id] == want ? found : wrong) += 1;
    benchmark::DoNotOptimize(matches);
    ++i;
  }
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) { return micros.empty() ? 0.0 : micros[static_cast<size_t>(p * (micros.size() - 1))]; };
  // Baseline: an exact e-mail lookup in a hash map over the same records.
  std::unordered_map<std::string, uint32_t> by_email;
  int email = d.records.ColumnIndex("email");
  for (size_t r = 0; r < d.records.size(); ++r) {
    std::string e = Normalize(Normalizer::kEmail, d.records.rows[r][static_cast<size_t>(email)]);
    if (!e.empty()) by_email.emplace(std::move(e), static_cast<uint32_t>(r));
  }
  std::vector<double> base;
  for (size_t k = 0; k < std::min<size_t>(arriving.size(), 20000); ++k) {
    auto t0 = std::chrono::steady_clock::now();
    auto it = by_email.find(Normalize(Normalizer::kEmail, arriving.rows[k][static_cast<size_t>(email)]));
    benchmark::DoNotOptimize(it);
    base.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(base.begin(), base.end());
  state.counters["indexed"] = static_cast<double>((*index)->size());
  state.counters["p50_us"] = pct(0.5);
  state.counters["p99_us"] = pct(0.99);
  state.counters["found"] = micros.empty() ? 0 : static_cast<double>(found) / static_cast<double>(micros.size());
  state.counters["base_p50_us"] = base.empty() ? 0 : base[base.size() / 2];
  std::printf("identity match one vs %zu: p50 %.1f us, p99 %.1f us, max %.1f us (%zu lookups, best match the "
              "right person %.1f%%, a wrong one %.2f%%) | baseline exact e-mail hash lookup: p50 %.2f us, p99 %.2f us\n",
              (*index)->size(), pct(0.5), pct(0.99), micros.empty() ? 0 : micros.back(), micros.size(),
              micros.empty() ? 0 : 100.0 * static_cast<double>(found) / static_cast<double>(micros.size()),
              micros.empty() ? 0 : 100.0 * static_cast<double>(wrong) / static_cast<double>(micros.size()),
              base.empty() ? 0 : base[base.size() / 2], base.empty() ? 0 : base[base.size() * 99 / 100]);
}
BENCHMARK(BM_Identity_MatchOne)->Arg(1000000)->Iterations(20000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace rapport::identity

BENCHMARK_MAIN();
