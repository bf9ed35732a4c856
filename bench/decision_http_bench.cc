// Next best action over HTTP: POST /v1/decide on loopback keep-alive
// connections to a real server (durable, fsync per commit) at a fixed rate,
// open loop (each request has a scheduled send time and its latency counts
// from then, so a stall is not hidden by the client waiting), while Segment
// events are ingested through POST /v1/batch at a fixed rate beside it.
// The data directory holds the demo company (20,000 customers with their
// transactions, interactions and consents); the decision setup is the
// in-process bench's: 50 actions, a 100-rule COLLECT table, four policies.
// Baseline in the same run: GET /healthz at the same rate on the same
// connections with the same ingest beside it (the HTTP floor: parse, route,
// answer on the I/O thread; it no longer queries the database or takes a
// worker, so it is a lower floor than before issue #12).
// Budget: p99 <= 2 ms at 5,000 decisions/s.
//
// Arguments: decisions/s, events/s ingested, seconds.

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "decision_model.h"
#include "http_driver.h"

#include "customer/customer.h"
#include "demo/demo.h"
#include "ingest/tracking.h"
#include "server/server.h"
#include "storage/storage.h"

namespace rapport::decision {
namespace {

namespace fs = std::filesystem;
using bench::BasicAuth;
using bench::HttpConnection;
using bench::OpenLoop;
using bench::Percentile;
namespace http = bench::http;
using Steady = std::chrono::steady_clock;

constexpr int64_t kCustomers = 20'000;
constexpr int kDecideConnections = 16;
constexpr int kIngestConnections = 2;
using bench::kRegions;
using bench::NbaModel;

void Must(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "setup failed: %s\n", what.c_str());
  std::abort();
}

void Configure(uint16_t port, const std::string& auth) {
  HttpConnection c(port);
  std::string reply;
  for (int i = 0; i < 50; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "a%02d", i);
    std::string body = R"({"kind":")" + std::string(i % 4 == 3 ? "service" : "offer") + R"(","name":"Action )" +
                       std::to_string(i) + R"(","value":)" + std::to_string(10 + i) + R"(,"businessLever":)" +
                       std::to_string(1 + (i % 3) * 0.5) + R"(,"channels":["web","email"])" +
                       (i % 4 == 3 ? R"(,"purpose":"service")" : "") + (i % 5 == 0 ? R"(,"eligibility":"age >= 25")" : "") +
                       (i % 7 == 0 ? R"(,"suitability":"revenue90d < 5000 or segment = \"premium\"")" : "") + "}";
    Must(c.Send(http::verb::put, std::string("/v1/actions/") + id, auth, body, "application/json", &reply) == 200, reply);
  }
  Must(c.Send(http::verb::post, "/v1/decision-models", auth, NbaModel(), "application/xml", &reply) == 201, reply);
  Must(c.Send(http::verb::post, "/v1/decision-models/nba/versions/1/submit", auth, "") == 200, "submit");
  Must(c.Send(http::verb::post, "/v1/decision-models/nba/versions/1/approve", auth, "") == 200, "approve");  // admin
  Must(c.Send(http::verb::post, "/v1/decision-models/nba/publish", auth, R"({"version":1})", "application/json", &reply) == 200, reply);
  Must(c.Send(http::verb::put, "/v1/decision-points/web-home", auth,
              R"({"model":"nba","decision":"Next Best Actions","channels":["web","email"]})") == 200,
       "point");
  for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
           {"consent", R"({"kind":"consent","purposes":["marketing"],"channels":["email"],"grantedByDefault":true})"},
           {"email-weekly", R"({"kind":"frequencyCap","channels":["email"],"purposes":["marketing"],"max":3,"windowDays":7})"},
           {"service-trouble", R"({"kind":"suppression","condition":"serviceContacts > 2","purposes":["marketing"]})"},
           {"holdout", R"({"kind":"controlGroup","percent":5})"},
       }) {
    Must(c.Send(http::verb::put, "/v1/contact-policies/" + name, auth, body) == 200, name);
  }
}

