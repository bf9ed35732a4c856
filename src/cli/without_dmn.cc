// Built when the DMN module is not in the tree: no `rapport dmn` commands.
#include "cli/commands.h"

namespace rapport::cli {

void AddDmnCommands(CLI::App&, std::vector<Command>*) {}

}  // namespace rapport::cli
