// Customer-value models at the scale of CDNOW master (23,570 customers,
// 69,659 transactions, 39-week calibration):
//   BM_Analytics_ClvFit: a BG/NBD plus a Gamma-Gamma fit from the customers'
//     summary statistics (budget <= 100 ms, issue #15), beside two same-run
//     baselines: the summary-statistics pass over the transactions alone, and
//     the same two fits by NLopt's gradient-free Nelder-Mead (what a fit
//     without analytic gradients costs) with the log-likelihood each reached.
//   BM_Analytics_ScoreBoosted/<depth>: scoring 1,000,000 rows of the 45
//     Telco churn features with a 200-tree XGBoost model trained on Telco
//     (budget <= 2 s), beside the same-run baseline of the logistic
//     regression scoring the same rows.
//   BM_Analytics_Rfm: RFM (measures, quintile scores, cells) for 1,000,000
//     synthetic customers with 5.5 transactions each on average (budget
//     <= 1 s), beside the same-run baseline of only sorting the same
//     transactions by customer and day (what a sort-based GROUP BY pays first).
// The machine is shared, so the CPU seconds are given too.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <algorithm>

#include <fstream>
#include <sstream>

#include "analytics/clv.h"
#include "analytics/model.h"
#include "analytics/rfm.h"

#include <random>
#include "common/time.h"

namespace rapport::analytics {
namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const TransactionList& Master() {
  static const TransactionList list = [] {
    auto l = ReadTransactionFile(std::string(RAPPORT_SHARED_DIR) + "/data/cdnow/CDNOW_master.txt",
                                 TransactionFileFormat::kWhitespace, {"customer_id", "date", "dollar_value"});
    if (!l.ok()) {
      std::fprintf(stderr, "%s\n", l.status().ToString().c_str());
      std::abort();
    }
    return *l;
  }();
  return list;
}

SummaryOptions Calibration() {
  SummaryOptions o;
  o.calibration_end = static_cast<int32_t>(DaysFromCivil(1997, 9, 30));
  return o;
}

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(*r);
}

void BM_Analytics_ClvFit(benchmark::State& state) {
  const TransactionList& list = Master();
  SummaryTable table = Must(Summarize(list, Calibration()));
  double ll_bg = 0, ll_gg = 0;
  double wall = 0, cpu = 0;
  int64_t n = 0;
  for (auto _ : state) {
    double w0 = Now(), c0 = CpuSeconds();
    BgNbdFit bg = Must(FitBgNbd(table.customers));
    GammaGammaFit gg = Must(FitGammaGamma(table.customers));
    wall += Now() - w0;
    cpu += CpuSeconds() - c0;
    ++n;
    ll_bg = bg.info.log_likelihood;
    ll_gg = gg.info.log_likelihood;
    benchmark::DoNotOptimize(bg);
  }
  // Baselines, once each, in the same process.
  double s0 = Now();
  SummaryTable again = Must(Summarize(list, Calibration()));
  double summary = Now() - s0;
  benchmark::DoNotOptimize(again);
  FitOptions nm;
  nm.gradient_free = true;
  nm.max_evaluations = 20000;
  nm.gradient_tolerance = 1e300;  // a baseline: take wherever it stops
  double n0 = Now();
  BgNbdFit bg_nm = Must(FitBgNbd(table.customers, nm));
  GammaGammaFit gg_nm = Must(FitGammaGamma(table.customers, nm));
  double nelder = Now() - n0;
  state.counters["customers"] = static_cast<double>(table.customers.size());
  state.counters["transactions"] = static_cast<double>(list.rows.size());
  state.counters["fit_ms"] = wall / static_cast<double>(n) * 1e3;
  state.counters["fit_cpu_ms"] = cpu / static_cast<double>(n) * 1e3;
  state.counters["LL_bgnbd"] = ll_bg;
  state.counters["LL_gg"] = ll_gg;
  state.counters["base_summary_ms"] = summary * 1e3;
  state.counters["base_neldermead_ms"] = nelder * 1e3;
  state.counters["base_nm_evals"] = bg_nm.info.evaluations + gg_nm.info.evaluations;
  state.counters["base_nm_LL_bgnbd"] = bg_nm.info.log_likelihood;
  state.counters["base_nm_LL_gg"] = gg_nm.info.log_likelihood;
}
BENCHMARK(BM_Analytics_ClvFit)->Unit(benchmark::kMillisecond)->MinTime(1.0);

const FeatureMatrix& Telco() {
  static const FeatureMatrix m = [] {
    std::ifstream f(std::string(RAPPORT_SHARED_DIR) + "/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv");
    std::stringstream ss;
    ss << f.rdbuf();
    EncoderOptions o;
    o.target = "Churn";
    o.positive = "Yes";
    o.exclude = {"customerID"};
    return Must(EncodeCsv(ss.str(), o));
  }();
  return m;
}

