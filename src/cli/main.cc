// rapport: the command line of the Rapport customer platform.
#include <cstdio>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/version.h"
#include "common/process.h"

namespace rapport::cli {

int Fail(const Status& s) {
  std::fprintf(stderr, "rapport: %s\n", s.ToString().c_str());
  return kExitFailed;
}

ProgressBar::ProgressBar() : enabled_(::isatty(STDOUT_FILENO) == 1) {}

void ProgressBar::Update(double fraction, const std::string& text) {
  if (!enabled_) return;
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '-');
  std::printf("\r\033[K[%s] %3d%%  %s", bar.c_str(), static_cast<int>(fraction * 100), text.c_str());
  std::fflush(stdout);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!enabled_ || !drawn_) return;
  std::printf("\r\033[K");
  std::fflush(stdout);
  drawn_ = false;
}

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace rapport::cli

int main(int argc, char** argv) {
  using namespace rapport::cli;
  rapport::LogToStderr();
  rapport::InstallCrashTraces();
  CLI::App app{"Rapport: one customer platform for marketing, sales and service."};
  app.name("rapport");
  app.set_version_flag("--version", std::string(kVersionLine), "Print the version and the commit it was built from");
  app.require_subcommand(1);
  std::vector<Command> commands;
  CLI::App* version = app.add_subcommand("version", "Print the version and the commit it was built from");
  commands.push_back({version, [] {
                        std::printf("%s\n", kVersionLine);
                        return kExitOk;
                      }});
  AddImportCommand(app, &commands);
  CLI::App* demo = AddDemoCommands(app, &commands);
  AddServerCommands(app, demo, &commands);
  AddDmnCommands(app, &commands);
  AddSegmentCommands(app, &commands);
  AddAnalyticsCommands(app, &commands);
  AddSourceCommands(app, &commands);
  AddIdentityCommands(app, &commands);
  AddDecisionCommands(app, &commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  for (const Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  std::fprintf(stderr, "rapport: no command given; see rapport --help\n");
  return kExitUsage;
}
