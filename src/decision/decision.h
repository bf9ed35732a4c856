#pragma once
// Real-time decisioning, part 1: the rules repository (DMN models with
// versions, a four-eyes lifecycle, diffs, atomic publish and rollback), the
// actions catalog, decision points, contact policies, and next best action
// (POST /v1/decide): a published model names candidate actions, conditions
// and contact policies filter them, arbitration ranks them, responses feed
// the learning. DecisionEngine is thread-safe: decisions read an immutable
// snapshot swapped atomically on every change, so a publish never tears a
// decision and needs no restart.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"
#include "dmn/dmn.h"
#include "feel/feel.h"
#include "storage/storage.h"

namespace rapport::profile {
class ProfileStore;
}

namespace rapport::decision {

using customer::CustomerId;

// Who asks: the API key prefix (recorded in the audit trail) and whether the
// key is an admin's (admins may approve their own versions).
struct Actor {
  std::string key;
  bool admin = false;
};

// ---- rules repository ------------------------------------------------------

// draft -> in_review -> approved -> published; reject sends a version in
// review back to draft. Publishing another version (or rolling back) makes
// the live one superseded; a superseded version can be rolled back to.
enum class VersionState { kDraft, kInReview, kApproved, kPublished, kSuperseded };
std::string_view VersionStateName(VersionState s);  // "draft", "in_review", ...

// One step of a version's life: "uploaded", "submitted", "approved",
// "rejected", "published", "superseded", "rolled_back".
struct AuditEntry {
  std::string action;
  std::string actor;
  Timestamp at{};
  std::string comment;
};

struct ModelVersion {
  std::string name;  // the DMN definitions' name
  int version = 0;   // 1, 2, ... per name
  std::string xml;
  std::string author;
  VersionState state = VersionState::kDraft;
  Timestamp created_at{};
  std::vector<AuditEntry> audit;  // oldest first
};

struct ModelSummary {
  std::string name;
  int latest_version = 0;
  std::optional<int> published_version;
  Timestamp updated_at{};
};

// One rule of one decision table that differs between two versions. Rules
// are matched by their id, or by position when they have none.
struct RuleChange {
  enum class Kind { kAdded, kRemoved, kChanged };
  Kind kind = Kind::kChanged;
  std::string decision;  // the decision holding the table
  std::string rule_id;   // "" when the rule has no id
  int from_rule = 0;     // 1-based position in the older version (0: added)
  int to_rule = 0;       // 1-based position in the newer version (0: removed)
  std::vector<std::string> before;  // input entries then output entries
  std::vector<std::string> after;
};
std::string_view RuleChangeKindName(RuleChange::Kind k);  // "added", "removed", "changed"

struct ModelDiff {
  std::string name;
  int from_version = 0;
  int to_version = 0;
  std::vector<RuleChange> rules;
  // Line diff of the XML outside what the rule changes say: "- line",
  // "+ line" entries with "@@ line N" headers; empty when identical.
  std::vector<std::string> text;
};

// ---- actions catalog ---------------------------------------------------------

enum class ActionKind { kOffer, kMessage, kContent, kService };
std::string_view ActionKindName(ActionKind k);  // "offer", "message", "content", "service"

// One of an action's conditions: a FEEL boolean (`feel`), or a decision of a
// published DMN model (`model` + `decision`, JSON {"model": ..., "decision":
// ...}). Both see the same names: the profile columns, the request context
// (each key, and `context` as a whole), `channel`, `decisionPoint`, `now`,
// and registered facts; a decision's input data are filled from them by
// name. A decision is evaluated on the model's live published version (the
// decision's snapshot, so a publish or rollback switches it atomically). The
// condition holds only when the value is true: null, false or anything else
// removes the action. Empty (neither form) always holds.
struct Condition {
  std::string feel;
  std::string model;
  std::string decision;
  bool empty() const { return feel.empty() && model.empty(); }
  bool by_decision() const { return !model.empty(); }
  bool operator==(const Condition&) const = default;
};

// Something a channel can do for a customer, kept when its conditions hold.
struct Action {
  std::string id;  // [A-Za-z0-9_.-]{1,100}
  ActionKind kind = ActionKind::kOffer;
  std::string name;
  std::vector<std::string> channels;  // empty: every channel
  // What the contact is for ("marketing", "service", ...): consent and
  // contact policies select actions by purpose.
  std::string purpose = "marketing";
  double value = 1;           // what a success is worth
  double cost = 0;            // what one contact costs; arbitration uses value - cost
  double business_lever = 1;  // weight the business puts on it
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> valid_to;  // exclusive
  Condition eligibility;    // may the customer have it at all
  Condition applicability;  // does it make sense in this situation
  Condition suitability;    // is it good for the customer
  Timestamp updated_at{};
};

// A channel's question: which model and decision answer it, on which
// channels. Arbitration weights are exponents: priority = propensity^p x
// (value - cost)^v x lever^l x contextWeight^c; 0 leaves a factor out.
struct DecisionPoint {
  std::string name;
  std::string model;
  std::string decision;
  std::vector<std::string> channels;  // empty: any channel
  double propensity_weight = 1, value_weight = 1, lever_weight = 1, context_weight = 1;
  bool show_in_360 = false;  // the 360 view's nextBestActions uses the first such point
  Timestamp updated_at{};
};

// ---- contact policy ----------------------------------------------------------

enum class PolicyKind { kConsent, kFrequencyCap, kQuietHours, kSuppression, kControlGroup };
std::string_view PolicyKindName(PolicyKind k);  // "consent", "frequencyCap", ...

// A rule that removes actions in the decision path. `channels` and
// `purposes` select the actions it applies to (empty: all); for frequency
// caps they also select which past contacts count.
struct ContactPolicy {
  std::string name;
  PolicyKind kind = PolicyKind::kConsent;
  std::string description;
  bool enabled = true;
  std::vector<std::string> channels;
  std::vector<std::string> purposes;
  std::vector<std::string> decision_points;  // empty: every decision point
  // kConsent: the customer's consent for (channel, purpose) must be
  // granted; without any record `granted_by_default` decides.
  bool granted_by_default = false;
  // kFrequencyCap: at most max_contacts contacts within the rolling window,
  // counted per customer or per household, over all selected channels or
  // per channel.
  enum class Scope { kCustomer, kHousehold };
  Scope scope = Scope::kCustomer;
  bool per_channel = false;
  int max_contacts = 0;
  int64_t window_micros = 0;
  // kQuietHours: no contact between start and end (minutes after local
  // midnight; end < start wraps over midnight) in the customer's time zone.
  int start_minute = 0;
  int end_minute = 0;
  // The zone of customers whose profile and request name none; "" = the
  // engine's default (EngineOptions::default_time_zone).
  std::string default_time_zone;
  // kSuppression: removes the selected actions when this FEEL condition
  // holds (e.g. "complaints30d > 0 or openCases > 0").
  std::string condition;
  // kControlGroup: this percentage of customers (a stable hash of customer
  // and decision point) gets none of the selected actions.
  double percent = 0;
  Timestamp updated_at{};
};

// JSON bodies of the catalog routes. Errors are InvalidArgument with the
// JSON pointer of the member; FEEL errors name the member and the position
// ("/eligibility", "position 7: ...").
Result<Action> ParseAction(std::string_view json, std::string_view id);
Result<DecisionPoint> ParseDecisionPoint(std::string_view json, std::string_view name);
Result<ContactPolicy> ParseContactPolicy(std::string_view json, std::string_view name);
std::string ToJson(const Action& a);
std::string ToJson(const DecisionPoint& p);
std::string ToJson(const ContactPolicy& p);

// ---- deciding ----------------------------------------------------------------

struct DecideRequest {
  CustomerId customer_id = 0;
  std::string channel;
  std::string decision_point;
  feel::Value context;  // a FEEL context or null
  int limit = 3;        // 1..50
  bool explain = false;
  // false: no decision log entry and no contact (the 360 view's preview).
  bool record = true;
  // Raised when the client has gone away or the server is stopping: the
  // decision stops and answers 503 (the listener's Request::cancelled).
  const std::atomic<bool>* cancelled = nullptr;
};

struct ScoredAction {
  std::string action_id;
  std::string name;
  ActionKind kind = ActionKind::kOffer;
  std::string purpose;
  double score = 0;
  double propensity = 0;
  double value = 0;  // value - cost
  double lever = 1;
  double context_weight = 1;
};

// Why an action did not make it: stage "catalog", "channel", "validity",
// "eligibility", "applicability", "suitability", "consent",
// "frequencyCap", "quietHours", "suppression", "controlGroup", "limit";
// `by` names the policy or condition.
struct Removal {
  std::string action_id;
  std::string stage;
  std::string by;
  std::string reason;
};

struct DecideExplanation {
  std::string model;
  int model_version = 0;
  std::string decision;
  std::vector<std::pair<std::string, feel::Value>> inputs;  // the model inputs used
  dmn::Explanation rules;                                   // tables and matched rules
  std::vector<std::string> candidates;                      // action ids the model named, in order
  std::vector<ScoredAction> scored;                         // every action that passed, ranked
  std::vector<Removal> removed;
  std::vector<std::string> messages;                        // evaluation warnings
};

struct DecideResult {
  std::string decision_id;  // "dec_..."; empty when not recorded
  CustomerId customer_id = 0;
  std::string decision_point;
  std::string channel;
  std::string model;
  int model_version = 0;
  Timestamp at{};
  bool control_group = false;
  std::vector<ScoredAction> actions;  // best first, at most limit
  std::optional<DecideExplanation> explanation;
};

enum class Outcome { kAccepted, kIgnored, kRejected };
std::string_view OutcomeName(Outcome o);  // "accepted", "ignored", "rejected"
Result<Outcome> ParseOutcome(std::string_view s);

struct ResponseRecord {
  int64_t id = 0;
  std::string decision_id;
  std::string action_id;
  Outcome outcome = Outcome::kAccepted;
  CustomerId customer_id = 0;
  std::string decision_point;
  std::string channel;
  Timestamp at{};
};

// A decision log entry.
struct LoggedDecision {
  std::string decision_id;
  CustomerId customer_id = 0;
  std::string decision_point;
  std::string channel;
  std::string model;
  int model_version = 0;
  std::vector<std::string> actions;  // offered, best first
  Timestamp at{};
};

// Beta-Bernoulli propensity of an action (and per decision point).
struct Propensity {
  double estimate = 0;
  int64_t accepted = 0;
  int64_t responses = 0;
};

struct EngineOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock
  // Time zone for quiet hours when the profile has no timeZone column value.
  std::string default_time_zone = "UTC";
  // Channels whose decisions are deliveries: a decision on one of them
  // counts as a contact for every action it offers (at decide time). On
  // other channels an action counts as a contact when a response to it is
  // recorded.
  std::vector<std::string> outbound_channels = {"email", "sms", "push", "post", "phone_outbound"};
  // Beta(alpha, beta) prior of every action's acceptance rate.
  double prior_accepted = 1;
  double prior_rejected = 9;
  // The action x decision point estimate replaces the action's own once it
  // has this many responses.
  int64_t min_point_responses = 20;
  // Decision log group commit: entries are written by a background thread
  // at most this often, in one transaction.
  int64_t log_interval_micros = 20'000;
  // Decisions kept in memory to answer responses without a query.
  size_t remembered_decisions = 200'000;
  // The budget of one decision: its model, the actions' conditions and the
  // suppression policies each get these steps and bytes, and all of them
  // share one deadline `decide_time_limit` after the decision starts. Over a
  // limit, Decide answers the limit's Status naming /decisionPoint (422 for
  // steps and memory, 503 for time and cancellation).
  feel::EvalLimits limits;
  std::chrono::milliseconds decide_time_limit{1'000};
};

class DecisionEngine {
 public:
  // Applies the decision module's migrations, loads models, actions, points,
  // policies, learning counters, contact history and (when customers is
  // given) current consents. profile may be null: then model inputs and
  // conditions see only the request context and facts. db, profile and
  // customers must outlive the engine.
  static Result<std::unique_ptr<DecisionEngine>> Open(storage::Database* db, const profile::ProfileStore* profile,
                                                      customer::CustomerStore* customers, EngineOptions options = {});
  ~DecisionEngine();  // writes the decision log entries still queued
  DecisionEngine(const DecisionEngine&) = delete;
  DecisionEngine& operator=(const DecisionEngine&) = delete;

