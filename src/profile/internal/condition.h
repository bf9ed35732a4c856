#pragma once
// A segment condition compiled against the profile columns. Comparisons,
// and/or/not, between and `in` over one column and constants become
// vectorized scans over the dense arrays, 64 rows per word, in blocks of
// 2048 rows; anything else (arithmetic over columns, function calls over
// columns) is evaluated per row by the FEEL engine. FEEL's three-valued logic
// is kept exactly: each node yields a "true" and a "false" bit per row, and
// a row in neither is null. Immutable once compiled; evaluation reads the
// table under the store's lock.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "feel/feel.h"
#include "profile/internal/table.h"

namespace rapport::profile::internal {

struct CondNode;

class CompiledCondition {
 public:
  // Errors are kInvalidArgument, field "/condition", message
  // "position N: ..." with N the 0-based byte offset into text.
  // Constants in the text are evaluated under limits (a limit reached is its
  // LimitStatus, field "/condition").
  static Result<std::shared_ptr<const CompiledCondition>> Compile(std::string_view text, const Table& table,
                                                                  Timestamp as_of,
                                                                  const feel::EvalLimits& limits = {});
  ~CompiledCondition();

  // Rows where the condition is true, as bits (bit r%64 of word r/64), over
  // the whole table, within limits: steps and bytes count per block of 2048
  // rows (and FEEL's per row), the deadline and cancellation per scan. Over
  // a limit: its feel::LimitStatus, field "/condition".
  Result<std::vector<uint64_t>> Scan(const Table& table, const feel::EvalLimits& limits) const;
  // The same within the default limits, for stored segments: rows past a
  // limit are not members.
  std::vector<uint64_t> Scan(const Table& table) const;
  // The condition for one row: true only when FEEL says true (false past a
  // default limit).
  bool Matches(const Table& table, uint32_t row) const;
  const std::string& text() const { return text_; }
  // How many nodes fell back to per-row FEEL evaluation (0: fully vectorized).
  int feel_nodes() const { return feel_nodes_; }
  // The columns evaluation reads (table indexes, ascending, each once): the
  // exact set access checks need, whatever part became a scan or FEEL.
  std::vector<int> Columns() const;

  CompiledCondition(std::string text, std::unique_ptr<CondNode> root, int feel_nodes, Timestamp as_of);

 private:
  std::string text_;
  std::unique_ptr<CondNode> root_;
  int feel_nodes_;
  ManualClock clock_;
};

}  // namespace rapport::profile::internal
