// Bulk import throughput: `rapport import customers` end to end (read the
// file, map the rows, upsert through CustomerStore in batches) in
// customers/s, beside a same-run baseline of naive SQLite inserts of the
// same rows into a one-table schema (prepared statement, one transaction per
// batch of 1,000, the CSV read with the same reader). Also the import
// pipeline without the store (read + map only), and a re-import (every row
// unchanged). The input is the demo generator's customers.csv; the row count
// is the argument (200k by default). The machine is shared, so each rate is
// also given per process CPU-second, and the import's bytes written (to the
// WAL and, by checkpoints, the database file) per customer: the rate of a
// bulk import is bound by them, and unlike a rate they do not depend on what
// else the machine is doing.

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "demo/demo.h"
#include "ingest/import.h"

namespace rapport::ingest {
namespace {

namespace fs = std::filesystem;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Bytes this process has handed to write(2) and pwrite(2) so far.
int64_t BytesWritten() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "wchar:") return value;
  }
  return 0;
}

fs::path Scratch() {
  static fs::path dir = fs::temp_directory_path() / ("rapport-ingest-bench-" + std::to_string(::getpid()));
  return dir;
}

// The demo company's customers.csv with n rows, generated once per n.
const std::string& CustomersCsv(int64_t n) {
  static std::map<int64_t, std::string> files;
  auto it = files.find(n);
  if (it != files.end()) return it->second;
  demo::DemoOptions o;
  o.customers = n;
  o.transactions_per_customer = 0;
  o.interactions_per_customer = 0;
  fs::path dir = Scratch() / ("files-" + std::to_string(n));
  auto s = demo::GenerateFiles(dir.string(), demo::FileFormat::kCsv, o);
  if (!s.ok()) std::abort();
  std::ifstream in(dir / "customers.csv", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return files.emplace(n, ss.str()).first->second;
}

struct FreshStore {
  explicit FreshStore(const std::string& name) {
    dir = Scratch() / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto d = storage::OpenSqlite((dir / "rapport.db").string());  // durable, as `rapport import`
    if (!d.ok()) std::abort();
    db = std::move(*d);
    auto s = customer::CustomerStore::Open(db.get(), SystemClock::Default());
    if (!s.ok()) std::abort();
    store = std::move(*s);
  }
  ~FreshStore() {
    store.reset();
    db.reset();
    fs::remove_all(dir);
  }
  fs::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<customer::CustomerStore> store;
};

void Report(benchmark::State& state, int64_t rows, double cpu, int64_t bytes = -1) {
  state.SetItemsProcessed(rows);
  state.counters["customers_per_cpu_s"] = benchmark::Counter(static_cast<double>(rows) / cpu);
  if (bytes >= 0 && rows > 0) {
    state.counters["bytes_written_per_customer"] = benchmark::Counter(static_cast<double>(bytes) / rows);
  }
}

void BM_Ingest_ImportCustomersCsv(benchmark::State& state) {
  const std::string& csv = CustomersCsv(state.range(0));
  ImportOptions o;
  o.source = "billing";
  int64_t rows = 0, bytes = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto fresh = std::make_unique<FreshStore>("import");
    state.ResumeTiming();
    double c0 = CpuSeconds();
    int64_t w0 = BytesWritten();
    auto s = ImportText(*fresh->store, csv, o);
    cpu += CpuSeconds() - c0;
    bytes += BytesWritten() - w0;
    if (!s.ok() || s->rejected > 0 || s->created != state.range(0)) {
      state.SkipWithError("import failed");
      break;
    }
    rows += s->created;
    state.PauseTiming();
    fresh.reset();
    state.ResumeTiming();
  }
  Report(state, rows, cpu, bytes);
}

void BM_Ingest_ReimportUnchanged(benchmark::State& state) {
  const std::string& csv = CustomersCsv(state.range(0));
  ImportOptions o;
  o.source = "billing";
  FreshStore fresh("reimport");
  if (!ImportText(*fresh.store, csv, o).ok()) std::abort();
  int64_t rows = 0;
  double cpu = 0;
  for (auto _ : state) {
    double c0 = CpuSeconds();
    auto s = ImportText(*fresh.store, csv, o);
    cpu += CpuSeconds() - c0;
    if (!s.ok() || s->unchanged != state.range(0)) {
      state.SkipWithError("re-import changed rows");
      break;
    }
    rows += s->unchanged;
  }
  Report(state, rows, cpu);
}

// Reading and mapping only: what the importer itself costs.
void BM_Ingest_ReadAndMapOnly(benchmark::State& state) {
  const std::string& csv = CustomersCsv(state.range(0));
  ImportOptions o;
  o.source = "billing";
  std::vector<customer::AttributeDefinition> catalog;
  {
    FreshStore fresh("catalog");
    catalog = *fresh.store->ListAttributes();
  }
  int64_t rows = 0;
  double cpu = 0;
  for (auto _ : state) {
    double c0 = CpuSeconds();
    auto m = MapText(csv, o, catalog);
    cpu += CpuSeconds() - c0;
    if (!m.ok() || !m->errors.empty()) {
      state.SkipWithError("mapping failed");
      break;
    }
    rows += static_cast<int64_t>(m->customers.size());
  }
  Report(state, rows, cpu);
}

// Baseline: the same rows, read by the same CSV reader, inserted with one
// prepared statement into a plain table, one transaction per 1,000 rows.
void BM_Baseline_SqliteInsert(benchmark::State& state) {
  const std::string& csv = CustomersCsv(state.range(0));
  int64_t rows = 0, bytes = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::path dir = Scratch() / "baseline";
    fs::remove_all(dir);
    fs::create_directories(dir);
    sqlite3* db = nullptr;
    sqlite3_open((dir / "baseline.db").c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE customers(source_key TEXT PRIMARY KEY, kind TEXT, valid_from TEXT, first_name TEXT,"
                 " last_name TEXT, name TEXT, birth_date TEXT, gender TEXT, email TEXT, phone TEXT, street TEXT,"
                 " city TEXT, postcode TEXT, region TEXT, country TEXT, language TEXT, industry TEXT,"
                 " employees TEXT, annual_revenue TEXT, segment TEXT)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &insert,
                       nullptr);
    state.ResumeTiming();
    double c0 = CpuSeconds();
    int64_t w0 = BytesWritten();
    CsvReader reader(csv);
    std::vector<std::string_view> f;
    reader.Next(&f);  // header
    int in_batch = 0;
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    while (reader.Next(&f)) {
      for (size_t i = 0; i < f.size() && i < 20; ++i) {
        sqlite3_bind_text(insert, static_cast<int>(i + 1), f[i].data(), static_cast<int>(f[i].size()), SQLITE_STATIC);
      }
      if (sqlite3_step(insert) != SQLITE_DONE) state.SkipWithError("insert failed");
      sqlite3_reset(insert);
      ++rows;
      if (++in_batch == 1000) {
        sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
        in_batch = 0;
      }
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    cpu += CpuSeconds() - c0;
    bytes += BytesWritten() - w0;
    state.PauseTiming();
    sqlite3_finalize(insert);
    sqlite3_close(db);
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  Report(state, rows, cpu, bytes);
}

BENCHMARK(BM_Baseline_SqliteInsert)->Arg(200'000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ingest_ImportCustomersCsv)->Arg(200'000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ingest_ReimportUnchanged)->Arg(200'000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ingest_ReadAndMapOnly)->Arg(200'000)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace rapport::ingest

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(rapport::ingest::Scratch());
  return 0;
}