  // Rules repository --------------------------------------------------------
  // Stores a new version (1 for a new name) of the model named by the XML's
  // definitions, as a draft by actor. The XML must load (dmn strict):
  // Unprocessable naming the line otherwise.
  Result<ModelVersion> UploadModel(std::string_view xml, const Actor& actor);
  Result<std::vector<ModelSummary>> ListModels() const;
  Result<std::vector<ModelVersion>> Versions(std::string_view name) const;  // newest first, with audit
  Result<ModelVersion> GetVersion(std::string_view name, int version) const;
  Result<ModelDiff> Diff(std::string_view name, int version, int against) const;
  // Lifecycle steps; Conflict when the version is not in the state the step
  // needs. Approve refuses the author (four eyes) unless actor.admin.
  Result<ModelVersion> Submit(std::string_view name, int version, const Actor& actor, std::string comment = {});
  Result<ModelVersion> Approve(std::string_view name, int version, const Actor& actor, std::string comment = {});
  Result<ModelVersion> Reject(std::string_view name, int version, const Actor& actor, std::string comment = {});
  // Validates (the model loads; every decision point bound to the model, and
  // every action condition naming it, names one of its decisions; every action id its decision tables output is in
  // the catalog: Unprocessable listing them otherwise) and makes an approved
  // version the live one, atomically.
  Result<ModelVersion> Publish(std::string_view name, int version, const Actor& actor);
  // Makes an earlier published (now superseded) version live again,
  // validated like Publish.
  Result<ModelVersion> Rollback(std::string_view name, int version, const Actor& actor);

