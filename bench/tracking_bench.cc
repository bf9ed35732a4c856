// Durable event ingest through the Segment tracking API: POST /v1/batch with
// 100-event batches over loopback keep-alive connections to a real server
// (fsync on every commit), in durable events/s and request latency
// percentiles, beside a same-run baseline: the same events inserted into
// SQLite (WAL, synchronous=FULL) one transaction per batch by one thread,
// without Rapport. The events come from the demo generator: its interactions
// as page views and tracks, its transactions as "Order Completed", its
// customers' keys as userIds. The customers are identified first (not
// timed), as a site's known visitors would be.
//
// Arguments: customers in the demo company, concurrent client connections,
// server worker threads. A tracking call's handler blocks its worker until
// the group commit, so workers bound the requests one commit can take: 16
// (the server default) against 4 (the default before) shows whether that
// costs throughput (it did not measurably: the one writer is the bottleneck).

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstring>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include "common/json.h"
#include "demo/demo.h"
#include "ingest/tracking.h"
#include "server/server.h"
#include "http_driver.h"

namespace rapport::ingest {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

constexpr int kBatchSize = 100;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

fs::path Scratch() {
  static fs::path dir = fs::temp_directory_path() / ("rapport-tracking-bench-" + std::to_string(::getpid()));
  return dir;
}

struct DemoEvents {
  std::vector<std::string> identify_bodies;  // one identify per customer, 100 per body
  std::vector<std::string> bodies;           // the timed batches
  std::vector<std::vector<std::string>> rows;  // per batch: each event's JSON, for the baseline
  int64_t events = 0;
};

std::string Iso(Timestamp t) { return FormatRfc3339(t); }

const DemoEvents& Events(int64_t customers) {
  static std::map<int64_t, DemoEvents> cache;
  auto it = cache.find(customers);
  if (it != cache.end()) return it->second;
  DemoEvents out;
  demo::DemoOptions o;
  o.customers = customers;
  demo::Generator gen(o);
  demo::Chunk chunk;
  std::vector<std::string> events;
  std::vector<std::string> identifies;
  int64_t n = 0;
  while (gen.Next(&chunk)) {
    for (const auto& c : chunk.customers) {
      json::Writer w;
      w.StartObject().Field("type", "identify").Field("userId", c.source_key).Field("messageId", "id-" + c.source_key);
      w.Key("traits").StartObject();
      for (const auto& [k, v] : c.attributes) {
        if (auto* s = std::get_if<std::string>(&v); s && (k == "firstName" || k == "lastName" || k == "city")) {
          w.Field(k, *s);
        }
      }
      w.EndObject().EndObject();
      identifies.push_back(w.Take());
    }
    for (const auto& [id, x] : chunk.interactions) {
      json::Writer w;
      bool page = x.channel == "web";
      w.StartObject().Field("type", page ? "page" : "track").Field("userId", id.value);
      w.Field("messageId", "ev-" + std::to_string(n++));
      if (page) {
        w.Field("name", x.touch_point.empty() ? x.purpose : x.touch_point);
      } else {
        w.Field("event", x.type.empty() ? "Contact" : x.type);
      }
      w.Key("properties").StartObject().Field("channel", x.channel).Field("purpose", x.purpose)
          .Field("outcome", x.outcome).Field("campaign", x.campaign).EndObject();
      w.Key("context").StartObject().Key("library").StartObject().Field("name", "demo").Field("version", "1.0")
          .EndObject().EndObject();
      w.Field("timestamp", Iso(x.occurred_at)).EndObject();
      events.push_back(w.Take());
    }
    for (const auto& [id, t] : chunk.transactions) {
      json::Writer w;
      w.StartObject().Field("type", "track").Field("userId", id.value).Field("event", "Order Completed");
      w.Field("messageId", "ev-" + std::to_string(n++));
      w.Key("properties").StartObject().Field("order_id", t.source_key).Field("currency", t.currency)
          .Field("revenue", t.amount).Key("products").StartArray().StartObject().Field("sku", t.sku)
          .Field("name", t.item).Field("category", t.category).Field("price", t.quantity != 0 ? t.amount.ToDouble() / t.quantity : t.amount.ToDouble())
          .Field("quantity", t.quantity).EndObject().EndArray().EndObject();
      w.Field("timestamp", Iso(t.occurred_at)).EndObject();
      events.push_back(w.Take());
    }
  }
  auto pack = [](const std::vector<std::string>& items, std::vector<std::string>* bodies,
                 std::vector<std::vector<std::string>>* rows) {
    for (size_t i = 0; i < items.size(); i += kBatchSize) {
      std::string body = "{\"batch\":[";
      std::vector<std::string> batch;
      for (size_t j = i; j < std::min(items.size(), i + kBatchSize); ++j) {
        if (j > i) body += ',';
        body += items[j];
        batch.push_back(items[j]);
      }
      body += "]}";
      bodies->push_back(std::move(body));
      if (rows) rows->push_back(std::move(batch));
    }
  };
  pack(identifies, &out.identify_bodies, nullptr);
  pack(events, &out.bodies, &out.rows);
  out.events = static_cast<int64_t>(events.size());
  return cache.emplace(customers, std::move(out)).first->second;
}

using bench::BasicAuth;
using bench::HttpConnection;
using bench::Percentile;

// Sends bodies over `clients` connections; returns per-request latencies in
// microseconds, or an empty vector when a request failed.
std::vector<double> Drive(uint16_t port, const std::string& auth, const std::vector<std::string>& bodies,
                          int clients, std::atomic<int>* failures) {
  std::atomic<size_t> next{0};
  std::vector<std::vector<double>> lat(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpConnection client(port);
      for (size_t i = next++; i < bodies.size(); i = next++) {
        auto t0 = std::chrono::steady_clock::now();
        int status = client.Post("/v1/batch", auth, bodies[i]);
        auto t1 = std::chrono::steady_clock::now();
        if (status != 200) ++*failures;
        lat[c].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  return all;
}

// The baseline: the same events into SQLite, one transaction per batch.
double BaselineEventsPerSecond(const DemoEvents& ev) {
  fs::path path = Scratch() / "baseline.db";
  fs::remove(path);
  fs::remove(path.string() + "-wal");
  fs::remove(path.string() + "-shm");
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE events (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO events (message_id, body) VALUES (?, ?)", -1, &ins, nullptr);
  auto t0 = std::chrono::steady_clock::now();
  int64_t n = 0;
  for (const auto& batch : ev.rows) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (const auto& row : batch) {
      // The message id is the event's own (the bench writes it first after type and userId).
      std::string id = std::to_string(n);
      sqlite3_bind_text(ins, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 2, row.data(), static_cast<int>(row.size()), SQLITE_STATIC);
      sqlite3_step(ins);
      sqlite3_reset(ins);
      ++n;
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return static_cast<double>(n) / secs;
}

void BM_Tracking_BatchOverHttp(benchmark::State& state) {
  const DemoEvents& ev = Events(state.range(0));
  int clients = static_cast<int>(state.range(1));
  int workers = static_cast<int>(state.range(2));
  for (auto _ : state) {
    fs::path dir = Scratch() / "server";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string key;
    {
      auto db = storage::OpenSqlite((dir / "rapport.db").string());
      if (!db.ok()) std::abort();
      auto s = CreateSource(**db, "bench", SystemClock::Default()->Now());
      if (!s.ok()) std::abort();
      key = s->write_key;
    }
    server::ServerOptions o;
    o.data_dir = dir.string();
    o.listen = "127.0.0.1:0";
    o.durable = true;
    o.worker_threads = workers;
    o.queue_capacity = 1024;
    auto srv = server::Server::Open(o);
    if (!srv.ok() || !(*srv)->Start().ok()) {
      state.SkipWithError("server did not start");
      return;
    }
    std::string auth = BasicAuth(key);
    std::atomic<int> failures{0};
    Drive((*srv)->port(), auth, ev.identify_bodies, clients, &failures);  // the known visitors, untimed
    double cpu0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    auto lat = Drive((*srv)->port(), auth, ev.bodies, clients, &failures);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = CpuSeconds() - cpu0;
    srv->reset();
    if (failures > 0) {
      state.SkipWithError("some requests failed");
      return;
    }
    double baseline = BaselineEventsPerSecond(ev);
    double rate = static_cast<double>(ev.events) / secs;
    state.SetIterationTime(secs);
    state.counters["events"] = static_cast<double>(ev.events);
    state.counters["durable_events_per_s"] = rate;
    state.counters["p50_ms"] = Percentile(lat, 0.50) / 1000;
    state.counters["p99_ms"] = Percentile(lat, 0.99) / 1000;
    state.counters["baseline_sqlite_events_per_s"] = baseline;
    state.counters["vs_baseline"] = rate / baseline;
    state.counters["events_per_cpu_s"] = static_cast<double>(ev.events) / cpu;  // server and clients together
    fs::remove_all(Scratch());
  }
}

BENCHMARK(BM_Tracking_BatchOverHttp)
    ->Args({20000, 16, 16})
    ->Args({20000, 16, 4})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rapport::ingest

BENCHMARK_MAIN();
