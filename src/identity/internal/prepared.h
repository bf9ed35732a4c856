#pragma once
// Private: records normalized for one model configuration, held column by
// column in flat arenas (one string buffer and offsets per column), and the
// code that walks candidate pairs and scores them.

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "identity/identity.h"

namespace rapport::identity {

// Strings of one column back to back; cheap to append to and to scan.
class StringColumn {
 public:
  void Push(std::string_view v) {
    arena_.append(v);
    offsets_.push_back(static_cast<uint64_t>(arena_.size()));
  }
  std::string_view operator[](size_t i) const {
    return std::string_view(arena_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  size_t size() const { return offsets_.size() - 1; }
  void AppendAll(const StringColumn& other) {
    const uint64_t base = arena_.size();
    arena_.append(other.arena_);
    for (size_t i = 1; i < other.offsets_.size(); ++i) offsets_.push_back(base + other.offsets_[i]);
  }
  void Reserve(size_t rows, size_t bytes) {
    offsets_.reserve(rows + 1);
    arena_.reserve(bytes);
  }

 private:
  std::string arena_;
  std::vector<uint64_t> offsets_{0};
};

inline constexpr int32_t kNoDate = std::numeric_limits<int32_t>::min();

struct PreparedComparison {
  StringColumn values;
  StringColumn soundex;          // when a level uses Soundex
  std::vector<int32_t> days;     // when a level compares dates; kNoDate if not a date
  std::vector<double> numbers;   // when a level compares numbers; NaN if not a number
};

// Where each configured column sits in the source layout.
struct Layout {
  std::vector<std::vector<int>> comparison;    // [comparison][column]
  std::vector<std::vector<int>> blocking;      // [rule][part]
  std::vector<int> deterministic;              // [rule]
};

Result<Layout> MakeLayout(const ModelConfig& config, const std::vector<std::string>& columns);

class PreparedRecords {
 public:
  PreparedRecords(const ModelConfig& config, Layout layout);

  // Normalizes one row (values in the layout's column order) and appends it.
  void Append(std::string id, const std::vector<std::string>& values);
  // Appends rows prepared under the same configuration (moved out of other).
  void AppendAll(PreparedRecords&& other);

  size_t size() const { return ids_.size(); }
  const std::string& id(size_t i) const { return ids_[i]; }
  const PreparedComparison& comparison(size_t c) const { return comparisons_[c]; }
  uint64_t block_key(size_t rule, size_t i) const { return block_keys_[rule][i]; }
  const StringColumn& deterministic(size_t rule) const { return deterministic_[rule]; }
  uint64_t deterministic_key(size_t rule, size_t i) const { return deterministic_keys_[rule][i]; }

 private:
  ModelConfig config_;
  Layout layout_;
  std::vector<std::string> ids_;
  std::vector<PreparedComparison> comparisons_;
  std::vector<std::vector<uint64_t>> block_keys_;  // 0: the row has no key under the rule
  std::vector<StringColumn> deterministic_;
  std::vector<std::vector<uint64_t>> deterministic_keys_;  // 0: empty
};

// Level of comparison c for the pair (i in a, j in b): 0 for null, else 1 + the
// index of the first level that holds.
int LevelOf(const Comparison& c, const PreparedComparison& a, size_t i, const PreparedComparison& b, size_t j);

// Weights of a trained model, ready for scoring.
class Scorer {
 public:
  Scorer(const ModelConfig& config, const Parameters& params);
  // Evidence weight of comparison c at level l for left value v.
  double Weight(size_t c, int level, std::string_view value) const;
  double prior_weight() const { return prior_weight_; }
  // Match weight and probability of the pair (i in a, j in b).
  double Score(const PreparedRecords& a, size_t i, const PreparedRecords& b, size_t j) const;
  static double Probability(double weight) { return 1.0 / (1.0 + std::exp2(-weight)); }

 private:
  const ModelConfig& config_;
  const Parameters& params_;
  std::vector<std::vector<double>> weights_;
  std::vector<int> tf_level_;  // level index of the term-frequency-adjusted exact level, or -1
  double prior_weight_ = 0;
};

// Calls fn(thread, i, j) for every pair sharing a key under blocking rule
// `rule` (blocks above max_block_size skipped), spread over threads. For
// deduplication (&a == &b) i < j; otherwise i indexes a and j indexes b.
void ForEachBlockedPair(const ModelConfig& config, const PreparedRecords& a, const PreparedRecords& b, size_t rule,
                        int threads, const std::function<void(int, size_t, size_t)>& fn);

// True when an earlier rule than `rule` already pairs i and j.
bool PairedByEarlierRule(const PreparedRecords& a, size_t i, const PreparedRecords& b, size_t j, size_t rule);

uint64_t HashKey(std::string_view s);

}  // namespace rapport::identity
