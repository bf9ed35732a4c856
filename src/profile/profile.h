#pragma once
// The profile store: one row per customer, held in memory column by column
// (dense arrays, dictionary-encoded strings, null bitmaps), built from the
// operational store and kept current customer by customer. Segments are FEEL
// conditions compiled to column scans giving roaring bitmaps; membership is
// maintained incrementally. Slice-and-dice queries group measures by
// dimensions over the same columns.

#include <atomic>
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
#include "feel/feel.h"
#include "storage/change_feed.h"
#include "storage/storage.h"

namespace rapport::customer {
class CustomerStore;
}

namespace rapport::profile {

enum class ColumnType : uint8_t { kNumber, kString, kDate, kBoolean };
// "number", "string", "date", "boolean".
std::string_view ColumnTypeName(ColumnType type);

// A customer attribute (from the customers.attributes JSON) held as a column.
// "@kind" reads the customer kind (person, household, organization).
struct AttributeColumn {
  enum class Derive : uint8_t { kNone, kAgeYears, kAgeBand };  // from a date attribute, at as_of
  std::string name;       // column name in conditions ("region")
  std::string attribute;  // JSON key in attributes; "" = same as name
  ColumnType type = ColumnType::kString;
  // kAgeYears: whole years (number); kAgeBand: "18-29", "30-39", ..., "70+"
  // (string; "under 18" below).
  Derive derive = Derive::kNone;
};

// A maintained aggregate over a customer's transactions or interactions.
struct AggregateDef {
  enum class Source : uint8_t { kTransactions, kInteractions };
  enum class Measure : uint8_t {
    kCount,  // rows
    kSum,    // sum of field (number)
    kFirst,  // earliest occurred_at, as a date
    kLast,   // latest occurred_at, as a date
    kTop,    // most frequent value of field (string); ties: smallest value
  };
  std::string name;
  Source source = Source::kTransactions;
  Measure measure = Measure::kCount;
  std::string field;      // kSum: "amount"/"quantity"; kTop: a text column ("category")
  int window_days = 0;    // > 0: only rows in the last window_days before as_of
  // FEEL boolean over the row's columns (channel, category, amount, type,
  // outcome, ... as named in the source table); "" = every row.
  std::string filter;
  // Households and organizations also get the combination over their
  // member_of members (sum of counts and sums, earliest first, latest last).
  bool rollup = true;
};

struct ProfileOptions {
  std::vector<AttributeColumn> attributes;
  std::vector<AggregateDef> aggregates;
  // "Now" for rolling windows and ages. Windows are taken at build and at
  // each Apply; a nightly rebuild moves them on.
  Timestamp as_of{};
  // The budget of a request's condition (segment preview, count, create,
  // analytics filter): steps and bytes as feel::EvalLimits counts them,
  // and its wall time. profile.json: "limits": {"maxSteps", "maxMemoryBytes",
  // "timeoutMs"}.
  feel::EvalLimits limits;
  std::chrono::milliseconds eval_timeout{2'000};
};

// The columns an analyst gets on the demo data: attributes (kind, region,
// city, gender, birthDate, age, ageBand, industry, segment, employees, ...),
// purchase behaviour (orders, revenue, firstPurchase, lastPurchase,
// revenue30d/90d/365d, onlineOrders90d, topCategory), contacts per channel
// (webContacts, emailContacts, storeContacts, serviceContacts and
// lastServiceContact, ...).
ProfileOptions DefaultProfileOptions(Timestamp as_of);

// Profile columns from JSON (the server reads DATA_DIR/profile.json when
// present; docs/segments.md):
//   {"defaults": true,
//    "attributes": [{"name": "tier", "attribute": "loyaltyTier", "type": "string"}],
//    "aggregates": [{"name": "gardenRevenue365d", "source": "transactions", "measure": "sum",
//                    "field": "amount", "windowDays": 365, "filter": "category = \"garden\"",
//                    "rollup": true}]}
// "defaults": true starts from DefaultProfileOptions and adds these columns.
// Errors name the JSON pointer of the offending member; aggregate fields and
// FEEL filters are checked when a store is opened with the options.
Result<ProfileOptions> ParseProfileOptions(std::string_view json_text, Timestamp as_of);

// A FEEL condition over the profile columns compiled to a scan. Immutable.
class SegmentCondition;

// One group of a slice-and-dice query.
struct QueryRow {
  std::vector<std::string> dimensions;  // values as text; "" for null
  std::vector<std::optional<double>> measures;
};
struct QueryResult {
  std::vector<std::string> dimension_names;
  std::vector<std::string> measure_names;  // "count", "sum(revenue)", ...
  std::vector<QueryRow> rows;              // ordered by first measure, descending
  std::string ToCsv() const;
};
struct QuerySpec {
  // "count" or "sum(col)", "avg(col)", "min(col)", "max(col)" over number columns.
  std::vector<std::string> measures;
  std::vector<std::string> dimensions;  // string/boolean columns, or number columns
  std::string filter;                   // FEEL condition; "" = everyone
  int64_t segment_id = 0;               // > 0: only members of that segment
  int limit = 1000;
  feel::EvalLimits limits;              // the filter's budget (feel.h)
};

struct Segment {
  int64_t id = 0;
  std::string name;
  std::string description;
  std::string condition;
  int64_t size = 0;
  Timestamp created_at{};
};

// A membership change found by Apply.
struct SegmentChange {
  int64_t segment_id;
  int64_t customer_id;
  bool entered;  // false: exited
};
using SegmentListener = std::function<void(const SegmentChange&)>;

// A recorded membership change: the segment's own change feed, durable in
// profile_segment_events, read oldest first by sequence number.
struct SegmentEvent {
  int64_t seq = 0;
  int64_t segment_id = 0;
  int64_t customer_id = 0;
  bool entered = false;  // "segment.entered"; false: "segment.exited"
  Timestamp at{};
};

// How a segment is derived from others.
enum class SetOperation : uint8_t { kUnion, kIntersection, kDifference };

// The store. Thread-safe: reads share a lock; Build and Apply take it
// exclusively.
class ProfileStore {
 public:
  // Creates the store's tables (segments, snapshots) and builds the columns
  // from the operational store in db (customers, transactions, interactions,
  // member_of relationships), loading saved segments.
  static Result<std::unique_ptr<ProfileStore>> Open(storage::Database* db, ProfileOptions options);
  ~ProfileStore();

