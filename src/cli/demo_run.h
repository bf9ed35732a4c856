#pragma once
// Shared by `rapport demo generate --data` and `rapport demo`.

#include <string>

#include "common/status.h"
#include "demo/demo.h"

namespace rapport::cli {

// Generates the demo company into dir's store, drawing progress on a terminal.
Result<demo::DemoStats> GenerateDemoStore(const std::string& dir, const demo::DemoOptions& options);
void PrintDemoStats(const demo::DemoStats& s);

}  // namespace rapport::cli
