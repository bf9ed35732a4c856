#pragma once
// Triggers: "when event E happens and FEEL condition C holds on the profile,
// do A", evaluated in real time on the change feed, at most once per
// (trigger, event), and, for tracked events, at least once too: events the
// engine missed (a restart, a full queue) are read back from the tracker
// after its durable high-water mark, so each acts exactly once. A is one of: open a case or task for a team, send a
// signed webhook, decide-and-deliver (ask the decision engine, deliver its
// answer), or raise an alert shown in the customer 360 view. This header
// also holds what those actions need: the case book, the alerts, the durable
// webhook outbox with HMAC-SHA256 signatures, and the HttpClient seam.
// Every class says whether it is thread-safe; free functions are pure.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"
#include "ingest/tracking.h"
#include "storage/storage.h"

namespace rapport::profile {
class ProfileStore;
}

namespace rapport::decision {

// ---- HTTP client seam --------------------------------------------------------

struct HttpRequest {
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10'000};
};

struct HttpResponse {
  int status = 0;
  std::string body;  // at most the first 4 KiB are kept
};

// POSTs a request. Transport failures (refused, timeout, TLS) are an
// Unavailable status; an address the outbound policy refuses is
// PermissionDenied (no request is sent); any HTTP answer, 5xx included, is a
// response. Implementations are thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Post(const HttpRequest& request) = 0;
};

// The real client on libcurl: one easy handle per call, no redirects, no
// proxies, and only to addresses the policy allows. It resolves the URL's
// host itself (OutboundPolicy::Resolve), pins libcurl to exactly the allowed
// addresses (CURLOPT_RESOLVE), and checks the address of every socket
// libcurl opens again, so a name that resolves elsewhere between the check
// and the connection (DNS rebinding) reaches nothing. Header names and
// values with CR, LF or NUL are refused (InvalidArgument).
std::unique_ptr<HttpClient> MakeCurlHttpClient(net::OutboundPolicy policy = {});

// ---- webhook signatures --------------------------------------------------------

// Webhook requests carry the header
//   Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
// where the HMAC is keyed by the trigger's secret over "<t>.<body>" (the
// seconds as decimal text, a dot, then the raw request body), as Stripe does.
inline constexpr std::string_view kSignatureHeader = "Rapport-Signature";

// The header value for body signed at time t.
std::string SignWebhook(std::string_view secret, Timestamp t, std::string_view body);

// For receivers (and the tests): checks a Rapport-Signature header value.
// Accepts several v1= entries (any may match, for secret rotation) and
// ignores unknown schemes. Errors: InvalidArgument for a malformed header
// (naming what is wrong), Unauthenticated when no v1 matches or t is further
// than tolerance from now.
Status VerifyWebhookSignature(std::string_view header, std::string_view secret, std::string_view body,
                              Timestamp now, std::chrono::seconds tolerance = std::chrono::seconds(300));

// ---- trigger definitions -----------------------------------------------------

// Which feed events a trigger listens to.
struct EventFilter {
  // "track", "identify", "page", "screen", "group", "alias" (tracked events),
  // or a derived event: "segment.entered", "segment.exited",
  // "interaction.created".
  std::string type;
  // track: the event name ("Order Completed"); page/screen: the page name.
  // Empty: any.
  std::string name;
  // Optional FEEL condition over `event` only (cheap, checked first):
  // `event.properties.total > 500`.
  std::string where;
};

enum class ActionType { kCase, kWebhook, kDecide, kAlert };
std::string_view ActionTypeName(ActionType t);  // "case", "webhook", "decide", "alert"

struct TriggerAction {
  ActionType type = ActionType::kCase;
  // case: a case or a task ("case" | "task") for a team ("service", "sales",
  // "marketing"), titled by a FEEL expression giving a string
  // (`"Complaint: " + event.properties.subject`), with a priority ("low",
  // "normal", "high", "urgent"), an optional assignee and due time.
  std::string case_kind = "case";
  std::string team;
  std::string title;  // FEEL
  std::string priority = "normal";
  std::string assignee;
  int64_t due_in_hours = 0;  // 0: no due date
  // webhook and decide: where to POST (http or https). The secret signs each
  // delivery; when a definition gives none, one is generated. It is returned
  // once, by the call that creates the trigger, and never listed.
  std::string url;
  std::string secret;
  // decide: the decision point and channel to ask the decision engine
  // about; its answer is delivered to url, or, without url, recorded as an
  // outbound interaction of the customer.
  std::string decision_point;
  std::string channel;
  // alert: severity ("info", "warning", "critical") and a FEEL message.
  std::string severity = "warning";
  std::string message;  // FEEL
};

