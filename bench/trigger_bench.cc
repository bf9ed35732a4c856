// Trigger evaluation cost per change-feed event with 100 triggers, beside a
// same-run baseline: a bare feed subscriber that only copies each event into
// a queue (the least any subscriber does, and what the trigger engine's own
// feed callback does for the events a trigger listens to).
//
//   BM_Trigger_Evaluate         TriggerEngine::Process of 1,000 tracked events with
//                               100 triggers (50 event names, a FEEL `where`
//                               over the event's properties and a FEEL
//                               condition over 2 profile columns each),
//                               none firing: the cost every event pays;
//                               the baseline (copying the same events into
//                               a queue) is timed in the same run and
//                               printed beside it
//   BM_Trigger_EvaluateRefreshed  the same over a profile store built from
//                               SQLite, re-applying each customer whose event
//                               reaches a profile condition (the default)
//   BM_Trigger_Fire             events that each fire one alert trigger: a
//                               firing row and an alert in one SQLite
//                               transaction (no fsync, as the tracker's
//                               derived writes)
//   BM_Trigger_CatchUp          an engine opening on a tracker with 20,000
//                               tracked events after its high-water mark
//                               (the same 100 quiet triggers): Open until
//                               Flush returns, per event; beside it, in the
//                               same run, reading the same events with
//                               Tracker::EventsAfter alone and evaluating
//                               them from memory (TriggerEngine::Process,
//                               the live feed's cost)
//
// Profiles: 10,000 customers with 20 columns, built directly (no SQL), so
// conditions read the profile as held (refresh_profile = false); with the
// refresh, each event that reaches a profile condition also re-reads its
// customer from the operational store (ProfileStore::Apply).

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "customer/customer.h"
#include "decision/triggers.h"
#include "ingest/tracking.h"
#include "profile/profile.h"
#include "storage/storage.h"

