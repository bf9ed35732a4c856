// Customer store throughput and latency:
//  - bulk upsert (UpsertCustomers, 8 attributes and two identifiers per
//    customer) in customers/s, beside a same-run baseline of naive SQLite
//    inserts of the same rows into a plain one-table schema (prepared
//    statement, one transaction per batch);
//  - re-importing unchanged rows (the idempotent path);
//  - 360-view latency p50/p99 over a store of N customers with households,
//    accounts, transactions and interactions. N is the argument (100k by
//    default); RAPPORT_BENCH_VIEW_CUSTOMERS=1000000 runs the 1M budget case.
//    The view store is built once per N under $TMPDIR and reused.

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "customer/customer.h"

namespace rapport::customer {
namespace {

const char* kFirst[] = {"Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hannes", "Ida", "Jonas",
                        "Klara", "Lukas", "Mia", "Noah", "Olga", "Paul"};
const char* kLast[] = {"Schmidt", "Meyer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter",
                       "Klein", "Wolf", "Neumann", "Braun", "Zimmermann", "Hartmann", "Lange", "Krause"};
const char* kCity[] = {"Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig", "Dresden"};

// CPU time of this thread: the machine is shared, so besides the wall-clock
// rate each throughput benchmark reports customers per CPU-second.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport-customer-bench-" + name);
  return dir;
}

// One generated customer: the same values go to the store and the baseline.
CustomerRecord MakeRecord(int64_t n) {
  CustomerRecord r;
  r.source_key = std::to_string(n);
  std::string first = kFirst[n % 16], last = kLast[(n / 16) % 16];
  std::string email = first + "." + last + "." + std::to_string(n) + "@example.com";
  std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return std::tolower(c); });
  r.attributes = {{"firstName", first},
                  {"lastName", last},
                  {"email", email},
                  {"phone", "+4930" + std::to_string(1000000 + n)},
                  {"city", std::string(kCity[n % 8])},
                  {"postcode", std::to_string(10000 + n % 89999)},
                  {"country", std::string("DE")},
                  {"birthDate", std::string("19") + std::to_string(50 + n % 50) + "-0" + std::to_string(1 + n % 9) +
                                    "-1" + std::to_string(n % 10)}};
  r.identifiers = {{"email", email}};
  return r;
}

struct BenchStore {
  std::filesystem::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<CustomerStore> store;

  explicit BenchStore(const std::string& name, bool fresh, bool durable) : dir(TempDir(name)) {
    if (fresh) std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    storage::SqliteOptions opts;
    opts.durable = durable;
    auto d = storage::OpenSqlite((dir / "customers.db").string(), opts);
    if (!d.ok()) std::abort();
    db = std::move(*d);
    auto s = CustomerStore::Open(db.get(), SystemClock::Default());
    if (!s.ok()) std::abort();
    store = std::move(*s);
  }
  ~BenchStore() {
    store.reset();
    db.reset();
  }
};

