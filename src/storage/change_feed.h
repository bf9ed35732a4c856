#pragma once
// The durable change feed: the spine every follow-up of a write hangs on.
// Every write to the operational store appends change records to the
// `changes` table in the same transaction as the write itself
// (AppendChanges), so a change is visible exactly when its write is
// committed, and a crash loses neither or both. Subscribers (the profile
// store, identity matching, triggers, caches) read the feed in sequence
// order, in bounded batches, each from its own durable high-water mark kept
// in the database, so they see imports, merges, other processes' and other
// nodes' writes exactly like API calls, and catch up after a restart.
//
// Sequence numbers are gap-free and assigned in commit order, on SQLite and
// on PostgreSQL: the writing transaction takes them from a single-row counter
// (change_feed_head) that it updates, and so locks, until it commits or rolls
// back. Two transactions that append changes therefore commit in the order
// of their sequence numbers, and a reader never sees seq n+1 before seq n is
// committed (a concurrent transaction cannot commit "below" it later). The
// alternative (a sequence plus readers that stop at the lowest in-flight
// transaction) lets writers commit in parallel, but every reader would need
// the transaction ids and snapshots of PostgreSQL, and a gap could not tell
// "not yet committed" from "rolled back" or "deleted by retention". The
// counter costs one row update per transaction (not per change), and on
// PostgreSQL it serializes the commits of writing transactions from their
// first append; writers therefore append at the end of their transaction.
// On SQLite writers are serialized anyway. Because sequences are gap-free, a
// subscriber whose next batch does not start at mark + 1 knows retention
// deleted changes it never saw.
//
// Delivery is at least once: a subscriber's batch is acknowledged (its mark
// advanced in the database) only after its handler returned OK, so a process
// killed between processing and acknowledging re-delivers the batch on
// restart. Handlers must be idempotent (re-reading the current state of the
// customers named, as the profile store does, is).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "storage/storage.h"

namespace rapport::storage {

// What a writer appends: one change of one entity.
struct ChangeRecord {
  // What happened, "<entity>.<verb>": "customer.created", "customer.updated",
  // "consent.set", "identity.merged", "events.tracked", ...
  std::string kind;
  int64_t customer_id = 0;  // the customer it concerns; 0 when none (a catalog entry)
  std::string entity;       // the table or aggregate: "customer", "transaction", "merge", ...
  std::string key;          // the entity's key within it, as text ("42", "billing:88231")
  std::string data = "{}";  // compact JSON object of what changed (never secrets)
};

// One change as stored.
struct Change {
  int64_t seq = 0;           // gap-free, in commit order, from 1
  Timestamp committed_at;    // the writing transaction's time, taken just before it committed
  std::string kind;
  int64_t customer_id = 0;
  std::string entity;
  std::string key;
  std::string data;
};

// Creates the feed's tables (changes, change_feed_head, change_subscribers)
// when absent: migrations of module "change_feed". Idempotent; every store
// that appends calls it from its Open.
Status MigrateChangeFeed(Database& db);

// Appends records to the feed inside the transaction open on conn (Begin
// was called; InTransaction / WithTransaction). They become visible when it
// commits; subscribers in this process are woken after the commit, and on
// PostgreSQL the commit sends NOTIFY rapport_changes to every node. Locks
// the feed's counter until the transaction ends (see above): call it last.
// `at` is the committed time recorded. An empty list does nothing.
Status AppendChanges(Connection& conn, const std::vector<ChangeRecord>& records, Timestamp at);

// The PostgreSQL NOTIFY channel a commit with changes signals.
inline constexpr std::string_view kChangeChannel = "rapport_changes";

struct ChangeFeedOptions {
  // How often a subscriber looks at the table when nothing woke it: the
  // fallback for a lost notification and for writes of another process on
  // the same SQLite file (an import beside the server).
  std::chrono::milliseconds poll_interval{500};
  // Changes older than this that every live subscriber has acknowledged are
  // deleted. A subscriber is live when it acknowledged or polled within the
  // retention; one that did not (a removed module, a node down for longer)
  // holds nothing back and rebuilds from the store when it comes back.
  // Zero keeps every change.
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};
  // How often retention runs (in the feed's own thread).
  std::chrono::seconds retention_interval{60};
  const Clock* clock = nullptr;  // default: the system clock
};

