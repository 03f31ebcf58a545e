#include "tools/version_command.h"

#include <iostream>

#include "tools/build_info.h"

namespace seghub::tools {

void AddVersionCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("version", "Print the version and build configuration");
  cmd->callback([] {
    std::cout << "seghub " << Version() << "\n"
              << "build type: " << BuildType() << "\n"
              << "torch backend: " << (TorchBackendCompiledIn() ? "yes" : "no") << "\n";
  });
}

}  // namespace seghub::tools