  // Columns --------------------------------------------------------------
  int64_t size() const;  // customers
  std::vector<std::pair<std::string, ColumnType>> columns() const;
  // Bytes held by columns, dictionaries, null bitmaps and the id index.
  int64_t memory_bytes() const;
  // A column value of one customer as text ("" when null); NotFound for an
  // unknown customer or column.
  Result<std::string> ValueOf(int64_t customer_id, std::string_view column) const;
  // The index of a column for ReadRow, or -1 when there is no such column.
  // Indexes are stable for the life of the store.
  int ColumnIndex(std::string_view column) const;
  // One customer's values of the given columns (indexes from ColumnIndex;
  // -1 gives null) as typed FEEL values, under one shared lock: the fast
  // read for real-time decisions. NotFound when the customer has no row.
  Status ReadRow(int64_t customer_id, const std::vector<int>& columns, std::vector<feel::Value>* out) const;
  // The households a customer is a member of (member_of), from memory.
  std::vector<int64_t> GroupsOf(int64_t customer_id) const;

  // Re-reads one customer and the household/organization it belongs to from
  // the operational store, updates their rows, re-evaluates every segment
  // for them and reports entries and exits to the listener.
  Status Apply(int64_t customer_id);
  void SetListener(SegmentListener listener);
  // Changes found by Apply, after the cursor (a seq; 0 = from the start),
  // oldest first. Stores built by Builder record none.
  Result<std::vector<SegmentEvent>> SegmentEvents(int64_t segment_id, int64_t after_seq, int limit) const;

  // Segments -------------------------------------------------------------
  // Errors: kInvalidArgument with field "/condition" and a message naming
  // the position ("position 12: unknown column 'regoin'"); over a limit of
  // the budget (steps and bytes per block of rows and per row, the deadline
  // and cancellation per call) feel::LimitStatus: 422 or 503.
  Result<int64_t> Count(std::string_view condition, const feel::EvalLimits& limits = {}) const;
  Result<Segment> CreateSegment(std::string name, std::string description, std::string condition,
                                const feel::EvalLimits& limits = {});
  // A segment holding the union/intersection/difference of two others,
  // kept as a condition over both ("segment(1) and not segment(2)").
  Result<Segment> CombineSegments(std::string name, SetOperation op, int64_t left, int64_t right);
  Result<Segment> GetSegment(int64_t id) const;
  std::vector<Segment> ListSegments() const;
  Status DeleteSegment(int64_t id);
  // Members in customer-id order after the cursor (0 = from the start).
  Result<std::vector<int64_t>> Members(int64_t id, int64_t after_customer_id, int limit) const;
  // The segments a customer is in.
  std::vector<Segment> SegmentsOf(int64_t customer_id) const;
  // Records today's members under date (YYYY-MM-DD); returns the size.
  Result<int64_t> Snapshot(int64_t id, std::string_view date);
  Result<std::vector<int64_t>> SnapshotMembers(int64_t id, std::string_view date) const;

