// Customer-value models at the scale of CDNOW master (23,570 customers,
// 69,659 transactions, 39-week calibration):
//   BM_Analytics_ClvFit: a BG/NBD plus a Gamma-Gamma fit from the customers'
//     summary statistics (budget <= 100 ms, issue #15), beside two same-run
//     baselines: the summary-statistics pass over the transactions alone, and
//     the same two fits by NLopt's gradient-free Nelder-Mead (what a fit
//     without analytic gradients costs) with the log-likelihood each reached.
// The machine is shared, so the CPU seconds are given too.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "analytics/clv.h"
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

}  // namespace
}  // namespace rapport::analytics

BENCHMARK_MAIN();
