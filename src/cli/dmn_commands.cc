// rapport dmn eval and rapport dmn tck: evaluate a decision of a DMN model,
// run the DMN TCK conformance suite.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "dmn/dmn.h"
#include "dmn/tck.h"

namespace rapport::cli {
namespace {

struct EvalArgs {
  std::string model, decision, input = "{}", input_file;
};

struct TckArgs {
  std::string dir, csv;
};

}  // namespace

void AddDmnCommands(CLI::App& app, std::vector<Command>* out) {
  CLI::App* dmn = app.add_subcommand("dmn", "Work with DMN decision models");
  dmn->require_subcommand(1);
  auto a = std::make_shared<EvalArgs>();
  CLI::App* eval = dmn->add_subcommand("eval", "Evaluate a decision of a DMN 1.5 model and print the result as JSON");
  eval->footer("Exit status: 0 evaluated, 1 evaluation problems, 2 the model did not load or a usage error.\n"
               "Example: rapport dmn eval loan.dmn --decision 'Risk class' --input '{\"age\": 42, \"income\": 52000}'");
  eval->add_option("model", a->model, "The .dmn file")->required()->check(CLI::ExistingFile);
  eval->add_option("--decision", a->decision, "Decision name or id")->required();
  auto* in = eval->add_option("--input", a->input, "Input data as a JSON object")->default_val("{}");
  eval->add_option("--input-file", a->input_file, "Read the input JSON from this file")->excludes(in)->check(CLI::ExistingFile);
  out->push_back({eval, [a] {
                    std::string input = a->input;
                    if (!a->input_file.empty()) {
                      std::ifstream f(a->input_file);
                      std::stringstream ss;
                      ss << f.rdbuf();
                      input = ss.str();
                    }
                    return dmn::RunEvalCommand(a->model, a->decision, input, std::cout);
                  }});

  auto t = std::make_shared<TckArgs>();
  CLI::App* tck = dmn->add_subcommand("tck", "Run the DMN TCK conformance tests under a folder");
  tck->footer("Prints each failure, the pass rate per compliance level and 'N passed, M failed'.\n"
              "Example: rapport dmn tck ../shared/dmn-tck --csv tck_results.csv");
  tck->add_option("dir", t->dir, "Folder holding the TCK test cases")->required()->check(CLI::ExistingDirectory);
  tck->add_option("--csv", t->csv, "Also write the results in the TCK's tck_results.csv format");
  out->push_back({tck, [t] { return dmn::RunTckCommand(t->dir, t->csv, std::cout); }});
}

}  // namespace rapport::cli
