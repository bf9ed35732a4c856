// Customer upserts through the HTTP API, over loopback keep-alive
// connections to a real server in this process (durable: every response
// follows a committed fsync):
//  - PUT /v1/sources/{source}/customers/{key}, one customer per request,
//    from 4 client connections: upserts/s and request latency p50/p99;
//  - POST /v1/sources/{source}/customers, 1,000 customers per request: customers/s;
// beside a same-run baseline of inserting the same customers into a plain
// one-table SQLite schema (synchronous=FULL, one transaction per request,
// no HTTP): what the disk and SQLite cost without Rapport.
// Customers come from the demo generator.

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "demo/demo.h"
#include "server/server.h"

namespace rapport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr int kClients = 4;

std::vector<customer::CustomerRecord> DemoCustomers(int64_t n) {
  demo::DemoOptions o;
  o.customers = n;
  o.transactions_per_customer = 0;
  o.interactions_per_customer = 0;
  demo::Generator g(o);
  demo::Chunk chunk;
  std::vector<customer::CustomerRecord> out;
  while (g.Next(&chunk)) {
    for (auto& c : chunk.customers) out.push_back(std::move(c));
  }
  return out;
}

void WriteRecord(json::Writer& w, const customer::CustomerRecord& r, bool with_key) {
  w.StartObject();
  if (with_key) w.Field("sourceKey", r.source_key);
  w.Field("kind", customer::KindName(r.kind)).Key("attributes").StartObject();
  for (const auto& [name, v] : r.attributes) {
    w.Key(name);
    if (auto* s = std::get_if<std::string>(&v)) w.String(*s);
    else if (auto* i = std::get_if<int64_t>(&v)) w.Int(*i);
    else if (auto* d = std::get_if<double>(&v)) w.Double(*d);
    else if (auto* b = std::get_if<bool>(&v)) w.Bool(*b);
    else w.Null();
  }
  w.EndObject().Key("identifiers").StartArray();
  for (const auto& i : r.identifiers) w.String(i.ToString());
  w.EndArray().EndObject();
}

struct Target {
  std::string method_path;  // "PUT /v1/..."
  std::string body;
  int64_t customers;
};

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<server::Server> server;
  std::string key;

  explicit Fixture(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("rapport-api-bench-" + name);
    std::filesystem::remove_all(dir);
    auto k = server::CreateApiKey(dir.string(), "admin");
    if (!k.ok()) std::abort();
    key = k->key;
    server::ServerOptions o;
    o.data_dir = dir.string();
    o.listen = "127.0.0.1:0";
    o.max_body_bytes = 8 << 20;
    auto s = server::Server::Open(o);
    if (!s.ok() || !(*s)->Start().ok()) std::abort();
    server = std::move(*s);
  }
  ~Fixture() {
    server->Stop();
    server->Wait();
    server.reset();
    std::filesystem::remove_all(dir);
  }
};