// How one subscriber reads.
struct SubscribeOptions {
  size_t batch_size = 500;  // changes per handler call at most
  // After a failed batch the subscriber waits initial_backoff, doubling up to
  // max_backoff, and retries the same batch; other subscribers go on.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{30'000};
  // Marks are stored at most this often while batches keep coming (and when
  // the subscriber falls idle or stops): a crash re-delivers what was
  // processed since, which at-least-once delivery allows, and a write per
  // batch would compete with the writers (it cost /v1/batch ingest a fifth).
  std::chrono::milliseconds ack_interval{100};
  // The subscriber's state already reflects every change up to this seq (it
  // was just built from the store after reading Head()): the mark is raised
  // to it when lower. Unset: resume from the stored mark (0 when new).
  std::optional<int64_t> start_after;
  // A subscriber with no stored mark yet starts after the feed's head rather
  // than at its first change: for follow-ups that act on what happens from
  // now on (triggers firing on new interactions), not on history written
  // before they existed. Later starts resume from the stored mark as usual.
  bool new_starts_at_head = false;
  // Called when changes the subscriber never acknowledged were deleted by
  // retention: rebuild the state from the store. The feed reads Head()
  // first and continues after it once rebuild returns OK (a failure is
  // retried with backoff). Null: log, and continue with the oldest retained
  // change.
  std::function<Status()> rebuild;
};

// A subscriber's handler: processes one batch in sequence order and returns
// OK to acknowledge it. Runs on the subscriber's own thread. Must be
// idempotent: a batch may be delivered again after a crash.
using ChangeHandler = std::function<Status(const std::vector<Change>& batch)>;

// What a subscriber has done, for operators and tests.
struct SubscriberStatus {
  std::string name;
  int64_t mark = 0;        // the last acknowledged seq
  int64_t delivered = 0;   // changes acknowledged since this process subscribed
  int64_t failures = 0;    // failed handler calls
  int64_t rebuilds = 0;
  std::string last_error;  // of the latest failure, "" when none
};

// The feed's reader side over one database: subscribers with durable marks,
// in-process wake-ups (and LISTEN/NOTIFY on PostgreSQL), and retention.
// Thread-safe. Each subscriber runs on a thread of its own, so one that
// fails or is slow does not stall the others.
class ChangeFeed {
 public:
  // Applies the feed's migrations and starts its thread (the PostgreSQL
  // listener, retention). db must outlive the feed.
  static Result<std::unique_ptr<ChangeFeed>> Open(Database* db, ChangeFeedOptions options = {});
  ~ChangeFeed();  // stops every subscriber after its current batch
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Starts delivering to handler from the durable mark stored under name
  // ([a-z][a-z0-9_.-]*, unique per feed; the same name resumes the same mark
  // across restarts and processes). Conflict when name is subscribed already.
  Status Subscribe(std::string name, ChangeHandler handler, SubscribeOptions options = {});
  // Stops one subscriber after its current batch; its mark stays stored.
  void Unsubscribe(std::string_view name);

  // The seq of the newest committed change (0: none yet).
  Result<int64_t> Head();
  // Committed changes after after_seq, oldest first, at most limit (1..10000).
  Result<std::vector<Change>> Read(int64_t after_seq, int limit);
  // Blocks until subscriber name has acknowledged every change up to seq;
  // Unavailable after timeout, NotFound for an unknown subscriber.
  Status WaitUntil(std::string_view name, int64_t seq, std::chrono::milliseconds timeout);
  // Waits until name has acknowledged everything committed before the call.
  Status CatchUp(std::string_view name, std::chrono::milliseconds timeout);

  // Runs retention now; returns how many changes it deleted.
  Result<int64_t> ApplyRetention();

  std::vector<SubscriberStatus> Subscribers() const;

  // Wakes the subscribers (commits in this process do it themselves).
  void Wake();

 private:
  struct Impl;
  explicit ChangeFeed(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::storage
