#pragma once
// The state behind TriggerEngine, shared by trigger_engine.cc (definitions,
// the feed, firing), case_book.cc, alert_book.cc and webhook_outbox.cc.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "decision/triggers.h"
#include "feel/feel.h"
#include "profile/profile.h"

namespace rapport::decision {

// A trigger with its FEEL compiled. Immutable once built, shared by the
// index snapshots.
struct CompiledTrigger {
  Trigger trigger;      // with its secret
  std::string error;    // non-empty: stored but no longer compiles (a column went away); never fires
  std::optional<feel::Expression> where;
  std::optional<feel::Expression> condition;
  std::optional<feel::Expression> text;  // case title or alert message
  // Profile columns the condition and text may read (named in their text).
  std::vector<std::pair<std::string, profile::ColumnType>> columns;
};
using CompiledPtr = std::shared_ptr<const CompiledTrigger>;

// Enabled triggers by "type\nname" (and "type\n" for any name).
struct TriggerIndex {
  std::unordered_map<std::string, std::vector<CompiledPtr>> by_event;
  const std::vector<CompiledPtr>* Find(const std::string& key) const {
    auto it = by_event.find(key);
    return it == by_event.end() ? nullptr : &it->second;
  }
};

struct TriggerEngine::Impl {
  TriggerEngineOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<HttpClient> owned_http;
  HttpClient* http = nullptr;
  net::OutboundPolicy outbound;  // a copy of options.outbound, or the deny list alone
  int64_t feed_handle = 0;

  // Definitions. defs_write_mu serializes Create/Replace/Delete (their
  // database writes); defs_mu only guards the maps, so the feed's callback
  // never waits for a write.
  std::mutex defs_write_mu;
  mutable std::mutex defs_mu;
  std::map<int64_t, CompiledPtr> triggers;          // guarded by defs_mu
  std::shared_ptr<const TriggerIndex> index;        // guarded by defs_mu; swapped whole
  std::shared_ptr<const TriggerIndex> Snapshot() const {
    std::lock_guard<std::mutex> lock(defs_mu);
    return index;
  }
  void RebuildIndex();  // with defs_mu held

  // The feed queue and its thread.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::condition_variable flushed_cv;
  std::deque<ingest::StoredEvent> queue;  // guarded by queue_mu
  int64_t queued = 0;                     // guarded by queue_mu: events ever queued
  int64_t done = 0;                       // guarded by queue_mu: events ever processed
  bool stopping = false;                  // guarded by queue_mu
  std::thread worker;
  void RunWorker();

  // Catching up (see TriggerEngine). The feed callback queues tracked
  // events (seq > 0) only while `live`; when the queue is full it turns live
  // off and asks the worker to read the missed events back from the tracker.
  bool live = false;             // guarded by queue_mu
  bool catch_up_wanted = false;  // guarded by queue_mu: set at Open and on overflow, cleared when caught up
  // Guarded by queue_mu: every tracked event up to this seq that the feed
  // published while live is queued (or no trigger listens to it).
  int64_t queued_through = 0;
  // Worker thread only: the high-water mark (every tracked event up to it
  // is evaluated), the newest seq read back from the tracker (a feed copy
  // of it is skipped), and the mark as stored.
  int64_t through = 0;
  int64_t replayed_through = 0;
  int64_t stored_through = 0;
  std::chrono::steady_clock::time_point stored_at;
  bool caught_up_once = false;  // the catch-up at Open is done
  void CatchUp();
  // Evaluates events; with a mark, then advances the high-water mark to it
  // (in the transaction of the last firings, else at most once a second).
  void Evaluate(const std::vector<ingest::StoredEvent>& events, std::optional<int64_t> mark);
  void AdvanceMark(int64_t mark, bool now);

  // Open cases per customer and team (service, sales, marketing).
  mutable std::shared_mutex cases_mu;
  std::unordered_map<customer::CustomerId, std::array<int64_t, 3>> open_cases;  // guarded by cases_mu
  void CountOpen(customer::CustomerId id, std::string_view team, int64_t delta);

  // Webhook delivery.
  std::mutex deliver_mu;  // one DeliverDue at a time
  std::mutex outbox_mu;
  std::condition_variable outbox_cv;
  bool outbox_stopping = false;  // guarded by outbox_mu
  bool outbox_poked = false;     // guarded by outbox_mu
  std::thread deliverer;
  void RunDeliverer(TriggerEngine* engine);
  void PokeDeliverer();

  std::atomic<int64_t> events{0}, matched{0}, fired{0}, failed{0}, dropped{0}, replayed{0}, mark{0};
  std::atomic<bool> refresh_failure_logged{false};  // log the first failed profile refresh only
};

namespace internal {

Status MigrateTriggers(storage::Database& db);
// The stored high-water mark (trigger_state): nullopt before the engine
// first ran on a feed; Store inside a firing's transaction or on its own.
inline constexpr const char* kEventsMark = "events_through_seq";
Result<std::optional<int64_t>> LoadEventsMark(storage::Connection& conn);
Status StoreEventsMark(storage::Connection& conn, int64_t seq);
// INSERT ... and the id it created (SQLite rowid, PostgreSQL RETURNING id).
Result<int64_t> InsertReturningId(storage::Connection& conn, const std::string& sql,
                                  const std::vector<storage::Value>& params);
int TeamIndex(std::string_view team);  // service 0, sales 1, marketing 2, else -1

// Compiles a trigger's FEEL against the profile's columns (profile may be
// null); errors name the member and position (trigger_compile.cc).
Result<CompiledPtr> CompileTrigger(const Trigger& t, const profile::ProfileStore* profile);

// Rows to values, shared by the listings.
Case CaseFromRow(const storage::Row& r);
inline constexpr const char* kCaseColumns =
    "id, customer_id, kind, team, title, priority, status, assignee, due_at, trigger_id, event_key, created_by, "
    "created_at, updated_at, closed_at";
Alert AlertFromRow(const storage::Row& r);
inline constexpr const char* kAlertColumns =
    "id, customer_id, severity, message, trigger_id, event_key, created_at, acknowledged_at, acknowledged_by";

// Inside a firing's transaction: the rows an action writes.
Result<int64_t> InsertCase(storage::Connection& conn, const Case& c);
Result<int64_t> InsertAlert(storage::Connection& conn, const Alert& a);
Result<int64_t> InsertDelivery(storage::Connection& conn, int64_t trigger_id, int64_t firing_id,
                               const std::string& url, const std::string& secret, const std::string& body,
                               Timestamp now);

// Registers the "cases" and "alerts" sections of the 360 view.
void RegisterViewSections(customer::CustomerStore& store, TriggerEngine* engine);

}  // namespace internal
}  // namespace rapport::decision
