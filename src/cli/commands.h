#pragma once
// The `rapport` command line: each file adds its commands to the CLI11 app
// and returns what to run once the arguments are parsed.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace rapport::cli {

// Runs a parsed command; returns the process exit code.
using Action = std::function<int()>;

// A command and the action to run when it was chosen. Nested commands come
// before their parents, so the most specific parsed one wins.
struct Command {
  CLI::App* app;
  Action run;
};

void AddImportCommand(CLI::App& app, std::vector<Command>* out);
// `demo generate` (files); `demo` itself (generate into a store and serve) is
// added by AddServerCommands when the server is built.
CLI::App* AddDemoCommands(CLI::App& app, std::vector<Command>* out);
void AddServerCommands(CLI::App& app, CLI::App* demo, std::vector<Command>* out);
void AddDmnCommands(CLI::App& app, std::vector<Command>* out);
void AddSegmentCommands(CLI::App& app, std::vector<Command>* out);  // segment ..., analytics query
// analytics clv ... (analytics_commands.cc); after AddSegmentCommands, which adds `analytics`.
void AddAnalyticsCommands(CLI::App& app, std::vector<Command>* out);
void AddSourceCommands(CLI::App& app, std::vector<Command>* out);  // source_commands.cc
void AddIdentityCommands(CLI::App& app, std::vector<Command>* out);
void AddDecisionCommands(CLI::App& app, std::vector<Command>* out);  // decision_commands.cc

// Exit codes: 0 done, 1 failed, 2 usage error, 3 done but some rows rejected.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRejected = 3;

// Prints "rapport: <status>" to stderr and returns kExitFailed.
int Fail(const Status& s);

// A one-line progress bar redrawn in place; silent unless stdout is a terminal.
class ProgressBar {
 public:
  ProgressBar();
  // fraction in [0, 1]; text follows the bar ("12,345 rows  51,000 rows/s").
  void Update(double fraction, const std::string& text);
  // Clears the line (before printing the summary).
  void Finish();
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool drawn_ = false;
};

// "1234567" -> "1,234,567".
std::string Thousands(int64_t n);

}  // namespace rapport::cli
