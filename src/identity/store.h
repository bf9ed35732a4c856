#pragma once
// Identity decisions over the customer store. A merge never rewrites a
// customer: it is a recorded link from the absorbed customer to the survivor,
// so every source customer keeps its attributes, identifiers and history, and
// undoing a merge removes exactly that link. Every decision (merge, undo,
// review queued, rejected) is audited with its evidence. On top: the review
// queue of pairs awaiting a data steward, the golden record by survivorship,
// real-time matching of customers as they are written, and household
// proposals. IdentityStore is thread-safe (each call borrows its own
// connection), except BuildIndex, which must not run concurrently with Match.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"
#include "identity/identity.h"

namespace rapport::identity {

using customer::CustomerId;

struct Merge {
  int64_t id = 0;
  CustomerId survivor = 0;  // the golden customer the other joined
  CustomerId merged = 0;    // the customer (itself golden at the time) that joined it
  std::string actor;        // who decided: a user, or "identity.auto"
  std::string reason;       // "steward", "auto", "review"
  std::optional<double> probability;  // the model's, when it proposed the pair
  std::string evidence_json = "{}";   // comparisons and weights, or the steward's note
  std::optional<int64_t> review_id;   // the review item it settled
  Timestamp created_at;
  std::optional<Timestamp> undone_at;
  std::string undone_by;
};

struct MergeRequest {
  std::string actor;
  std::string reason = "steward";
  std::optional<double> probability;
  std::string evidence_json = "{}";  // a JSON object
  std::optional<int64_t> review_id;
};

enum class ReviewStatus { kOpen, kMerged, kRejected };
std::string_view ReviewStatusName(ReviewStatus s);  // "open", "merged", "rejected"

// A pair the model was unsure about, awaiting a steward.
struct ReviewItem {
  int64_t id = 0;
  CustomerId left = 0, right = 0;  // left < right
  double weight = 0, probability = 0;
  std::string evidence_json = "{}";
  ReviewStatus status = ReviewStatus::kOpen;
  Timestamp created_at;
  std::optional<Timestamp> decided_at;
  std::string decided_by;
  std::optional<int64_t> merge_id;
};

// One line of the audit trail.
struct AuditEntry {
  int64_t id = 0;
  Timestamp at;
  std::string actor;
  std::string action;  // "merge", "undo", "review.queued", "review.rejected"
  std::optional<int64_t> merge_id, review_id;
  CustomerId left = 0, right = 0;
  std::string detail_json = "{}";
};

// The customer as all its merged source customers together say it is.
struct GoldenRecord {
  CustomerId id = 0;                // the golden customer
  std::vector<CustomerId> members;  // itself first, then the merged ones
  std::map<std::string, std::string> attributes;  // surviving value per attribute (text form)
  std::map<std::string, CustomerId> attribute_from;  // which member each value came from
  std::vector<customer::Identifier> identifiers;     // all members' identifiers
};

// Persons at one normalized address with matching surnames.
struct HouseholdProposal {
  std::string address;  // the normalized address they share
  std::string surname;  // normalized
  std::vector<CustomerId> members;
};

struct HouseholdRule {
  std::vector<std::string> address_attributes = {"street", "postcode", "city"};
  std::string surname_attribute = "lastName";
  // Surnames match when equal after name normalization, or when their
  // Jaro-Winkler similarity is at least this (1 = exact only).
  double surname_similarity = 1.0;
  int min_members = 2;
};

// What real-time matching did with one customer.
struct MatchOutcome {
  enum class Action { kNone, kMerged, kQueued } action = Action::kNone;
  CustomerId golden = 0;       // the customer's golden id afterwards
  std::optional<MatchIndex::Match> best;
  std::optional<int64_t> merge_id, review_id;
};

// Renders evidence as JSON: {"weight": w, "probability": p, "comparisons":
// [{"name", "level", "weight"}...]}.
std::string EvidenceJson(const ModelConfig& config, const std::vector<Evidence>& evidence, double weight,
                         double probability);

class IdentityStore {
 public:
  // Applies the identity module's migrations. customers must outlive the store.
  static Result<std::unique_ptr<IdentityStore>> Open(customer::CustomerStore* customers);
  ~IdentityStore();

  // The golden customer id belongs to now (id itself unless merged away).
  Result<CustomerId> Resolve(CustomerId id);
  // The golden customer and every customer merged into it, transitively,
  // the golden one first, the rest by id.
  Result<std::vector<CustomerId>> Members(CustomerId id);

  // Merges other's golden customer into survivor's golden customer.
  // NotFound when either customer does not exist; Conflict when they are
  // already one customer; InvalidArgument for evidence that is not a JSON object.
  Result<Merge> MergeCustomers(CustomerId survivor, CustomerId other, const MergeRequest& request);
  // Undoes one merge: the merged customer (and whatever was merged into it)
  // is separate again, exactly as before. NotFound, or Conflict when already undone.
  Result<Merge> Undo(int64_t merge_id, const std::string& actor);
  Result<Merge> GetMerge(int64_t merge_id);
  // Every merge that touched the customer's golden cluster, newest first.
  Result<std::vector<Merge>> MergesOf(CustomerId id);

  // Queues a pair for review (once per pair while open; Conflict otherwise).
  Result<ReviewItem> QueueReview(CustomerId a, CustomerId b, double weight, double probability,
                                 const std::string& evidence_json);
  // Open items, highest probability first; cursor is the last item's id as text.
  Result<customer::Page<ReviewItem>> ListReview(const std::string& cursor, int limit);
  Result<ReviewItem> GetReview(int64_t id);
  Result<Merge> AcceptReview(int64_t id, const std::string& actor);
  Result<ReviewItem> RejectReview(int64_t id, const std::string& actor);

  Result<std::vector<AuditEntry>> Audit(CustomerId id);

  // The golden record of id's cluster: per attribute, the surviving value
  // under rules (none given: the loaded model's survivorship rules;
  // attributes without a rule: most recent).
  Result<GoldenRecord> Golden(CustomerId id, const std::vector<SurvivorshipRule>& rules = {});

  // Real time: indexes every person in the customer store under a trained
  // model whose columns are attribute names ("firstName", "email", ...).
  Status BuildIndex(ModelConfig config, Parameters params);
  // Trains the model on the persons in the customer store (no labels), then
  // indexes them. Unprocessable when there are too few to train on.
  Result<Parameters> TrainAndIndex(ModelConfig config);
  bool has_index() const;
  // The model configuration (JSON) the server trains and indexes with at
  // start, so real-time matching survives a restart.
  Status SaveModel(std::string_view config_json);
  Result<std::optional<std::string>> SavedModel();
  // Matches a customer just written against the index (then adds it): at or
  // above the auto-merge threshold it is merged into the older customer's
  // cluster, at or above the review threshold the pair is queued.
  Result<MatchOutcome> Match(CustomerId id);

  // Households to propose: persons sharing a normalized address and a
  // matching surname who are not yet members of a household together.
  Result<std::vector<HouseholdProposal>> ProposeHouseholds(const HouseholdRule& rule);

 private:
  struct Impl;
  explicit IdentityStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::identity
