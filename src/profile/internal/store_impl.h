#pragma once
// The state behind ProfileStore, shared by its source files.

#include <roaring/roaring.hh>

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "profile/internal/condition.h"
#include "profile/internal/table.h"
#include "profile/profile.h"

namespace rapport::profile {

namespace internal {
class Aggregation;  // store.cc: the aggregates' compiled definitions
}  // namespace internal

struct SegmentState {
  Segment meta;
  // A condition segment has a compiled condition; a combined one names its
  // two inputs (always older segments, so they are evaluated first).
  std::shared_ptr<const internal::CompiledCondition> condition;
  SetOperation op = SetOperation::kUnion;
  int64_t left = 0, right = 0;
  Roaring members;  // rows
};

struct ProfileStore::Impl {
  storage::Database* db = nullptr;  // nullptr: built by Builder, segments not persisted
  ProfileOptions options;
  mutable std::shared_mutex mu;
  std::mutex apply_mu;  // Apply calls run one at a time (their SQL reads hold no lock on mu)
  internal::Table table;                           // GUARDED_BY(mu)
  // The aggregate columns' definitions, FEEL filters compiled, made at Open
  // from options and the table's columns (neither changes afterwards).
  std::shared_ptr<const internal::Aggregation> aggregation;
  std::map<int64_t, SegmentState> segments;        // GUARDED_BY(mu), by id
  SegmentListener listener;                        // GUARDED_BY(mu)
  // member_of: the households/organizations a customer belongs to and back.
  std::unordered_map<int64_t, std::vector<int64_t>> groups_of;   // GUARDED_BY(mu)
  std::unordered_map<int64_t, std::vector<int64_t>> members_of;  // GUARDED_BY(mu)

  Result<std::shared_ptr<const internal::CompiledCondition>> CompileLocked(
      std::string_view text, const feel::EvalLimits& limits = {}) const {
    return internal::CompiledCondition::Compile(text, table, options.as_of, limits);
  }
  // The full membership of a segment from the current columns.
  Roaring Evaluate(const SegmentState& s) const;
  // Re-evaluates every segment for one row; changes go to the listener
  // (collected, reported after the lock is released).
  void Reevaluate(uint32_t row, std::vector<SegmentChange>* changes);
};

// Bits (bit r%64 of word r/64) to a bitmap of rows.
Roaring BitsToRoaring(const std::vector<uint64_t>& bits);

}  // namespace rapport::profile
