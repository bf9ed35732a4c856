// rapport demo generate: the demo company as import files or into a store.
#include <cstdio>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "cli/demo_run.h"
#include "demo/demo.h"

namespace rapport::cli {

void PrintDemoStats(const demo::DemoStats& s) {
  std::printf(
      "generated %s customers (%s persons, %s households, %s organizations)\n"
      "  %s relationships, %s accounts, %s transactions, %s interactions, %s consents, %s back-dated changes\n"
      "  %.1f s (%s customers/s)\n",
      Thousands(s.customers).c_str(), Thousands(s.persons).c_str(), Thousands(s.households).c_str(),
      Thousands(s.organizations).c_str(), Thousands(s.relationships).c_str(), Thousands(s.accounts).c_str(),
      Thousands(s.transactions).c_str(), Thousands(s.interactions).c_str(), Thousands(s.consents).c_str(),
      Thousands(s.changes).c_str(), s.seconds, Thousands(static_cast<int64_t>(s.customers_per_second())).c_str());
}

Result<demo::DemoStats> GenerateDemoStore(const std::string& dir, const demo::DemoOptions& options) {
  RP_ASSIGN_OR_RETURN(auto store, OpenDataDir(dir, /*durable=*/false));
  ProgressBar bar;
  auto stats = demo::GenerateIntoStore(*store.customers, options, [&](const demo::DemoStats& s, int64_t total) {
    bar.Update(static_cast<double>(s.customers) / static_cast<double>(total),
               Thousands(s.customers) + " customers  " + Thousands(static_cast<int64_t>(s.customers_per_second())) +
                   " customers/s");
  });
  bar.Finish();
  if (stats.ok() && stats->rejected > 0) {
    std::fprintf(stderr, "rapport: %s demo records were refused; first: %s\n", Thousands(stats->rejected).c_str(),
                 stats->first_error.c_str());
  }
  return stats;
}

namespace {

struct GenerateArgs {
  std::string out, data, format = "csv";
  int64_t customers = 10000;
  uint64_t seed = 1;
};

int RunGenerate(const GenerateArgs& a) {
  demo::DemoOptions o;
  o.customers = a.customers;
  o.seed = a.seed;
  if (!a.data.empty()) {
    auto s = GenerateDemoStore(a.data, o);
    if (!s.ok()) return Fail(s.status());
    PrintDemoStats(*s);
    std::printf("into %s/rapport.db\n", a.data.c_str());
    return kExitOk;
  }
  ProgressBar bar;
  auto s = demo::GenerateFiles(a.out, a.format == "ndjson" ? demo::FileFormat::kNdjson : demo::FileFormat::kCsv, o,
                               [&](const demo::DemoStats& st, int64_t total) {
                                 bar.Update(static_cast<double>(st.customers) / static_cast<double>(total),
                                            Thousands(st.customers) + " customers");
                               });
  bar.Finish();
  if (!s.ok()) return Fail(s.status());
  PrintDemoStats(*s);
  const char* ext = a.format == "ndjson" ? "ndjson" : "csv";
  std::printf("files in %s: customers, customer_changes, accounts, transactions, interactions, relationships, consents (.%s)\n",
              a.out.c_str(), ext);
  std::printf("import them with: rapport import customers %s/customers.%s --source billing --data DIR\n", a.out.c_str(), ext);
  return kExitOk;
}

}  // namespace

CLI::App* AddDemoCommands(CLI::App& app, std::vector<Command>* out) {
  CLI::App* demo = app.add_subcommand("demo", "Generate a demo company and serve it");
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* gen = demo->add_subcommand("generate", "Generate the demo company as import files (or into a data directory)");
  gen->footer(
      "The same --seed gives the same company, byte for byte.\n"
      "Example: rapport demo generate --out ./demo-files --customers 200000 --format csv");
  auto* out_opt = gen->add_option("--out", args->out, "Directory for the files (created if absent)");
  auto* data_opt = gen->add_option("--data", args->data, "Write into this data directory's store instead of files");
  out_opt->excludes(data_opt);
  gen->add_option("--customers", args->customers, "Number of customers (persons, households, organizations)")
      ->default_val(10000)
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  gen->add_option("--format", args->format, "File format")->default_val("csv")->check(CLI::IsMember({"csv", "ndjson"}));
  gen->add_option("--seed", args->seed, "Random seed")->default_val(1);
  out->push_back({gen, [args, gen] {
                    if (args->out.empty() && args->data.empty()) {
                      std::fprintf(stderr, "rapport: demo generate needs --out DIR or --data DIR\n%s",
                                   gen->help().c_str());
                      return kExitUsage;
                    }
                    return RunGenerate(*args);
                  }});
  return demo;
}

}  // namespace rapport::cli