// Sends targets[i] for every i with i % kClients == client, over one
// keep-alive connection; records each request's latency in seconds.
void Client(uint16_t port, const std::string& key, const std::vector<Target>& targets, int client,
            std::vector<double>* latencies, std::atomic<bool>* failed) {
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  beast::flat_buffer buffer;
  for (size_t i = static_cast<size_t>(client); i < targets.size(); i += kClients) {
    const Target& t = targets[i];
    size_t space = t.method_path.find(' ');
    http::request<http::string_body> req(
        t.method_path.compare(0, space, "PUT") == 0 ? http::verb::put : http::verb::post, t.method_path.substr(space + 1),
        11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + key);
    req.set(http::field::content_type, "application/json");
    req.body() = t.body;
    req.prepare_payload();
    auto start = std::chrono::steady_clock::now();
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    latencies->push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (res.result_int() >= 300) {
      std::fprintf(stderr, "%s -> %d %s\n", t.method_path.c_str(), res.result_int(), res.body().c_str());
      failed->store(true);
      return;
    }
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void Drive(benchmark::State& state, const std::string& name, const std::vector<Target>& targets) {
  int64_t customers = 0;
  std::vector<double> all;
  for (auto _ : state) {
    state.PauseTiming();
    Fixture f(name);
    std::vector<std::vector<double>> lat(kClients);
    std::atomic<bool> failed{false};
    state.ResumeTiming();
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back(Client, f.server->port(), f.key, std::cref(targets), c, &lat[c], &failed);
    }
    for (auto& t : threads) t.join();
    state.PauseTiming();
    if (failed) {
      state.SkipWithError("a request failed");
      return;
    }
    for (const auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    for (const auto& t : targets) customers += t.customers;
    state.ResumeTiming();
  }
  state.counters["customers_per_s"] = benchmark::Counter(static_cast<double>(customers), benchmark::Counter::kIsRate);
  state.counters["p50_ms"] = Percentile(all, 0.50) * 1e3;
  state.counters["p99_ms"] = Percentile(all, 0.99) * 1e3;
}

void BM_Api_PutCustomer(benchmark::State& state) {
  static const auto records = DemoCustomers(state.range(0));
  std::vector<Target> targets;
  for (const auto& r : records) {
    json::Writer w;
    WriteRecord(w, r, false);
    targets.push_back({"PUT /v1/sources/demo/customers/" + r.source_key, w.Take(), 1});
  }
  Drive(state, "put", targets);
}
BENCHMARK(BM_Api_PutCustomer)->Arg(5000)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Api_PostCustomerBatch(benchmark::State& state) {
  static const auto records = DemoCustomers(state.range(0));
  std::vector<Target> targets;
  for (size_t start = 0; start < records.size(); start += 1000) {
    json::Writer w;
    w.StartObject().Key("records").StartArray();
    size_t end = std::min(records.size(), start + 1000);
    for (size_t i = start; i < end; ++i) WriteRecord(w, records[i], true);
    w.EndArray().EndObject();
    targets.push_back({"POST /v1/sources/demo/customers", w.Take(), static_cast<int64_t>(end - start)});
  }
  Drive(state, "batch", targets);
}
BENCHMARK(BM_Api_PostCustomerBatch)->Arg(100000)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// Baseline: the same customers as one row each (key, kind, attributes JSON)
// in a one-table SQLite schema, synchronous=FULL, one transaction per
// `per_transaction` rows, from one thread.
void BM_Baseline_SqliteInsert(benchmark::State& state) {
  const int64_t n = state.range(0), per_transaction = state.range(1);
  const auto records = DemoCustomers(n);
  std::vector<std::string> rows;
  for (const auto& r : records) {
    json::Writer w;
    WriteRecord(w, r, true);
    rows.push_back(w.Take());
  }
  int64_t done = 0;
  std::vector<double> lat;
  for (auto _ : state) {
    state.PauseTiming();
    auto path = std::filesystem::temp_directory_path() / "rapport-api-bench-baseline.db";
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE customers (id INTEGER PRIMARY KEY, source_key TEXT UNIQUE, record TEXT)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO customers (source_key, record) VALUES (?, ?)", -1, &ins, nullptr);
    state.ResumeTiming();
    for (size_t start = 0; start < rows.size(); start += static_cast<size_t>(per_transaction)) {
      auto t0 = std::chrono::steady_clock::now();
      sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      size_t end = std::min(rows.size(), start + static_cast<size_t>(per_transaction));
      for (size_t i = start; i < end; ++i) {
        sqlite3_bind_text(ins, 1, records[i].source_key.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, rows[i].c_str(), static_cast<int>(rows[i].size()), SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(db));
        sqlite3_reset(ins);
      }
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      lat.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      done += static_cast<int64_t>(end - start);
    }
    state.PauseTiming();
    sqlite3_finalize(ins);
    sqlite3_close(db);
    std::filesystem::remove(path);
    state.ResumeTiming();
  }
  state.counters["customers_per_s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  state.counters["p50_ms"] = Percentile(lat, 0.50) * 1e3;
  state.counters["p99_ms"] = Percentile(lat, 0.99) * 1e3;
}
BENCHMARK(BM_Baseline_SqliteInsert)
    ->Args({5000, 1})
    ->Args({100000, 1000})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rapport

BENCHMARK_MAIN();