struct TriggerDefinition {
  std::string name;  // unique, 1..100 characters
  std::string description;
  bool enabled = true;
  EventFilter event;
  // FEEL over the profile's columns by name (`revenue365d > 1000`) and the
  // event (`event.properties.total > 500`); empty: always.
  std::string condition;
  TriggerAction action;
};

// Parses a definition from the JSON of POST /v1/triggers:
//   {"name", "description", "enabled", "event": {"type", "name", "where"},
//    "condition", "action": {"type": "case"|"webhook"|"decide"|"alert", ...}}
// (action members in camelCase: kind, team, title, priority, assignee,
// dueInHours, url, secret, decisionPoint, channel, severity, message).
// Errors name the member by JSON pointer; unknown members are rejected. FEEL
// is checked later, by TriggerEngine, which knows the profile's columns.
Result<TriggerDefinition> ParseTriggerDefinition(std::string_view json_text);

// A stored trigger.
struct Trigger {
  int64_t id = 0;
  TriggerDefinition definition;  // action.secret is empty unless just created
  Timestamp created_at;
  Timestamp updated_at;
  // Non-empty: stored, but inactive since it no longer compiles (a profile
  // column it reads was removed); Replace it to fix it.
  std::string error;
};
// The JSON of GET /v1/triggers/{id}; the secret only when set, the error
// only when inactive.
std::string TriggerToJson(const Trigger& t);

// One firing: the record, written before (or with) the action, that makes a
// trigger act at most once per event. event_key is "seq:<n>" for tracked
// events, "segment:<segment>:<customer>:<micros>" for segment changes,
// "interaction:<id>" for interactions, and "message:<messageId>" for other
// events published with seq 0.
struct Firing {
  int64_t id = 0;
  int64_t trigger_id = 0;
  std::string event_key;
  customer::CustomerId customer_id = 0;
  std::string event;    // "track Order Completed", "segment.entered", ...
  std::string outcome;  // "pending" (acting), "done", "failed"
  std::string detail;   // "case 12", "delivery 7", the error of a failure
  Timestamp fired_at;
};

// ---- cases and tasks -----------------------------------------------------------

// A case (a customer matter to resolve) or a task (a piece of work), owned by
// a team, created by an agent or by a trigger.
struct Case {
  int64_t id = 0;
  customer::CustomerId customer_id = 0;
  std::string kind = "case";       // case | task
  std::string team;                // service | sales | marketing
  std::string title;
  std::string priority = "normal";  // low | normal | high | urgent
  std::string status = "open";     // open -> in_progress -> closed (reopening goes back to open)
  std::string assignee;
  std::optional<Timestamp> due_at;
  int64_t trigger_id = 0;          // 0: created by hand
  std::string event_key;           // the event that fired the trigger
  std::string created_by;          // "trigger:<id>" or "key:<API key prefix>"
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> closed_at;
};

// A change to a case; absent members stay as they are. Status moves
// open -> in_progress -> closed, open -> closed, in_progress -> open and
// closed -> open (reopened); other moves are Conflict.
struct CasePatch {
  std::optional<std::string> status;
  std::optional<std::string> assignee;
  std::optional<std::string> priority;
  std::optional<std::string> title;
  std::optional<std::optional<Timestamp>> due_at;  // nullopt inside: clear
};

struct CaseQuery {
  customer::CustomerId customer_id = 0;  // 0: all
  std::string team;                      // "": all
  std::string status;                    // "": all
  std::string kind;                      // "": all
  int64_t after_id = 0;                  // cursor (newest first): cases with a smaller id; 0: from the newest
  int limit = 50;                        // 1..500
};

// Decodes the JSON of POST /v1/cases ({customerId, kind, team, title,
// priority, assignee, dueAt}) and PATCH /v1/cases/{id}.
Result<Case> ParseNewCase(std::string_view json_text);
Result<CasePatch> ParseCasePatch(std::string_view json_text);
// Case and alert texts are free text that a trigger's title template or a
// person may have filled with personal data ("Call Anna Schmidt on ..."),
// so for a reader without PII access (mask_text) they are written as "***".
inline constexpr std::string_view kMaskedText = "***";
std::string CaseToJson(const Case& c, bool mask_text = false);

// ---- alerts ------------------------------------------------------------------------

