#pragma once
// Real-time event ingestion that speaks the Segment spec: the decoder of
// Segment tracking payloads (identify, track, page, screen, group, alias and
// batch) with precise field errors, the event model, sources and their write
// keys, and the Tracker: a dedicated writer thread that commits the events of
// many requests in one transaction (one fsync), resolves Segment user and
// anonymous ids to customers, applies the derived writes (traits as
// attributes, groups as works_for, e-commerce events as transactions),
// publishes every accepted event on an in-process change feed, and reads
// events back. The Tracker is thread-safe; decoding functions are pure.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"
#include "storage/storage.h"

namespace rapport::ingest {

// ---- the event model ---------------------------------------------------------

enum class EventType { kIdentify, kTrack, kPage, kScreen, kGroup, kAlias };
std::string_view EventTypeName(EventType t);  // "identify", "track", ...
Result<EventType> ParseEventType(std::string_view s);

// Segment's limits: a single call's body, and a /v1/batch body.
inline constexpr size_t kMaxEventBytes = 32 * 1024;
inline constexpr size_t kMaxBatchBytes = 500 * 1024;

// One Segment call, as Segment defines its common fields. JSON members are
// kept as compact JSON text ("{}" when absent).
struct TrackingEvent {
  EventType type = EventType::kTrack;
  std::string message_id;    // given by the client, or generated ("rp-" + 32 hex)
  std::string anonymous_id;
  std::string user_id;
  std::string event;         // track: the event name ("Order Completed")
  std::string name;          // page / screen: its name
  std::string category;      // page: its category
  std::string group_id;      // group
  std::string previous_id;   // alias: the id being merged into user_id
  std::string traits_json = "{}";      // identify, group
  std::string properties_json = "{}";  // track, page, screen
  std::string context_json = "{}";
  std::string integrations_json = "{}";
  // When it happened, clock-skew corrected: with sentAt present,
  // timestamp = receivedAt - (sentAt - originalTimestamp), where
  // originalTimestamp is the client's own time (originalTimestamp, else the
  // timestamp it sent); without sentAt, the client's timestamp as given;
  // without either, receivedAt.
  Timestamp timestamp;
  std::optional<Timestamp> original_timestamp;  // the client's clock, as sent
  std::optional<Timestamp> sent_at;
  Timestamp received_at;  // when Rapport received the request
};

// The event as Segment's JSON (camelCase, RFC 3339 times), as GET /v1/events
// and the change feed's readers see it.
std::string EventToJson(const TrackingEvent& e);

// Segment e-commerce events that move money ("Order Completed", "Order
// Refunded") become transactions: one per product (or one for the order when
// it lists none), keyed by messageId so a replay adds nothing; a refund is
// the negative of its order. Cart and browsing events (Product Added,
// Checkout Started...) stay events: they are interest, not revenue.
bool IsOrderEvent(std::string_view event);
// The transactions of an order event from its properties object (the
// customer id left 0). A bad amount, quantity or currency is
// InvalidArgument naming it under `base` ("/properties/products/2/quantity"),
// so the decoder refuses the call instead of the write failing later.
Result<std::vector<customer::Transaction>> OrderTransactions(const TrackingEvent& e,
                                                             const rapidjson::Value& properties,
                                                             const std::string& source, const std::string& base);

// A call rejected by the decoder: the index inside a batch (0 for a single
// call) and why, with the JSON pointer of the field ("/batch/3/userId").
struct RejectedEvent {
  size_t index = 0;
  Status status;
};

struct DecodedPayload {
  std::vector<TrackingEvent> events;   // accepted, in request order
  std::vector<RejectedEvent> rejected;
  std::string write_key;               // "writeKey" member of the body, if any (analytics.js sends it)
};

// Decodes the body of POST /v1/<type> (type given by the path; a "type"
// member, when present, must agree). Errors: InvalidArgument naming the field
// for malformed JSON, a missing required field (userId or anonymousId;
// track: event; group: groupId; alias: userId and previousId) or a wrong
// type; PayloadTooLarge beyond kMaxEventBytes. Members the spec does not
// define are kept out of the event but not rejected, since SDKs add their own
// (_metadata, channel, version).
Result<DecodedPayload> DecodeCall(EventType type, std::string_view body, Timestamp received_at);

// Decodes a POST /v1/batch body: {"batch": [...], "context", "integrations",
// "sentAt"}. The batch's context and integrations are the defaults of each
// event's; its sentAt applies to events without their own. A bad event is
// listed in `rejected` (field "/batch/<i>/...") and the rest are accepted;
// an event over kMaxEventBytes is rejected on its own. The whole body fails
// only when it is not a JSON object with a "batch" array, or exceeds
// kMaxBatchBytes.
Result<DecodedPayload> DecodeBatch(std::string_view body, Timestamp received_at);

// ---- sources -----------------------------------------------------------------

// A place events come from (a web site, an app, a back end), with the write
// key its SDK sends as the HTTP Basic user name. Write keys are not secrets
// in Segment's model (analytics.js ships them in every page), so they are
// stored as they are; they only say which source an event came from.
struct Source {
  int64_t id = 0;
  std::string name;       // [a-z][a-z0-9_.-]*, unique; the attribute-history source of its traits
  std::string write_key;  // 32 random letters and digits
  Timestamp created_at;
};

// `rapport sources create NAME --data DIR`: applies the tracking migrations to
// db and creates a source with a fresh write key. Conflict if NAME exists.
Result<Source> CreateSource(storage::Database& db, std::string_view name, Timestamp now);
Status MigrateTracking(storage::Database& db);
// `rapport sources list`: every source, oldest first, with its write key.
Result<std::vector<Source>> ListSources(storage::Database& db);

// ---- the tracker ---------------------------------------------------------------

struct TrackerOptions {
  // Events waiting for the writer, over all requests; a request that would
  // exceed it gets Unavailable (the server answers 503 with Retry-After).
  size_t queue_capacity = 200'000;
  // Events committed in one transaction at most (a group takes whole requests).
  size_t max_group_events = 20'000;
  // A second handle on the same SQLite file opened without an fsync per
  // commit (SqliteOptions::durable = false), for the derived writes and new
  // customers. They need no fsync of their own: SQLite's WAL is one ordered
  // log, so the next group's fsynced commit makes them durable, and that same
  // commit is what advances the derived-writes mark; a crash before it
  // replays them. Open makes it queue behind db's in-process writer lock.
  // Null: everything goes through db (two fsyncs per group).
  storage::Database* derived_db = nullptr;
};

// One stored event: the event, its sequence number (increasing in commit
// order) and the customer it belongs to (0 while only an unknown anonymous id
// is known: it joins its customer when identify or alias links the id).
struct StoredEvent {
  int64_t seq = 0;
  int64_t source_id = 0;
  customer::CustomerId customer_id = 0;
  TrackingEvent event;
};

// What became of one request's events.
struct WriteOutcome {
  int64_t accepted = 0;    // newly stored
  int64_t duplicates = 0;  // already stored under the same source and messageId: ignored
};

struct EventQuery {
  customer::CustomerId customer_id = 0;  // required
  std::optional<EventType> type;
  std::optional<Timestamp> since;        // events at or after this time
  int64_t after_seq = 0;                 // cursor: events with a smaller seq than this (0: from the newest)
  int limit = 50;                        // 1..1000
};

// Receives every accepted event after it is committed, in commit order, on
// the writer thread: keep it short and never call back into the Tracker.
using EventSubscriber = std::function<void(const std::vector<StoredEvent>&)>;

class Tracker {
 public:
  // Applies the tracking migrations, replays the derived writes of events a
  // crash left unapplied, and starts the writer thread. db and store must
  // outlive the tracker.
  static Result<std::unique_ptr<Tracker>> Open(storage::Database* db, customer::CustomerStore* store,
                                               TrackerOptions options = {});
  ~Tracker();  // finishes queued work, then stops the writer
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // The source with this write key; Unauthenticated when there is none.
  // Cached after the first lookup.
  Result<Source> Authenticate(std::string_view write_key);