namespace rapport::decision {
namespace {

constexpr int kCustomers = 10'000;
constexpr int kBatch = 1'000;
constexpr int kTriggers = 100;

struct World {
  std::filesystem::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<customer::CustomerStore> customers;
  std::unique_ptr<profile::ProfileStore> profile;
  std::unique_ptr<TriggerEngine> engine;
  ManualClock clock{Timestamp::FromSeconds(1'790'000'000)};

  explicit World(const std::string& tag) {
    dir = std::filesystem::temp_directory_path() / ("rapport-trigger-bench-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    storage::SqliteOptions o;
    o.durable = false;
    db = std::move(*storage::OpenSqlite((dir / "t.db").string(), o));
    customers = std::move(*customer::CustomerStore::Open(db.get(), &clock));
    using profile::ColumnType;
    std::vector<std::pair<std::string, ColumnType>> columns = {{"region", ColumnType::kString},
                                                               {"revenue90d", ColumnType::kNumber},
                                                               {"orders", ColumnType::kNumber},
                                                               {"serviceContacts", ColumnType::kNumber}};
    for (int i = columns.size(); i < 20; ++i) columns.emplace_back("extra" + std::to_string(i), ColumnType::kNumber);
    profile::ProfileStore::Builder b(columns);
    const char* regions[] = {"north", "south", "east", "west"};
    std::mt19937 rng(7);
    for (int i = 1; i <= kCustomers; ++i) {
      b.AddRow(i);
      b.SetString(0, regions[rng() % 4]);
      b.SetNumber(1, rng() % 2000);
      b.SetNumber(2, rng() % 20);
      b.SetNumber(3, rng() % 3);
      for (size_t c = 4; c < columns.size(); ++c) b.SetNumber(c, rng() % 100);
    }
    profile = b.Finish();
    TriggerEngineOptions eo;
    eo.db = db.get();
    eo.customers = customers.get();
    eo.profile = profile.get();
    eo.clock = &clock;
    eo.deliver_in_background = false;
    // The profile here is built in memory, without an operational store to
    // re-read customers from: conditions read it as it is.
    eo.refresh_profile = false;
    engine = std::move(*TriggerEngine::Open(eo));
  }
  ~World() {
    engine.reset();
    profile.reset();
    customers.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
};

// 100 triggers on 50 event names; `where` holds for totals over 500, the
// condition never (revenue90d < 2000 for everyone), so nothing fires.
void DefineQuietTriggers(TriggerEngine& engine) {
  for (int i = 0; i < kTriggers; ++i) {
    std::string def = R"({"name": "t)" + std::to_string(i) + R"(", "event": {"type": "track", "name": "Event )" +
                      std::to_string(i % 50) + R"(", "where": "event.properties.total > 500"},
        "condition": "revenue90d > 5000 and region = \"north\"",
        "action": {"type": "alert", "message": "\"big\""}})";
    auto t = engine.Create(*ParseTriggerDefinition(def));
    if (!t.ok()) std::fprintf(stderr, "trigger: %s\n", t.status().ToString().c_str());
  }
}

// Events over 100 names (half of them listened to), totals 0..1000.
std::vector<ingest::StoredEvent> Events(int64_t first_seq) {
  std::mt19937 rng(11);
  std::vector<ingest::StoredEvent> out(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    ingest::StoredEvent& e = out[i];
    e.seq = first_seq + i;
    e.customer_id = 1 + rng() % kCustomers;
    e.event.type = ingest::EventType::kTrack;
    e.event.event = "Event " + std::to_string(rng() % 100);
    e.event.message_id = "m-" + std::to_string(e.seq);
    e.event.properties_json = R"({"orderId":"o-)" + std::to_string(e.seq) + R"(","total":)" +
                              std::to_string(rng() % 1000) + R"(,"currency":"EUR"})";
    e.event.timestamp = e.event.received_at = Timestamp::FromSeconds(1'790'000'000);
  }
  return out;
}

// The baseline, timed in the same run: copying the events into a queue, as
// a bare feed subscriber does. Nanoseconds per event.
double BareSubscriberNanosPerEvent(const std::vector<ingest::StoredEvent>& events) {
  std::deque<ingest::StoredEvent> queue;
  constexpr int kRounds = 200;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < kRounds; ++r) {
    for (const auto& e : events) queue.push_back(e);
    benchmark::DoNotOptimize(queue.back());
    queue.clear();
  }
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(ns) / (kRounds * events.size());
}

void BM_Trigger_Evaluate(benchmark::State& state) {
  World w("evaluate");
  DefineQuietTriggers(*w.engine);
  auto events = Events(1);
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) w.engine->Process(events);
  double ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count() /
              static_cast<double>(state.iterations() * kBatch);
  if (w.engine->stats().fired != 0) state.SkipWithError("a quiet trigger fired");
  double baseline = BareSubscriberNanosPerEvent(events);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["ns_per_event"] = ns;
  state.counters["baseline_bare_subscriber_ns_per_event"] = baseline;
  state.counters["ratio"] = ns / baseline;
}
BENCHMARK(BM_Trigger_Evaluate)->Unit(benchmark::kMicrosecond);

// The same 100 triggers over a profile store built from SQLite, with the
// refresh that makes conditions see each event's own effect: every event
// that passes a `where` re-applies its customer (ProfileStore::Apply).
void BM_Trigger_EvaluateRefreshed(benchmark::State& state) {
  constexpr int kStored = 2'000;
  World w("refreshed");
  std::vector<customer::CustomerRecord> records(kStored);
  const char* regions[] = {"north", "south", "east", "west"};
  for (int i = 0; i < kStored; ++i) {
    records[i].source_key = std::to_string(i);
    records[i].attributes["region"] = std::string(regions[i % 4]);
  }
  if (!w.customers->UpsertCustomers("bench", records).ok()) state.SkipWithError("cannot write customers");
  std::vector<customer::CustomerId> ids;
  for (int i = 0; i < kStored; ++i) ids.push_back(**w.customers->FindByIdentifier({"bench", std::to_string(i)}));
  auto opened = profile::ProfileStore::Open(w.db.get(), profile::DefaultProfileOptions(w.clock.Now()));
  if (!opened.ok()) state.SkipWithError("cannot build the profile store");
  w.engine.reset();
  w.profile = std::move(*opened);
  TriggerEngineOptions eo;
  eo.db = w.db.get();
  eo.customers = w.customers.get();
  eo.profile = w.profile.get();
  eo.clock = &w.clock;
  eo.deliver_in_background = false;
  w.engine = std::move(*TriggerEngine::Open(eo));
  DefineQuietTriggers(*w.engine);
  auto events = Events(1);
  for (auto& e : events) e.customer_id = ids[e.customer_id % kStored];
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) w.engine->Process(events);
  double ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count() /
              static_cast<double>(state.iterations() * kBatch);
  if (w.engine->stats().fired != 0) state.SkipWithError("a quiet trigger fired");
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["ns_per_event"] = ns;
  state.counters["baseline_bare_subscriber_ns_per_event"] = BareSubscriberNanosPerEvent(events);
}
BENCHMARK(BM_Trigger_EvaluateRefreshed)->Unit(benchmark::kMicrosecond);