  // Actions, decision points, policies ----------------------------------------
  // Conditions are compiled here; a decision condition's model must have a
  // published version holding the decision (Unprocessable naming
  // /eligibility/model or /eligibility/decision, etc.).
  Result<Action> PutAction(Action action);
  Result<Action> GetAction(std::string_view id) const;
  std::vector<Action> ListActions() const;
  Status DeleteAction(std::string_view id);
  // The model must have a published version holding the decision.
  Result<DecisionPoint> PutDecisionPoint(DecisionPoint point);
  Result<DecisionPoint> GetDecisionPoint(std::string_view name) const;
  std::vector<DecisionPoint> ListDecisionPoints() const;
  Result<ContactPolicy> PutPolicy(ContactPolicy policy);
  Result<ContactPolicy> GetPolicy(std::string_view name) const;
  std::vector<ContactPolicy> ListPolicies() const;
  Status DeletePolicy(std::string_view name);

  // Facts: named values computed per customer (e.g. part 2's openCases),
  // visible by name in conditions, suppression policies and model inputs.
  // fn must be thread-safe. Registering a name again replaces it.
  void RegisterFact(std::string name, std::function<feel::Value(CustomerId)> fn);
  // Keeps the in-memory consents current (call after CustomerStore::SetConsent).
  void ConsentChanged(const customer::Consent& consent);

