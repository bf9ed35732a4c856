#pragma once
// Shared by `rapport demo generate --data` and `rapport demo`: generating the
// demo company into a data directory, its rules, and its API key. The
// serving itself is server_commands.cc's.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "common/status.h"
#include "demo/demo.h"

namespace rapport::cli {

// Generates the demo company into dir's store, drawing progress on a
// terminal, prints the summary, then publishes its rules (InstallDemoRules).
Result<demo::DemoStats> GenerateDemoStore(const std::string& dir, const demo::DemoOptions& options);
void PrintDemoStats(const demo::DemoStats& s);

// The demo's model, actions, decision points and contact policies
// (demo::InstallDecisioning) in dir, unless a model "offers" is there.
Status InstallDemoRules(const std::string& dir);

// `rapport demo`'s options.
struct DemoArgs {
  std::string data = "./demo-data", listen = "127.0.0.1:8080";
  int64_t customers = 10000;
  uint64_t seed = 1;
  std::string end_date;  // YYYY-MM-DD, the last day of history is the day before; "" = today (UTC)
};
void AddDemoOptions(CLI::App* demo, DemoArgs* args);

// The demo's admin key lives in DIR/demo-key (mode 0600): the secret, so a
// second run prints the same key instead of adding another.
inline constexpr const char* kDemoKeyFile = "demo-key";
inline constexpr const char* kDemoKeyName = "demo";

// The demo's people: one user per role, admin@demo.rapport.example,
// marketing@..., sales@..., service@..., analyst@..., who share one random
// password kept in DIR/demo-password (mode 0600) and reused by the next run.
inline constexpr const char* kDemoPasswordFile = "demo-password";
inline constexpr const char* kDemoEmailDomain = "demo.rapport.example";

struct DemoReady {
  std::string key;       // the admin key to print
  std::string key_file;  // where it is kept
  bool key_reused = false;
  std::string password;       // the demo users' password, to print
  std::string password_file;  // where it is kept
};

// Generates the company into args.data when it holds none (via
// DIR.partial, renamed when complete), publishes its rules when absent, and
// reuses the key in DIR/demo-key while it is valid (an admin key named
// "demo", not revoked), else creates and stores a new one; then makes sure
// the demo users exist with the password in DIR/demo-password.
Result<DemoReady> PrepareDemo(const DemoArgs& args);

}  // namespace rapport::cli