void BM_Analytics_ScoreBoosted(benchmark::State& state) {
  const FeatureMatrix& m = Telco();
  std::vector<size_t> all(m.rows());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  BoostedOptions bo;
  bo.trees = 200;
  bo.max_depth = static_cast<int>(state.range(0));
  BoostedModel model = Must(BoostedModel::Train(m, all, bo));
  if (Status s = model.SetThreads(2); !s.ok()) std::abort();
  LogisticModel logistic = Must(FitLogistic(m, all));
  // 1M rows: the Telco customers over and over.
  const size_t n = 1'000'000, p = m.cols();
  std::vector<float> rows(n * p);
  for (size_t i = 0; i < n; ++i) std::copy_n(&m.values[(i % m.rows()) * p], p, &rows[i * p]);
  double wall = 0, cpu = 0, checksum = 0;
  int64_t iterations = 0;
  for (auto _ : state) {
    double w0 = Now(), c0 = CpuSeconds();
    std::vector<double> scores = Must(model.Predict(rows.data(), n, p));
    wall += Now() - w0;
    cpu += CpuSeconds() - c0;
    ++iterations;
    checksum = scores[n / 2];
    benchmark::DoNotOptimize(scores);
  }
  double b0 = Now();
  std::vector<double> base(n);
  for (size_t i = 0; i < n; ++i) base[i] = logistic.Predict(&rows[i * p]);
  double base_wall = Now() - b0;
  benchmark::DoNotOptimize(base);
  state.counters["rows"] = static_cast<double>(n);
  state.counters["features"] = static_cast<double>(p);
  state.counters["trees"] = 200;
  state.counters["score_s"] = wall / static_cast<double>(iterations);
  state.counters["score_cpu_s"] = cpu / static_cast<double>(iterations);
  state.counters["base_logistic_s"] = base_wall;
  state.counters["checksum"] = checksum;
}
BENCHMARK(BM_Analytics_ScoreBoosted)->Arg(3)->Arg(6)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Analytics_Rfm(benchmark::State& state) {
  const int64_t customers = state.range(0);
  TransactionList list;
  std::mt19937_64 rng(7);
  std::geometric_distribution<int> count(0.2);  // 1 + mean 4.5 more
  std::uniform_int_distribution<int32_t> day(static_cast<int32_t>(DaysFromCivil(2023, 1, 1)),
                                             static_cast<int32_t>(DaysFromCivil(2025, 12, 31)));
  std::lognormal_distribution<double> amount(3.5, 0.8);
  std::uniform_real_distribution<double> unit(0, 1);
  list.customers.resize(static_cast<size_t>(customers));
  for (int64_t c = 0; c < customers; ++c) {
    list.customers[static_cast<size_t>(c)] = std::to_string(c);
    int n = 1 + count(rng);
    for (int k = 0; k < n; ++k) {
      int64_t cents = static_cast<int64_t>(amount(rng) * 100);
      if (unit(rng) < 0.03) cents = -cents / 2;  // a refund
      list.rows.push_back({static_cast<int32_t>(c), day(rng), Money::FromUnits(cents * 100)});
    }
  }
  std::shuffle(list.rows.begin(), list.rows.end(), rng);
  RfmOptions o;
  o.as_of = static_cast<int32_t>(DaysFromCivil(2026, 1, 1));
  double wall = 0, cpu = 0;
  int64_t iterations = 0;
  std::string top;
  for (auto _ : state) {
    double w0 = Now(), c0 = CpuSeconds();
    RfmTable t = Must(ComputeRfm(list, o));
    wall += Now() - w0;
    cpu += CpuSeconds() - c0;
    ++iterations;
    top = t.rows.front().Cell();
    benchmark::DoNotOptimize(t);
  }
  std::vector<Transaction> sorted = list.rows;
  double b0 = Now();
  std::sort(sorted.begin(), sorted.end(), [](const Transaction& l, const Transaction& r) {
    return l.customer != r.customer ? l.customer < r.customer : l.day < r.day;
  });
  double base = Now() - b0;
  benchmark::DoNotOptimize(sorted);
  state.counters["customers"] = static_cast<double>(customers);
  state.counters["transactions"] = static_cast<double>(list.rows.size());
  state.counters["rfm_s"] = wall / static_cast<double>(iterations);
  state.counters["rfm_cpu_s"] = cpu / static_cast<double>(iterations);
  state.counters["base_sort_s"] = base;
}
BENCHMARK(BM_Analytics_Rfm)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace rapport::analytics

BENCHMARK_MAIN();