struct Alert {
  int64_t id = 0;
  customer::CustomerId customer_id = 0;
  std::string severity;  // info | warning | critical
  std::string message;
  int64_t trigger_id = 0;
  std::string event_key;
  Timestamp created_at;
  std::optional<Timestamp> acknowledged_at;
  std::string acknowledged_by;
};
std::string AlertToJson(const Alert& a, bool mask_text = false);

// ---- webhook deliveries --------------------------------------------------------------

// The delivery log keeps this much of a receiver's answer, cut at a
// character boundary: enough to see why it refused, not a way to read an
// internal service's pages.
inline constexpr size_t kResponseExcerptBytes = 256;

// One attempt to deliver a message: the delivery log.
struct DeliveryAttempt {
  Timestamp at;
  int http_status = 0;  // 0: no answer (the error says why)
  std::string error;
  std::string response;  // an excerpt of the receiver's answer: at most kResponseExcerptBytes, valid UTF-8
  int64_t duration_micros = 0;
};

// One message in the outbox and where its delivery stands.
struct Delivery {
  int64_t id = 0;
  int64_t trigger_id = 0;
  std::string url;
  std::string body;
  std::string status;  // pending | delivered | failed (gave up)
  int attempts = 0;
  int last_http_status = 0;  // 0: no answer
  std::string last_error;
  Timestamp created_at;
  Timestamp next_attempt_at;
  std::optional<Timestamp> delivered_at;
  std::vector<DeliveryAttempt> log;  // newest first, at most 10 (listings)
};
std::string DeliveryToJson(const Delivery& d);

// ---- the engine -----------------------------------------------------------------------

// Asks the decision engine for a customer's next best actions at a decision
// point and channel; returns the answer as JSON text.
using DecideHook = std::function<Result<std::string>(customer::CustomerId, const std::string& decision_point,
                                                     const std::string& channel)>;

struct TriggerEngineOptions {
  storage::Database* db = nullptr;               // required
  customer::CustomerStore* customers = nullptr;  // required: view sections, outbound interactions
  profile::ProfileStore* profile = nullptr;      // optional: conditions then see no columns
  ingest::Tracker* feed = nullptr;               // optional: without it nothing fires by itself
  const Clock* clock = nullptr;                  // default: the system clock
  HttpClient* http = nullptr;                    // default: a libcurl client owned by the engine, under `outbound`
  // Where webhook and decide URLs may point: checked by Create and Replace
  // (Unprocessable naming /action/url) and by the default client at every
  // connection. Null: the deny list with nothing allowed past it.
  const net::OutboundPolicy* outbound = nullptr;
  DecideHook decide;                             // null: "decide" actions are refused
  // Webhook retries: after the n-th failed attempt the next one waits
  // retry_base * 2^(n-1), at most retry_max; after max_attempts the delivery
  // is marked failed. 5xx, 408, 429 and transport errors are retried; other
  // answers fail at once.
  std::chrono::seconds retry_base{10};
  std::chrono::seconds retry_max{3600};
  int max_attempts = 8;
  std::chrono::milliseconds webhook_timeout{10'000};
  // Before a condition reads profile columns for a tracked event, re-apply
  // the customer to the profile store (ProfileStore::Apply, once per event),
  // so conditions see the event's own effect (the order just tracked counts
  // in `orders`). false: read the profile as the store's updater left it,
  // which may be just before the event (cheaper for high-volume triggers).
  bool refresh_profile = true;
  // false: no background delivery thread; call DeliverDue() (tests).
  bool deliver_in_background = true;
  // Feed events waiting for the engine's thread. Beyond it (triggers far
  // behind ingest) events are not queued, so memory stays bounded and the
  // tracker never waits for triggers: tracked events are then read back
  // from the tracker (the engine catches up, see TriggerEngine) and still
  // fire; derived events (seq 0) are dropped, counted and logged.
  size_t max_queued_events = 1'000'000;
};

// The trigger engine. Thread-safe. Open() subscribes to the feed; the
// feed's callback only queues the events, and one thread of the engine's
// matches and fires them; a second one delivers webhooks from the outbox.
//
// Catching up. The engine keeps a durable high-water mark (table
// trigger_state): the highest seq such that every tracked event up to it has
// been evaluated. It is written in the same transaction as a batch's
// firings, or, for batches without firings, at most once a second and when
// the engine closes. At Open, and whenever the queue was full, the engine
// thread reads the tracked events after the mark back from the tracker
// (Tracker::EventsAfter, oldest first, 1,000 at a time) before it takes
// tracked events from the feed again; an event seen both ways is evaluated
// once. So a tracked event committed by the tracker is evaluated after a
// crash or an overflow, and the firing key keeps it from acting twice: for
// tracked events, exactly once. A replayed event carries the customer it
// belongs to now (an anonymous visitor identified since fires for that
// customer). The first Open on a database starts the mark at the tracker's
// newest event: history before the engine ever ran is not replayed. Derived
// events (segment.entered/exited, interaction.created: seq 0) are not in the
// tracker's table, so they stay at most once: lost if the process dies while
// they are queued or the queue is full.
class TriggerEngine {
 public:
  // Applies the "triggers" migrations, loads and compiles the stored
  // triggers, registers the 360 view's "cases" and "alerts" sections, and
  // starts the threads. db, customers, profile, feed, clock and http must
  // outlive the engine, and the engine must outlive calls of the customer
  // store's View (its sections call back into it).
  static Result<std::unique_ptr<TriggerEngine>> Open(TriggerEngineOptions options);
  ~TriggerEngine();  // unsubscribes, finishes queued events, stops the threads
  TriggerEngine(const TriggerEngine&) = delete;
  TriggerEngine& operator=(const TriggerEngine&) = delete;

