// Built when the server module is not in the tree: serve, keys and demo
// (serving) are left out rather than faked; demo generate still works.
#include "cli/commands.h"

namespace rapport::cli {

void AddServerCommands(CLI::App&, CLI::App* demo, std::vector<Command>* out) {
  demo->require_subcommand(1);
}

}  // namespace rapport::cli
