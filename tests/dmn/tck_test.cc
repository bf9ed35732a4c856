// Runs the DMN TCK test cases in ../shared/dmn-tck: all of compliance level 2
// must pass, and level 3 must not drop below what has been reached.

#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>

#include "dmn/tck.h"

namespace rapport::dmn {
namespace {

// Raised as the engine improves; never lowered.
constexpr double kLevel3Floor = 0.99;

TEST(TckTest, ComplianceLevels) {
  auto report = RunTck(RAPPORT_SHARED_DIR "/dmn-tck");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& c : report->cases) {
    if (c.outcome == TckOutcome::kError) std::cout << "FAIL " << c.folder << " " << c.test_id << ": " << c.message << "\n";
  }
  for (int level : {2, 3}) {
    std::printf("TCK compliance level %d: %d/%d passed (%.1f%%)\n", level, report->Count(level, true),
                report->Count(level, true) + report->Count(level, false), 100.0 * report->PassRate(level));
  }
  EXPECT_GT(report->Count(2, true), 100);
  EXPECT_EQ(report->Count(2, false), 0);
  EXPECT_GE(report->PassRate(3), kLevel3Floor);
}

}  // namespace
}  // namespace rapport::dmn
