// Change-feed lag: how long after a write starts its change reaches a
// subscriber, at a steady 10,000 changes/s (open loop: each transaction
// starts at its scheduled time, whether or not the previous one was slow).
// One writer thread appends the changes in transactions the size of a
// tracking group commit (100 changes every 10 ms) or of API calls
// (10 changes every millisecond); one subscriber with the default options
// reads them, as the profile store does. The feed's lag is counted from the
// commit returning to the handler seeing the change (the wake-up, the read
// and the batch); the end-to-end figure beside it counts from the
// transaction's scheduled start, so it also holds the write and its fsync,
// and any backlog when the writer cannot keep up with the rate.
//
// On SQLite (WAL, fsync per commit, the server's default) always; on
// PostgreSQL too when RAPPORT_TEST_POSTGRES holds a connection string
// (scripts/with-postgres.sh sets it): SQLite is the baseline beside it.
// Budget (issue #13): p99 <= 200 ms at 10,000 changes/s.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/change_feed.h"
#include "storage/storage.h"

namespace rapport::storage {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kChangesPerSecond = 10'000;
constexpr std::chrono::seconds kDuration{5};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// A fresh database: a SQLite file under a scratch directory, or a new
// PostgreSQL database on the server RAPPORT_TEST_POSTGRES names.
Result<std::unique_ptr<Database>> FreshDatabase(bool postgres, const fs::path& dir) {
  if (!postgres) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    return OpenSqlite((dir / "feed.db").string());  // durable: fsync per commit
  }
  static int databases = 0;
  std::string conninfo = std::getenv("RAPPORT_TEST_POSTGRES");
  RP_ASSIGN_OR_RETURN(auto admin, OpenPostgres(conninfo));
  std::string name = "feed_bench_" + std::to_string(::getpid()) + "_" + std::to_string(++databases);
  RP_RETURN_IF_ERROR(admin->WithConnection([&](Connection& c) { return c.ExecuteScript("CREATE DATABASE " + name); }));
  return OpenPostgres(conninfo + " dbname=" + name);
}

struct Lags {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // commit to delivery
  double e2e_p50_ms = 0, e2e_p99_ms = 0;      // scheduled start to delivery
  int64_t delivered = 0;
  double changes_per_s = 0;
  bool ok = false;
};