  // Definitions. Create/Replace compile every FEEL expression and refuse
  // bad ones with the member and position ("/condition", "position 4:
  // unknown variable 'revenu'"), refuse a URL the outbound policy denies
  // (Unprocessable naming /action/url); Conflict on a duplicate name. Create
  // returns the trigger with its webhook secret (the only time it is shown).
  Result<Trigger> Create(const TriggerDefinition& definition);
  Result<Trigger> Replace(int64_t id, const TriggerDefinition& definition);  // keeps the secret unless given
  Status Delete(int64_t id);  // its firings, cases and alerts stay
  Result<Trigger> Get(int64_t id) const;
  std::vector<Trigger> List() const;  // by id
  // A trigger's firings, newest first, with ids below after_id (0: newest).
  Result<customer::Page<Firing>> Firings(int64_t trigger_id, int64_t after_id, int limit) const;

  // Runs events through the triggers as if they came from the feed, on the
  // caller's thread (tests and replays); the high-water mark does not move.
  // The feed itself goes through a queue.
  void Process(const std::vector<ingest::StoredEvent>& events);
  // Blocks until a catch-up in progress has read the tracker to its end and
  // every event queued from the feed before then is done. (The tracker
  // answers a write before publishing it, so after Write an event may not be
  // published yet.)
  void Flush();

  // Cases and tasks.
  Result<Case> CreateCase(Case c);  // validates team, kind, priority; customer must exist
  Result<Case> GetCase(int64_t id) const;
  Result<Case> UpdateCase(int64_t id, const CasePatch& patch);
  // Newest first; next_cursor continues.
  Result<customer::Page<Case>> ListCases(const CaseQuery& q) const;
  // Open cases (kind case, status open or in_progress) of a customer, of any
  // team or of one; from memory, O(1). For the contact policy's openCases fact.
  int64_t OpenCases(customer::CustomerId id) const;
  int64_t OpenCases(customer::CustomerId id, std::string_view team) const;

  // Alerts: open ones (not acknowledged) or all, newest first.
  Result<customer::Page<Alert>> ListAlerts(customer::CustomerId customer_id, bool open_only, int64_t after_id,
                                           int limit) const;
  Result<Alert> AcknowledgeAlert(int64_t id, std::string_view by);

  // Webhooks: attempts every due delivery once (the background thread calls
  // this); returns how many were attempted.
  int DeliverDue();
  // A trigger's messages, newest first, each with its last 10 attempts.
  Result<customer::Page<Delivery>> Deliveries(int64_t trigger_id, int64_t after_id, int limit) const;

  struct Stats {
    int64_t events = 0;     // events processed (from the feed: only those some trigger listens to)
    int64_t matched = 0;    // (trigger, event) pairs whose event filter and condition held
    int64_t fired = 0;      // firings recorded (a repeat of a recorded one is not)
    int64_t failed = 0;     // firings whose action failed
    int64_t dropped = 0;    // feed events the full queue had no room for (tracked ones are replayed)
    int64_t replayed = 0;   // tracked events read back from the tracker (catching up)
    int64_t mark = 0;       // the high-water mark: every tracked event up to this seq is evaluated
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit TriggerEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::decision