  // Deciding ------------------------------------------------------------------
  // NotFound for an unknown decision point (field /decisionPoint) or a
  // customer without a profile row (field /customerId); Unprocessable when
  // the channel is not one of the point's.
  Result<DecideResult> Decide(const DecideRequest& request) const;
  // Durable before it returns. NotFound for an unknown decision (field
  // /decisionId); Unprocessable when the action was not offered by it.
  Result<ResponseRecord> RecordResponse(std::string_view decision_id, std::string_view action_id, Outcome outcome);
  Result<Propensity> PropensityOf(std::string_view action_id, std::string_view decision_point = {}) const;
  // Blocks until every decision made before the call is in the log table.
  Status FlushLog() const;
  Result<std::vector<LoggedDecision>> RecentDecisions(CustomerId customer, int limit) const;
  Result<LoggedDecision> FindDecision(std::string_view decision_id) const;

  struct Impl;

 private:
  explicit DecisionEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Adds the 360 view's "nextBestActions" (a decision at the first decision
// point with showIn360, as a preview: no log entry, no contact) and
// "recentDecisions" (the last 10 logged) sections. Sections are left out
// once the engine is gone.
void RegisterViewSections(customer::CustomerStore& store, std::weak_ptr<const DecisionEngine> engine);

// JSON of results, shared by the server and the CLI.
std::string ToJson(const ModelVersion& v, bool with_xml);
std::string ToJson(const ModelDiff& d);
std::string ToJson(const DecideResult& r);
std::string ToJson(const ResponseRecord& r);
std::string ToJson(const LoggedDecision& d);

// A JSON value as FEEL (request contexts, event properties): objects become
// contexts (a repeated key: the last wins, as in JavaScript), arrays lists,
// numbers decimals (integers exactly, others by their shortest text).
feel::Value FeelFromJson(const rapidjson::Value& v);

}  // namespace rapport::decision
