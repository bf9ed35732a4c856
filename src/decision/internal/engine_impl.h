#pragma once
// The state behind DecisionEngine, shared by its source files: the
// immutable snapshot decisions read (swapped whole on every change), the
// learning counters, contact history, consents, the remembered decisions,
// and the decision log's group-commit writer.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "decision/decision.h"
#include "profile/profile.h"

namespace rapport::decision {

using FactFn = std::function<feel::Value(CustomerId)>;

struct CompiledAction {
  Action action;
  std::optional<feel::Expression> eligibility, applicability, suitability;
};

struct CompiledPolicy {
  ContactPolicy policy;
  std::optional<feel::Expression> condition;
};

// What one decision reads from the profile row: model inputs first, then
// the columns conditions and policies name, then the time zone.
struct ReadPlan {
  std::vector<int> columns;                // profile column indexes for ReadRow
  std::vector<int> input_slot;             // per model input: index into columns, or -1
  std::vector<int> input_fact;             // per model input: index into Snapshot::facts, or -1
  std::vector<std::pair<std::string, int>> scope_columns;  // name -> index into columns
  int time_zone_slot = -1;
};

struct LiveModel {
  std::string name;
  int version = 0;
  std::shared_ptr<const dmn::Model> model;
  std::vector<std::string> inputs;  // input data names
  ReadPlan plan;
};

struct Snapshot {
  std::unordered_map<std::string, std::shared_ptr<const LiveModel>> models;  // live version by name
  std::unordered_map<std::string, std::shared_ptr<const CompiledAction>> actions;
  std::map<std::string, DecisionPoint> points;
  std::vector<std::shared_ptr<const CompiledPolicy>> policies;  // by name
  std::vector<std::pair<std::string, FactFn>> facts;
  std::vector<int> scope_facts;  // facts named in some condition or policy
};

struct Contact {
  int64_t at;
  std::string channel;
  std::string purpose;
};

struct Counter {
  int64_t accepted = 0;
  int64_t responses = 0;
};

struct Memo {
  LoggedDecision decision;
};

struct DecisionEngine::Impl {
  storage::Database* db = nullptr;
  const profile::ProfileStore* profile = nullptr;
  customer::CustomerStore* customers = nullptr;
  EngineOptions options;
  const Clock* clock = nullptr;

  // Changes (repository steps, catalog edits) run one at a time.
  std::mutex change_mu;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot;
  std::vector<std::pair<std::string, FactFn>> facts;  // guarded by change_mu

  // Learning: by action id, and by "action\npoint".
  mutable std::mutex learn_mu;
  std::unordered_map<std::string, Counter> by_action;        // guarded by learn_mu
  std::unordered_map<std::string, Counter> by_action_point;  // guarded by learn_mu

  // Contact history by customer and by household, oldest first. Vectors,
  // not deques: a deque's first block is 512 bytes even for one contact.
  mutable std::mutex contact_mu;
  mutable std::unordered_map<int64_t, std::vector<Contact>> contacts;            // guarded by contact_mu
  mutable std::unordered_map<int64_t, std::vector<Contact>> household_contacts;  // guarded by contact_mu

  // Current consent by customer: "channel\npurpose" -> granted.
  mutable std::shared_mutex consent_mu;
  std::unordered_map<int64_t, std::unordered_map<std::string, bool>> consents;  // guarded by consent_mu

  // Decisions remembered for responses, oldest first in memo_order.
  mutable std::mutex memo_mu;
  mutable std::unordered_map<std::string, std::shared_ptr<const LoggedDecision>> memo;  // guarded by memo_mu
  mutable std::deque<std::string> memo_order;                                          // guarded by memo_mu

  // Decision log writer.
  mutable std::mutex log_mu;
  mutable std::condition_variable log_cv;
  mutable std::condition_variable log_done_cv;
  mutable std::vector<std::shared_ptr<const LoggedDecision>> log_queue;  // guarded by log_mu
  mutable int64_t log_enqueued = 0;  // guarded by log_mu
  mutable int64_t log_written = 0;   // guarded by log_mu
  mutable Status log_error;          // guarded by log_mu: the last failed write
  bool log_stopping = false;         // guarded by log_mu
  std::thread log_thread;

  uint32_t id_prefix = 0;
  mutable std::atomic<uint64_t> id_counter{0};

  std::shared_ptr<const Snapshot> Load() const { return snapshot.load(std::memory_order_acquire); }
  // Rebuilds the snapshot from the database (live models, catalog, points,
  // policies) plus the registered facts. Caller holds change_mu.
  Status Rebuild();
  // The snapshot for a catalog/points/policies change with one model
  // replaced (or none): compiles and plans. Caller holds change_mu.
  Result<std::shared_ptr<const Snapshot>> Assemble(
      std::unordered_map<std::string, std::shared_ptr<const LiveModel>> models,
      std::unordered_map<std::string, std::shared_ptr<const CompiledAction>> actions,
      std::map<std::string, DecisionPoint> points, std::vector<std::shared_ptr<const CompiledPolicy>> policies) const;
  Result<std::shared_ptr<LiveModel>> CompileModel(const std::string& name, int version, const std::string& xml) const;

  // Checks a model version against the points bound to it and the catalog.
  Status Validate(const LiveModel& model, const std::string& xml, const Snapshot& snap) const;

  void Remember(std::shared_ptr<const LoggedDecision> d) const;
  void AddContact(CustomerId customer, Contact c) const;
  void RunLogWriter();
  std::string NewDecisionId() const;
  Status LoadState();

  Result<ModelVersion> ReadVersion(storage::Connection& c, std::string_view name, int version) const;
  Result<ModelVersion> Step(std::string_view name, int version, const Actor& actor, const std::string& comment,
                            std::string_view action);
};

Result<std::shared_ptr<const CompiledAction>> CompileAction(Action a);
Result<std::shared_ptr<const CompiledPolicy>> CompilePolicy(ContactPolicy p);

}  // namespace rapport::decision