  // Slice-and-dice --------------------------------------------------------
  Result<QueryResult> Query(const QuerySpec& spec) const;

  // Access checks (access.cc) ---------------------------------------------
  // The columns a condition reads, each once, in column order: every column
  // whose values its evaluation can see. Errors as Count's.
  Result<std::vector<std::string>> ReferencedColumns(std::string_view condition) const;
  // The customer attribute a column holds as stored ("birthDate" for the
  // birthDate column), or "" when the column derives its value (age and
  // ageBand from birthDate, the aggregates, the customer kind) or does not
  // exist. Roles that may not see an attribute may not read its column.
  std::string StoredAttributeOf(std::string_view column) const;
  // The configured budget for one request's condition, its deadline from
  // now, stopped early when *cancelled turns true (may be null).
  feel::EvalLimits RequestLimits(const std::atomic<bool>* cancelled) const;

  // For the benchmark: a store built directly from rows, without SQL.
  class Builder;

  struct Impl;  // defined in internal/store_impl.h, used only inside the module

 private:
  explicit ProfileStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Builder;
  friend class ProfileFeedSubscriber;
};

// Fills a store row by row without a database (benchmarks, tests of the
// column layer). Attribute and aggregate values are given per column name.
class ProfileStore::Builder {
 public:
  explicit Builder(std::vector<std::pair<std::string, ColumnType>> columns);
  ~Builder();
  // Starts a row for a customer; then Set* the values (absent = null).
  void AddRow(int64_t customer_id);
  void SetNumber(size_t column, double v);
  void SetString(size_t column, std::string_view v);
  void SetDate(size_t column, int32_t epoch_days);
  std::unique_ptr<ProfileStore> Finish();
  // Replaces the values of one existing customer (nullopt = null) and
  // re-evaluates segments, like Apply but with values given. For the
  // incremental-update benchmark.
  static Status Update(ProfileStore& store, int64_t customer_id,
                       const std::vector<std::pair<std::string, std::optional<std::string>>>& values);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Applies changed customers to a store on its own thread, so that a change
// feed's callback (which must stay short) only hands over ids. Ids queued
// while one is being applied are coalesced. Thread-safe.
class ProfileUpdater {
 public:
  explicit ProfileUpdater(ProfileStore* store);
  ~ProfileUpdater();  // applies what is queued, then stops
  ProfileUpdater(const ProfileUpdater&) = delete;
  ProfileUpdater& operator=(const ProfileUpdater&) = delete;

  void Enqueue(const std::vector<int64_t>& customer_ids);
  // Blocks until every id queued before the call has been applied.
  void Flush();
  int64_t applied() const;  // Apply calls so far
  int64_t failed() const;   // of which failed (logged)

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Keeps a profile store current from the change feed (storage/change_feed.h)
// as the subscriber "profile" (or another name, one per store): every
// customer a batch of changes names is re-applied (ProfileStore::Apply,
// which re-reads it, so a batch delivered twice does no harm). A route, an
// import, a merge and another process's or node's write reach the store
// alike. Tracked events (events.tracked) are skipped: the store holds no
// events, and their derived writes (traits, orders) are changes of their own.
// Thread-safe; the feed runs the handler on its own thread.
class ProfileFeedSubscriber {
 public:
  // built_through: the feed's Head() read before store was built from the
  // tables, so every change up to it is in the store already. A subscriber
  // whose mark fell behind the feed's retention re-applies every customer.
  // feed and store must outlive the subscriber.
  static Result<std::unique_ptr<ProfileFeedSubscriber>> Start(storage::ChangeFeed* feed, ProfileStore* store,
                                                              int64_t built_through, std::string name = "profile");
  ~ProfileFeedSubscriber();  // unsubscribes after the current batch
  ProfileFeedSubscriber(const ProfileFeedSubscriber&) = delete;
  ProfileFeedSubscriber& operator=(const ProfileFeedSubscriber&) = delete;

  const std::string& name() const { return name_; }
  // Waits until every change committed before the call is applied.
  Status CatchUp(std::chrono::milliseconds timeout);

 private:
  ProfileFeedSubscriber(storage::ChangeFeed* feed, std::string name) : feed_(feed), name_(std::move(name)) {}
  storage::ChangeFeed* feed_;
  std::string name_;
};

// Adds the "segments" section to the customer 360 view: the segments the
// customer is in, [{"id", "name"}]. profile must outlive store's views.
void RegisterSegmentsView(customer::CustomerStore& store, const ProfileStore& profile);

}  // namespace rapport::profile
