#pragma once
// Reading a DMN model's XML for the repository: the decision tables rule by
// rule (for diffs and for checking the action ids a table outputs), and a
// line diff for everything else. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rapport::decision::internal {

struct TableRule {
  std::string id;
  std::vector<std::string> inputs;   // input entry texts
  std::vector<std::string> outputs;  // output entry texts
};

struct DecisionTable {
  std::string decision;  // the name of the decision holding it ("" for a BKM's)
  std::string id;
  std::vector<std::string> output_names;
  std::vector<TableRule> rules;
};

// The decision tables of a DMN XML text, in document order. InvalidArgument
// when the text is not well-formed XML (with the byte offset).
Result<std::vector<DecisionTable>> ReadDecisionTables(std::string_view xml);

// The string literal of an output entry ("\"gold-card\"" -> gold-card), or
// "" when the entry is not a plain string literal.
std::string StringLiteral(std::string_view text);

// A line diff of a and b (longest common subsequence): "@@ line N" headers
// then "- old" / "+ new" lines. At most max_lines lines of each side are
// compared; the rest is summarized in one line.
std::vector<std::string> LineDiff(std::string_view a, std::string_view b, size_t max_lines = 4000);

}  // namespace rapport::decision::internal