// Writes kChangesPerSecond for kDuration in transactions of per_transaction
// changes and measures each change's lag at one subscriber.
Lags Run(bool postgres, int per_transaction) {
  Lags out;
  fs::path dir = fs::temp_directory_path() / ("rapport-feed-bench-" + std::to_string(::getpid()));
  auto db = FreshDatabase(postgres, dir);
  if (!db.ok()) {
    std::fprintf(stderr, "feed_bench: %s\n", db.status().ToString().c_str());
    return out;
  }
  auto feed = ChangeFeed::Open(db->get());
  if (!feed.ok()) return out;

  const int64_t total = kChangesPerSecond * kDuration.count();
  const int transactions = static_cast<int>(total / per_transaction);
  // Per transaction (the key of its changes): when it was due, when its
  // commit returned, when the subscriber saw its last change.
  std::vector<int64_t> scheduled_ns(static_cast<size_t>(transactions));
  std::vector<std::atomic<int64_t>> committed_ns(static_cast<size_t>(transactions));
  std::vector<std::atomic<int64_t>> delivered_ns(static_cast<size_t>(transactions));
  std::atomic<int64_t> seen{0};
  Status subscribed = (*feed)->Subscribe("bench", [&](const std::vector<Change>& batch) -> Status {
    int64_t now = NowNs();
    for (const Change& c : batch) {
      size_t t = 0;
      std::from_chars(c.key.data(), c.key.data() + c.key.size(), t);
      if (t < delivered_ns.size()) delivered_ns[t].store(now);
    }
    seen += static_cast<int64_t>(batch.size());
    return Status::Ok();
  });
  if (!subscribed.ok()) return out;

  const auto interval = std::chrono::nanoseconds(1'000'000'000LL * per_transaction / kChangesPerSecond);
  std::vector<ChangeRecord> records(static_cast<size_t>(per_transaction));
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].kind = "customer.updated";
    records[i].customer_id = static_cast<int64_t>(i) + 1;
    records[i].entity = "customer";
    records[i].data = R"({"source":"bench","attributes":["city"]})";
  }
  auto t0 = Clock::now();
  for (int t = 0; t < transactions; ++t) {
    auto scheduled = t0 + interval * t;
    std::this_thread::sleep_until(scheduled);
    scheduled_ns[static_cast<size_t>(t)] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(scheduled.time_since_epoch()).count();
    std::string key = std::to_string(t);
    for (auto& r : records) r.key = key;
    Status s = (*db)->WithTransaction(
        [&](Connection& c) { return AppendChanges(c, records, Timestamp{0}); });
    if (!s.ok()) {
      std::fprintf(stderr, "feed_bench: %s\n", s.ToString().c_str());
      return out;
    }
    committed_ns[static_cast<size_t>(t)].store(NowNs());
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (seen.load() < total && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  feed->reset();
  std::vector<double> lag, e2e;
  for (size_t t = 0; t < delivered_ns.size(); ++t) {
    int64_t d = delivered_ns[t].load();
    if (d == 0) continue;
    // A wake-up can beat the writer's own clock read after its commit.
    lag.push_back(static_cast<double>(std::max<int64_t>(0, d - committed_ns[t].load())) / 1e6);
    e2e.push_back(static_cast<double>(d - scheduled_ns[t]) / 1e6);
  }
  out.delivered = seen.load();
  out.changes_per_s = static_cast<double>(total) / secs;
  out.p50_ms = Percentile(lag, 0.50);
  out.p99_ms = Percentile(lag, 0.99);
  out.max_ms = lag.empty() ? 0 : *std::max_element(lag.begin(), lag.end());
  out.e2e_p50_ms = Percentile(e2e, 0.50);
  out.e2e_p99_ms = Percentile(e2e, 0.99);
  out.ok = out.delivered == total;
  if (!postgres) fs::remove_all(dir);
  return out;
}

// Arguments: changes per transaction; 1 for PostgreSQL (skipped without a
// server), 0 for SQLite.
void BM_Feed_Lag(benchmark::State& state) {
  int per_transaction = static_cast<int>(state.range(0));
  bool postgres = state.range(1) == 1;
  if (postgres && std::getenv("RAPPORT_TEST_POSTGRES") == nullptr) {
    state.SkipWithError("no PostgreSQL: run under scripts/with-postgres.sh");
    return;
  }
  for (auto _ : state) {
    Lags l = Run(postgres, per_transaction);
    if (!l.ok) {
      state.SkipWithError("not every change was delivered");
      return;
    }
    state.SetIterationTime(static_cast<double>(kDuration.count()));
    state.counters["changes_per_s"] = l.changes_per_s;
    state.counters["lag_p50_ms"] = l.p50_ms;
    state.counters["lag_p99_ms"] = l.p99_ms;
    state.counters["lag_max_ms"] = l.max_ms;
    state.counters["write_to_delivery_p99_ms"] = l.e2e_p99_ms;
    std::printf("feed lag on %s, %.0f changes/s in transactions of %d: commit to delivery p50 %.2f ms, "
                "p99 %.2f ms, max %.2f ms (budget p99 <= 200 ms); scheduled write to delivery p50 %.2f ms, "
                "p99 %.2f ms\n",
                postgres ? "PostgreSQL" : "SQLite (baseline)", l.changes_per_s, per_transaction, l.p50_ms, l.p99_ms,
                l.max_ms, l.e2e_p50_ms, l.e2e_p99_ms);
  }
}

BENCHMARK(BM_Feed_Lag)
    ->ArgNames({"per_tx", "pg"})
    ->Args({100, 0})
    ->Args({100, 1})
    ->Args({10, 0})
    ->Args({10, 1})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rapport::storage

BENCHMARK_MAIN();