void BM_Customer_UpsertCustomers(benchmark::State& state) {
  const int64_t batch = state.range(0);
  BenchStore bs("upsert", true, true);
  int64_t next = 0;
  double cpu = 0;
  std::vector<CustomerRecord> records(batch);
  for (auto _ : state) {
    state.PauseTiming();
    for (int64_t i = 0; i < batch; ++i) records[i] = MakeRecord(next++);
    state.ResumeTiming();
    double cpu0 = ThreadCpuSeconds();
    auto r = bs.store->UpsertCustomers("crm", records);
    cpu += ThreadCpuSeconds() - cpu0;
    if (!r.ok() || r->created != batch) {
      state.SkipWithError(r.ok() ? "records rejected" : r.status().ToString().c_str());
      break;
    }
  }
  state.counters["customers_per_s"] = benchmark::Counter(static_cast<double>(next), benchmark::Counter::kIsRate);
  state.counters["customers_per_cpu_s"] = static_cast<double>(next) / cpu;
  std::filesystem::remove_all(bs.dir);
}
BENCHMARK(BM_Customer_UpsertCustomers)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: the same rows, inserted with a prepared statement into one
// plain table (no history, identifiers, search tokens or validation).
void BM_Baseline_SqliteInsert(benchmark::State& state) {
  const int64_t batch = state.range(0);
  auto dir = TempDir("baseline");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  sqlite3_open((dir / "plain.db").string().c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
               "CREATE TABLE customers (id INTEGER PRIMARY KEY, source_key TEXT UNIQUE, first_name TEXT, "
               "last_name TEXT, email TEXT, phone TEXT, city TEXT, postcode TEXT, country TEXT, birth_date TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO customers (source_key, first_name, last_name, email, phone, city, postcode, "
                     "country, birth_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     -1, &ins, nullptr);
  const char* cols[] = {"firstName", "lastName", "email", "phone", "city", "postcode", "country", "birthDate"};
  int64_t next = 0;
  double cpu = 0;
  std::vector<CustomerRecord> records(batch);
  for (auto _ : state) {
    state.PauseTiming();
    for (int64_t i = 0; i < batch; ++i) records[i] = MakeRecord(next++);
    state.ResumeTiming();
    double cpu0 = ThreadCpuSeconds();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const CustomerRecord& r : records) {
      sqlite3_bind_text(ins, 1, r.source_key.data(), static_cast<int>(r.source_key.size()), SQLITE_TRANSIENT);
      for (int c = 0; c < 8; ++c) {
        const std::string& v = std::get<std::string>(r.attributes.at(cols[c]));
        sqlite3_bind_text(ins, c + 2, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      }
      if (sqlite3_step(ins) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(db));
      sqlite3_reset(ins);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    cpu += ThreadCpuSeconds() - cpu0;
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);
  state.counters["customers_per_s"] = benchmark::Counter(static_cast<double>(next), benchmark::Counter::kIsRate);
  state.counters["customers_per_cpu_s"] = static_cast<double>(next) / cpu;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Baseline_SqliteInsert)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Re-importing rows that did not change: lookups and comparisons only.
void BM_Customer_UpsertUnchanged(benchmark::State& state) {
  const int64_t batch = state.range(0);
  BenchStore bs("unchanged", true, true);
  std::vector<CustomerRecord> records(batch);
  for (int64_t i = 0; i < batch; ++i) records[i] = MakeRecord(i);
  if (!bs.store->UpsertCustomers("crm", records).ok()) std::abort();
  int64_t done = 0;
  for (auto _ : state) {
    auto r = bs.store->UpsertCustomers("crm", records);
    if (!r.ok() || r->unchanged != batch) {
      state.SkipWithError("re-import changed rows");
      break;
    }
    done += batch;
  }
  state.counters["customers_per_s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  std::filesystem::remove_all(bs.dir);
}
BENCHMARK(BM_Customer_UpsertUnchanged)->Arg(5000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Builds (or reuses) a store of n customers: persons in households of up to
// four, one in five employed by one of n/100 organizations, 1-2 accounts,
// ~12 transactions and ~6 interactions per person on average (long-tailed).
void BuildViewStore(BenchStore& bs, int64_t n) {
  auto marker = bs.dir / "complete";
  if (std::filesystem::exists(marker)) return;
  std::mt19937_64 rng(42);
  CustomerStore& s = *bs.store;
  const int64_t orgs = std::max<int64_t>(1, n / 100);
  const int64_t households = n / 4;
  const int64_t persons = n - orgs - households;
  constexpr int64_t kBatch = 5000;
  auto now = SystemClock::Default()->Now();
  const int64_t span = 3 * 365 * kMicrosPerDay;

  std::vector<CustomerRecord> recs;
  auto flush = [&] {
    if (recs.empty()) return;
    if (!s.UpsertCustomers("gen", recs).ok()) std::abort();
    recs.clear();
  };
  for (int64_t i = 0; i < persons; ++i) {
    CustomerRecord r = MakeRecord(i);
    r.source_key = "p" + std::to_string(i);
    recs.push_back(std::move(r));
    if (static_cast<int64_t>(recs.size()) == kBatch) flush();
  }
  for (int64_t i = 0; i < households; ++i) {
    CustomerRecord r;
    r.source_key = "h" + std::to_string(i);
    r.kind = Kind::kHousehold;
    r.attributes = {{"name", std::string(kLast[i % 16]) + " household " + std::to_string(i)}};
    recs.push_back(std::move(r));
    if (static_cast<int64_t>(recs.size()) == kBatch) flush();
  }
  for (int64_t i = 0; i < orgs; ++i) {
    CustomerRecord r;
    r.source_key = "o" + std::to_string(i);
    r.kind = Kind::kOrganization;
    r.attributes = {{"name", "Company " + std::to_string(i)}, {"employees", int64_t{10 + i % 500}}};
    recs.push_back(std::move(r));
    if (static_cast<int64_t>(recs.size()) == kBatch) flush();
  }
  flush();
  // Ids were assigned in insertion order starting at 1.
  const CustomerId first_household = persons + 1, first_org = persons + households + 1;
  for (int64_t p = 0; p < persons; ++p) {
    Relationship r;
    r.from = p + 1;
    r.to = first_household + (p / 3) % households;
    r.type = "member_of";
    r.valid_from = Timestamp{now.micros - span};
    if (!s.AddRelationship(r).ok()) std::abort();
    if (p % 5 == 0) {
      r.to = first_org + static_cast<int64_t>(rng() % orgs);
      r.type = "works_for";
      r.role = "buyer";
      if (!s.AddRelationship(r).ok()) std::abort();
    }
  }
  std::vector<std::pair<Identifier, Account>> accounts;
  std::vector<std::pair<Identifier, Transaction>> txs;
  std::vector<std::pair<Identifier, Interaction>> its;
  const char* channels[] = {"web", "email", "store", "call_centre", "field_sales"};
  std::exponential_distribution<double> tx_count(1.0 / 12), it_count(1.0 / 6);
  std::lognormal_distribution<double> amount(3.5, 1.0);
  int64_t serial = 0;
  auto flush_activity = [&](bool force) {
    if (force || accounts.size() >= kBatch) {
      if (!accounts.empty() && !s.UpsertAccounts(accounts).ok()) std::abort();
      accounts.clear();
    }
    if (force || txs.size() >= kBatch) {
      if (!txs.empty() && !s.AddTransactions(txs).ok()) std::abort();
      txs.clear();
    }
    if (force || its.size() >= kBatch) {
      if (!its.empty() && !s.AddInteractions(its).ok()) std::abort();
      its.clear();
    }
  };
  for (int64_t p = 1; p <= persons; ++p) {
    Account a;
    a.customer_id = p;
    a.source = "billing";
    a.source_key = "a" + std::to_string(p);
    a.product = p % 2 ? "Mobile L" : "Home Fiber";
    a.opened_at = Timestamp{now.micros - span + static_cast<int64_t>(rng() % span)};
    accounts.push_back({{}, a});
    int64_t nt = static_cast<int64_t>(tx_count(rng));
    for (int64_t k = 0; k < nt; ++k) {
      Transaction t;
      t.customer_id = p;
      t.source = "shop";
      t.source_key = std::to_string(++serial);
      t.occurred_at = Timestamp{now.micros - static_cast<int64_t>(rng() % span)};
      int sku = static_cast<int>(rng() % 200);
      t.sku = "SKU-" + std::to_string(sku);
      t.item = "Item " + std::to_string(sku);
      t.channel = channels[k % 3];
      t.amount = Money::FromUnits(std::llround(amount(rng) * 100) * 100);
      txs.push_back({{}, t});
    }
    int64_t ni = static_cast<int64_t>(it_count(rng));
    for (int64_t k = 0; k < ni; ++k) {
      Interaction i;
      i.customer_id = p;
      i.source = "events";
      i.channel = channels[rng() % 5];
      i.type = "contact";
      i.occurred_at = Timestamp{now.micros - static_cast<int64_t>(rng() % span)};
      its.push_back({{}, i});
    }
    flush_activity(false);
  }
  flush_activity(true);
  for (int64_t p = 1; p <= persons; p += 7) {
    Consent c;
    c.customer_id = p;
    c.channel = "email";
    c.granted = true;
    c.at = Timestamp{now.micros - span};
    if (!s.SetConsent(c).ok()) std::abort();
  }
  std::filesystem::create_directories(marker);
}

void BM_Customer_View(benchmark::State& state) {
  const int64_t n = state.range(0);
  BenchStore bs("view-" + std::to_string(n), false, false);
  BuildViewStore(bs, n);
  const int64_t persons = n - std::max<int64_t>(1, n / 100) - n / 4;
  std::mt19937_64 rng(7);
  std::vector<double> micros, cpu_micros;  // wall clock, and CPU time of this thread
  micros.reserve(100000);
  cpu_micros.reserve(100000);
  int64_t links = 0, txs = 0;
  for (auto _ : state) {
    // Mostly persons (the agent's usual question), sometimes a household.
    CustomerId id = rng() % 10 == 0 ? persons + 1 + static_cast<int64_t>(rng() % (n / 4))
                                    : 1 + static_cast<int64_t>(rng() % persons);
    double c0 = ThreadCpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    auto v = bs.store->View(id);
    auto t1 = std::chrono::steady_clock::now();
    cpu_micros.push_back((ThreadCpuSeconds() - c0) * 1e6);
    if (!v.ok()) {
      state.SkipWithError(v.status().ToString().c_str());
      break;
    }
    links += static_cast<int64_t>(v->links.size());
    txs += v->transaction_summary.count;
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) { return micros[std::min(micros.size() - 1, static_cast<size_t>(p * micros.size()))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = micros.back();
  // On a shared machine the wall-clock tail includes time other processes
  // held the CPU; the CPU-time percentiles show the view's own cost.
  std::sort(cpu_micros.begin(), cpu_micros.end());
  state.counters["p50_cpu_us"] = cpu_micros[cpu_micros.size() / 2];
  state.counters["p99_cpu_us"] = cpu_micros[std::min(cpu_micros.size() - 1, cpu_micros.size() * 99 / 100)];
  state.counters["avg_links"] = static_cast<double>(links) / static_cast<double>(micros.size());
  state.counters["avg_transactions"] = static_cast<double>(txs) / static_cast<double>(micros.size());
}

int64_t ViewCustomers() {
  const char* env = std::getenv("RAPPORT_BENCH_VIEW_CUSTOMERS");
  return env ? std::max<int64_t>(1000, std::atoll(env)) : 100000;
}
BENCHMARK(BM_Customer_View)->Arg(ViewCustomers())->Iterations(20000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace rapport::customer

BENCHMARK_MAIN();