  using Done = std::function<void(Result<WriteOutcome>)>;
  // Queues the events of one request; `done` runs on the writer thread once
  // they are durably committed (or failed). Unavailable, without calling
  // done, when the queue is full or the tracker is stopping.
  Status Submit(const Source& source, std::vector<TrackingEvent> events, Done done);
  // Submit and wait.
  Result<WriteOutcome> Write(const Source& source, std::vector<TrackingEvent> events);

  // Change feed. Returns a handle for Unsubscribe.
  int64_t Subscribe(EventSubscriber subscriber);
  // Publishes events other capabilities derive (segment.entered, ...) onto
  // the feed: subscribers see them like tracked ones, with seq 0 (they are
  // not stored in the tracking tables; their owners keep them). Called from
  // any thread but the writer.
  void Publish(const std::vector<StoredEvent>& events);
  void Unsubscribe(int64_t handle);

  // A customer's events, newest first; next_cursor continues the listing.
  Result<customer::Page<StoredEvent>> ListEvents(const EventQuery& q);

  // For feed subscribers catching up on what they missed (a restart, an
  // overflow): the stored events with a seq above after_seq, oldest first,
  // at most limit (1..10000) of them. Only events already published on the
  // feed are returned (committed, with their derived writes applied), so a
  // reader that subscribes first and then reads until a short page sees
  // every event either here or on the feed. Each event carries the customer
  // it belongs to now, which for an anonymous visitor linked since (identify,
  // alias) is no longer the 0 the feed published. Errors: InvalidArgument
  // naming afterSeq or limit.
  Result<std::vector<StoredEvent>> EventsAfter(int64_t after_seq, int limit);
  // The seq of the newest event published on the feed (0: none yet); every
  // stored event up to it is readable by EventsAfter. From memory.
  int64_t LastPublishedSeq() const;

  // Registers the 360 view's "recentEvents" section (the 20 newest events).
  void RegisterViewSection();

 private:
  struct Impl;
  explicit Tracker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::ingest