void BM_Decision_DecideOverHttp(benchmark::State& state) {
  double rate = static_cast<double>(state.range(0));
  double events_per_s = static_cast<double>(state.range(1));
  double seconds = static_cast<double>(state.range(2));
  // The demo company is generated once per process and copied per run.
  struct Template {
    fs::path path;
    ~Template() { fs::remove_all(path); }
  };
  static const Template tmpl_dir{[] {
    fs::path t = fs::temp_directory_path() / ("rapport-decision-http-template-" + std::to_string(::getpid()));
    fs::remove_all(t);
    fs::create_directories(t);
    auto db = storage::OpenSqlite((t / "rapport.db").string());
    Must(db.ok(), "db");
    auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
    Must(store.ok(), "store");
    demo::DemoOptions o;
    o.customers = kCustomers;
    Must(demo::GenerateIntoStore(**store, o).ok(), "demo");
    return t;
  }()};
  const fs::path& tmpl = tmpl_dir.path;
  fs::path dir = fs::temp_directory_path() / ("rapport-decision-http-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(tmpl, dir, fs::copy_options::recursive);
  std::string write_key;
  {
    auto db = storage::OpenSqlite((dir / "rapport.db").string());
    Must(db.ok(), "db");
    auto src = ingest::CreateSource(**db, "bench", SystemClock::Default()->Now());
    Must(src.ok(), "source");
    write_key = src->write_key;
  }
  auto admin = server::CreateApiKey(dir.string(), "admin");
  Must(admin.ok(), "key");
  std::string auth = "Bearer " + admin->key;
  server::ServerOptions so;
  so.data_dir = dir.string();
  so.listen = "127.0.0.1:0";
  so.durable = true;
  so.queue_capacity = 4096;
  // The access log's cost: RAPPORT_BENCH_ACCESS_LOG=off|stderr|FILE (default
  // a file in the data directory, as a production server would have it).
  const char* access_log = std::getenv("RAPPORT_BENCH_ACCESS_LOG");
  so.access_log = access_log ? access_log : (dir / "access.log").string();
  auto srv = server::Server::Open(so);
  Must(srv.ok() && (*srv)->Start().ok(), "server");
  uint16_t port = (*srv)->port();
  Configure(port, auth);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let start-up threads settle

  int64_t total = static_cast<int64_t>(rate * seconds);
  std::atomic<int> failures{0}, ingest_failures{0};
  // Ingest beside the decisions: page events of 2,000 visitors in batches of 100.
  std::string basic = BasicAuth(write_key);
  double batches_per_s = events_per_s / 100;
  int64_t batches = static_cast<int64_t>(batches_per_s * seconds);
  // Runs the ingest for one phase on its own thread; batch numbers (and so
  // message ids) continue from `first`.
  auto start_ingest = [&](int64_t first, std::vector<double>* out) {
    return std::thread([&, first, out] {
      if (batches == 0) return;
      *out = OpenLoop(
          port, kIngestConnections, batches_per_s, batches,
          [](int64_t) { return std::pair{http::verb::post, std::string("/v1/batch")}; },
          [first](int64_t j) {
            std::string b = "{\"batch\":[";
            for (int e = 0; e < 100; ++e) {
              int64_t n = (first + j) * 100 + e;
              b += (e ? "," : "") + std::string(R"({"type":"page","userId":"visitor-)") + std::to_string(n % 2000) +
                   R"(","name":"Home","messageId":"m-)" + std::to_string(n) + R"("})";
            }
            return b + "]}";
          },
          basic, &ingest_failures);
    });
  };
  // Baseline first: the HTTP floor (GET /healthz: parse, route, answered on
  // the I/O thread) at the same rate with the same ingest beside it.
  std::vector<double> base_ingest_lat, ingest_lat;
  std::thread base_ingest = start_ingest(0, &base_ingest_lat);
  auto base = OpenLoop(
      port, kDecideConnections, rate, total,
      [](int64_t) { return std::pair{http::verb::get, std::string("/healthz")}; }, [](int64_t) { return std::string(); },
      auth, &failures);
  base_ingest.join();
  std::thread ingest = start_ingest(batches, &ingest_lat);
  std::vector<std::string> bodies(static_cast<size_t>(std::min<int64_t>(total, 100'000)));
  demo::Rng rng(5);
  for (size_t i = 0; i < bodies.size(); ++i) {
    bodies[i] = R"({"customerId":)" + std::to_string(1 + rng.Below(kCustomers)) + R"(,"channel":")" +
                (i % 10 == 0 ? "email" : "web") + R"(","decisionPoint":"web-home","limit":3})";
  }
  auto t0 = Steady::now();
  auto lat = OpenLoop(
      port, kDecideConnections, rate, total,
      [](int64_t) { return std::pair{http::verb::post, std::string("/v1/decide")}; },
      [&](int64_t j) { return bodies[static_cast<size_t>(j) % bodies.size()]; }, auth, &failures);
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  ingest.join();
  (*srv)->Stop();
  srv->reset();
  fs::remove_all(dir);
  for (auto _ : state) state.SetIterationTime(secs);
  if (failures > 0 || ingest_failures > 0) {
    std::fprintf(stderr, "failures: decide/healthz %d, ingest %d\n", failures.load(), ingest_failures.load());
  }
  state.counters["decisions_per_s"] = static_cast<double>(total) / secs;
  state.counters["p50_ms"] = Percentile(lat, 0.5) / 1000;
  state.counters["p99_ms"] = Percentile(lat, 0.99) / 1000;
  state.counters["p999_ms"] = Percentile(lat, 0.999) / 1000;
  state.counters["baseline_healthz_p50_ms"] = Percentile(base, 0.5) / 1000;
  state.counters["baseline_healthz_p99_ms"] = Percentile(base, 0.99) / 1000;
  state.counters["ingest_events_per_s"] = events_per_s;
  state.counters["ingest_p99_ms"] = Percentile(ingest_lat, 0.99) / 1000;
  state.counters["failures"] = failures.load() + ingest_failures.load();
  std::printf("decide over HTTP at %.0f/s (open loop) with %.0f events/s ingested: p50 %.2f ms, p99 %.2f ms, "
              "p99.9 %.2f ms (budget p99 <= 2 ms); baseline GET /healthz at the same rate and ingest: p50 %.2f ms, p99 %.2f ms; "
              "ingest batch p99 %.2f ms; failures %d\n",
              rate, events_per_s, Percentile(lat, 0.5) / 1000, Percentile(lat, 0.99) / 1000, Percentile(lat, 0.999) / 1000,
              Percentile(base, 0.5) / 1000, Percentile(base, 0.99) / 1000, Percentile(ingest_lat, 0.99) / 1000,
              failures.load() + ingest_failures.load());
}
BENCHMARK(BM_Decision_DecideOverHttp)->Args({5000, 10000, 10})->Args({5000, 0, 10})->UseManualTime()->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace rapport::decision

BENCHMARK_MAIN();
