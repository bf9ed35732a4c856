#pragma once
// The DMN TCK (github.com/dmn-tck/tck) runner: reads the test-case files of
// every test folder under a directory (schema testCases.xsd), evaluates them
// against their model, compares results per the TCK rules and reports in
// the TCK's tck_results.csv format. Stateless functions; thread-safe.

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dmn/dmn.h"
#include "feel/feel.h"

namespace rapport::dmn {

// ---------------------------------------------------------------------------
// Test-case files.

struct TckResultNode {
  std::string name;
  std::string ns;
  bool error_result = false;       // errorResult="true": an error (or null) is expected
  bool has_expected = false;
  feel::Value expected;            // lists, contexts (components), nil = null
};

struct TckTestCase {
  std::string id;
  std::string description;
  enum class Kind : uint8_t { kDecision, kBkm, kDecisionService } kind = Kind::kDecision;
  std::string invocable_name;      // kBkm / kDecisionService
  std::vector<NamedInput> inputs;
  std::vector<TckResultNode> results;
};

struct TckTestFile {
  std::string model_name;          // file name of the model under test
  std::vector<TckTestCase> cases;
};

// Parses a test-case file. Values with xsi:type decimal/double become
// numbers, date/time/dateTime/duration FEEL temporal values, xsi:nil null.
Result<TckTestFile> ReadTckTestFile(std::string_view xml, std::string_view source);

// TCK comparison: numbers as decimals, temporal values by FEEL equality,
// lists item by item, contexts entry by entry.
bool TckValuesMatch(const feel::Value& expected, const feel::Value& actual);

// ---------------------------------------------------------------------------
// Running folders.

enum class TckOutcome : uint8_t { kSuccess, kError, kIgnored };

struct TckCaseResult {
  std::string folder;     // "compliance-level-2/0004-simpletable-U"
  std::string file_stem;  // "0004-simpletable-U-test-01"
  std::string test_id;
  TckOutcome outcome = TckOutcome::kError;
  std::string message;
  int level = 0;          // from "compliance-level-N" in the path, else 0
};

struct TckReport {
  std::vector<TckCaseResult> cases;
  int passed() const;
  int failed() const;
  // Passed / total of one compliance level (0..1; 1 when it has no cases).
  double PassRate(int level) const;
  int Count(int level, bool passed) const;
  // The rows of tck_results.csv.
  std::string ToCsv() const;
};

// Runs every folder under dir holding *-test-*.xml files (dir itself
// included). Fails only when dir cannot be read; a model that does not load
// makes its cases ERROR rows.
Result<TckReport> RunTck(const std::string& dir);

// `rapport dmn tck DIR [--csv OUT]`: runs the suite, prints failures, the
// pass rate per level, and ends with "N passed, M failed". Returns 0 when
// nothing failed, 1 when some case failed, 2 when DIR or OUT is unusable.
int RunTckCommand(const std::string& dir, const std::string& csv_path, std::ostream& out);

}  // namespace rapport::dmn
