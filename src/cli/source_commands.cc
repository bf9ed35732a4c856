// rapport sources create NAME --data DIR: a source for the Segment tracking
// API and its write key, printed last so scripts can take the last line;
// rapport sources list --data DIR: every source and its write key.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "ingest/tracking.h"

namespace rapport::cli {
namespace {

struct SourceArgs {
  std::string name, data;
};

}  // namespace

void AddSourceCommands(CLI::App& app, std::vector<Command>* out) {
  CLI::App* sources = app.add_subcommand("sources", "Manage sources of the Segment-spec tracking API");
  sources->require_subcommand(1);
  auto args = std::make_shared<SourceArgs>();
  CLI::App* create = sources->add_subcommand(
      "create", "Create a source (a site, an app, a back end) and print its write key last");
  create->footer("Point a Segment SDK at the server with the write key, e.g. with @segment/analytics-node:\n"
                 "  new Analytics({ writeKey: KEY, host: 'http://127.0.0.1:8080' })\n"
                 "Example: rapport sources create web --data ./data");
  create->add_option("name", args->name, "Source name: a-z first, then a-z, 0-9, '_', '-', '.'")->required();
  create->add_option("--data", args->data, "Data directory")->required();
  out->push_back({create, [args] {
                    auto store = OpenDataDir(args->data, true);
                    if (!store.ok()) return Fail(store.status());
                    auto s = ingest::CreateSource(*store->db, args->name, SystemClock::Default()->Now());
                    if (!s.ok()) return Fail(s.status());
                    std::printf("created source %s; its write key (the HTTP Basic user name of tracking calls):\n",
                                s->name.c_str());
                    std::printf("%s\n", s->write_key.c_str());
                    return kExitOk;
                  }});

  auto list_data = std::make_shared<std::string>();
  CLI::App* list = sources->add_subcommand("list", "List the sources with their write keys");
  list->add_option("--data", *list_data, "Data directory")->required();
  out->push_back({list, [list_data] {
                    auto store = OpenDataDir(*list_data, true);
                    if (!store.ok()) return Fail(store.status());
                    auto all = ingest::ListSources(*store->db);
                    if (!all.ok()) return Fail(all.status());
                    std::printf("%-24s %-32s %s\n", "NAME", "WRITE KEY", "CREATED");
                    for (const auto& s : *all) {
                      std::printf("%-24s %-32s %s\n", s.name.c_str(), s.write_key.c_str(),
                                  FormatRfc3339(s.created_at).c_str());
                    }
                    return kExitOk;
                  }});
}

}  // namespace rapport::cli