void BM_Trigger_Fire(benchmark::State& state) {
  World w("fire");
  DefineQuietTriggers(*w.engine);
  auto fire = ParseTriggerDefinition(R"({"name": "every order", "event": {"type": "track", "name": "Fire"},
      "action": {"type": "alert", "message": "\"Order \" + event.properties.orderId"}})");
  if (!w.engine->Create(*fire).ok()) state.SkipWithError("cannot create the trigger");
  int64_t seq = 1;
  for (auto _ : state) {
    state.PauseTiming();
    auto events = Events(seq);
    for (auto& e : events) e.event.event = "Fire";
    seq += kBatch;
    state.ResumeTiming();
    w.engine->Process(events);
  }
  if (w.engine->stats().fired != state.iterations() * kBatch) state.SkipWithError("not every event fired once");
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_Trigger_Fire)->Unit(benchmark::kMillisecond)->Iterations(5);

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BM_Trigger_CatchUp(benchmark::State& state) {
  constexpr int kStoredEvents = 20'000;
  constexpr int kUsers = 2'000;
  World w("catchup");
  DefineQuietTriggers(*w.engine);
  auto tracker = ingest::Tracker::Open(w.db.get(), w.customers.get());
  auto source = ingest::CreateSource(*w.db, "bench", w.clock.Now());
  if (!tracker.ok() || !source.ok()) {
    state.SkipWithError("cannot open the tracker");
    return;
  }
  TriggerEngineOptions eo;
  eo.db = w.db.get();
  eo.customers = w.customers.get();
  eo.profile = w.profile.get();
  eo.clock = &w.clock;
  eo.deliver_in_background = false;
  eo.refresh_profile = false;  // as BM_Trigger_Evaluate: the profile is held in memory
  eo.feed = tracker->get();
  w.engine.reset();
  w.engine = std::move(*TriggerEngine::Open(eo));  // the first open on the feed: the mark starts here
  w.engine.reset();
  // Written while the engine is down: what it catches up on.
  const auto template_events = Events(1);
  for (int first = 0; first < kStoredEvents; first += kBatch) {
    std::vector<ingest::TrackingEvent> batch;
    for (int i = 0; i < kBatch; ++i) {
      ingest::TrackingEvent e = template_events[i].event;
      e.message_id = "m-" + std::to_string(first + i);
      e.user_id = "u-" + std::to_string((first + i) % kUsers);
      batch.push_back(std::move(e));
    }
    if (!(*tracker)->Write(*source, std::move(batch)).ok()) state.SkipWithError("cannot write events");
  }
  while ((*tracker)->LastPublishedSeq() < kStoredEvents) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto rewind = [&] {
    return w.db->WithConnection([](storage::Connection& c) {
      return c.Execute("UPDATE trigger_state SET value = 0 WHERE name = 'events_through_seq'").status();
    });
  };
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (!rewind().ok()) state.SkipWithError("cannot rewind the mark");
    state.ResumeTiming();
    auto start = std::chrono::steady_clock::now();
    auto engine = TriggerEngine::Open(eo);
    if (!engine.ok()) {
      state.SkipWithError("cannot open the engine");
      break;
    }
    (*engine)->Flush();
    seconds += SecondsSince(start);
    if ((*engine)->stats().replayed != kStoredEvents) state.SkipWithError("not every event was read back");
    if ((*engine)->stats().fired != 0) state.SkipWithError("a quiet trigger fired");
    state.PauseTiming();
    engine->reset();
    state.ResumeTiming();
  }
  // Baselines in the same run: the tracker's read alone, and evaluating the
  // same events from memory, as the live feed does.
  std::vector<ingest::StoredEvent> all;
  auto start = std::chrono::steady_clock::now();
  for (int64_t after = 0;;) {
    auto page = (*tracker)->EventsAfter(after, 1000);
    if (!page.ok() || page->empty()) break;
    after = page->back().seq;
    all.insert(all.end(), std::make_move_iterator(page->begin()), std::make_move_iterator(page->end()));
  }
  const double read_us = SecondsSince(start) * 1e6 / kStoredEvents;
  auto engine = TriggerEngine::Open([&] {
    TriggerEngineOptions o = eo;
    o.feed = nullptr;
    return o;
  }());
  start = std::chrono::steady_clock::now();
  (*engine)->Process(all);
  const double evaluate_us = SecondsSince(start) * 1e6 / kStoredEvents;
  engine->reset();
  tracker->reset();
  state.SetItemsProcessed(state.iterations() * kStoredEvents);
  state.counters["us_per_event"] = seconds * 1e6 / (state.iterations() * kStoredEvents);
  state.counters["baseline_read_us_per_event"] = read_us;
  state.counters["baseline_evaluate_from_memory_us_per_event"] = evaluate_us;
}
BENCHMARK(BM_Trigger_CatchUp)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace rapport::decision

BENCHMARK_MAIN();
