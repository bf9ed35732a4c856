// rapport decision ...: the rules repository and next best action over a
// data directory, without a server: list models and versions, upload a DMN
// file, take it through review, publish or roll back, diff two versions, and
// preview a decision for one customer. Steps are recorded in the audit
// trail as "cli:<user>". A server running on the same directory sees
// repository changes made here at its next start; use the API to publish
// to a running server.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "decision/decision.h"
#include "dmn/dmn.h"

namespace rapport::cli {
namespace {

struct DecisionArgs {
  std::string data, name, file, comment, point, channel = "web", context;
  int version = 0, against = 0, limit = 3;
  int64_t customer = 0;
  bool explain = false;
};

struct OpenEngine {
  OpenStore store;
  std::unique_ptr<profile::ProfileStore> profile;
  std::unique_ptr<decision::DecisionEngine> engine;  // declared last: destroyed first
};

Result<OpenEngine> Open(const DecisionArgs& a, bool with_profile) {
  OpenEngine e;
  RP_ASSIGN_OR_RETURN(e.store, OpenDataDir(a.data, true));
  if (with_profile) {
    RP_ASSIGN_OR_RETURN(e.profile, OpenProfileStore(a.data, e.store.db.get(), SystemClock::Default()->Now()));
  }
  RP_ASSIGN_OR_RETURN(e.engine, decision::DecisionEngine::Open(e.store.db.get(), e.profile.get(),
                                                               with_profile ? e.store.customers.get() : nullptr));
  return e;
}

decision::Actor CliActor() {
  const char* user = std::getenv("USER");
  return {std::string("cli:") + (user && *user ? user : "unknown"), false};
}

void PrintVersion(const decision::ModelVersion& v) {
  std::cout << v.name << " v" << v.version << "  " << decision::VersionStateName(v.state) << "  by " << v.author
            << "  " << FormatRfc3339(v.created_at) << "\n";
}

}  // namespace

void AddDecisionCommands(CLI::App& app, std::vector<Command>* out) {
  CLI::App* dec = app.add_subcommand("decision", "Decision models, their review and publication, and decisions");
  dec->require_subcommand(1);
  auto a = std::make_shared<DecisionArgs>();
  auto data_opt = [&](CLI::App* c) { c->add_option("--data", a->data, "Data directory holding rapport.db")->required(); };
  auto name_version = [&](CLI::App* c) {
    c->add_option("name", a->name, "Model name")->required();
    c->add_option("version", a->version, "Version number")->required()->check(CLI::PositiveNumber);
  };

  CLI::App* models = dec->add_subcommand("models", "List the decision models with their latest and published versions");
  data_opt(models);
  out->push_back({models, [a] {
                    auto e = Open(*a, false);
                    if (!e.ok()) return Fail(e.status());
                    auto list = e->engine->ListModels();
                    if (!list.ok()) return Fail(list.status());
                    for (const auto& m : *list) {
                      std::cout << m.name << "  latest v" << m.latest_version << "  published "
                                << (m.published_version ? "v" + std::to_string(*m.published_version) : "-") << "\n";
                    }
                    return kExitOk;
                  }});

  CLI::App* versions = dec->add_subcommand("versions", "List a model's versions, newest first");
  versions->add_option("name", a->name, "Model name")->required();
  data_opt(versions);
  out->push_back({versions, [a] {
                    auto e = Open(*a, false);
                    if (!e.ok()) return Fail(e.status());
                    auto list = e->engine->Versions(a->name);
                    if (!list.ok()) return Fail(list.status());
                    for (const auto& v : *list) PrintVersion(v);
                    return kExitOk;
                  }});

  CLI::App* upload = dec->add_subcommand("upload", "Store a DMN file as a new draft version of the model it names");
  upload->footer("Example: rapport decision upload offers.dmn --data demo-data");
  upload->add_option("file", a->file, "DMN XML file")->required()->check(CLI::ExistingFile);
  data_opt(upload);
  out->push_back({upload, [a] {
                    std::ifstream in(a->file, std::ios::binary);
                    std::stringstream xml;
                    xml << in.rdbuf();
                    auto e = Open(*a, false);
                    if (!e.ok()) return Fail(e.status());
                    auto v = e->engine->UploadModel(xml.str(), CliActor());
                    if (!v.ok()) return Fail(v.status());
                    PrintVersion(*v);
                    return kExitOk;
                  }});

  for (const char* step : {"submit", "approve", "reject"}) {
    CLI::App* c = dec->add_subcommand(step, std::string(step == std::string("submit") ? "Submit a draft for review"
                                                        : step == std::string("approve")
                                                            ? "Approve a version in review (not your own)"
                                                            : "Send a version in review back to draft"));
    name_version(c);
    c->add_option("--comment", a->comment, "Recorded in the audit trail");
    data_opt(c);
    std::string s = step;
    out->push_back({c, [a, s] {
                      auto e = Open(*a, false);
                      if (!e.ok()) return Fail(e.status());
                      auto& en = *e->engine;
                      auto v = s == "submit"    ? en.Submit(a->name, a->version, CliActor(), a->comment)
                               : s == "approve" ? en.Approve(a->name, a->version, CliActor(), a->comment)
                                                : en.Reject(a->name, a->version, CliActor(), a->comment);
                      if (!v.ok()) return Fail(v.status());
                      PrintVersion(*v);
                      return kExitOk;
                    }});
  }

  for (const char* step : {"publish", "rollback"}) {
    CLI::App* c = dec->add_subcommand(step, std::string(step) == "publish"
                                                ? "Validate an approved version and make it the live one"
                                                : "Make an earlier published version live again");
    name_version(c);
    data_opt(c);
    std::string s = step;
    out->push_back({c, [a, s] {
                      auto e = Open(*a, false);
                      if (!e.ok()) return Fail(e.status());
                      auto v = s == "publish" ? e->engine->Publish(a->name, a->version, CliActor())
                                              : e->engine->Rollback(a->name, a->version, CliActor());
                      if (!v.ok()) return Fail(v.status());
                      PrintVersion(*v);
                      return kExitOk;
                    }});
  }

  CLI::App* diff = dec->add_subcommand("diff", "Rules added, removed and changed between two versions, then a line diff");
  name_version(diff);
  diff->add_option("--against", a->against, "The older version; default version - 1");
  data_opt(diff);
  out->push_back({diff, [a] {
                    int against = a->against > 0 ? a->against : a->version - 1;
                    if (against < 1) return Fail(Status::InvalidArgument("version 1 has no earlier version: give --against"));
                    auto e = Open(*a, false);
                    if (!e.ok()) return Fail(e.status());
                    auto d = e->engine->Diff(a->name, a->version, against);
                    if (!d.ok()) return Fail(d.status());
                    auto join = [](const std::vector<std::string>& v) {
                      std::string s;
                      for (const auto& x : v) s += (s.empty() ? "" : " | ") + x;
                      return s;
                    };
                    for (const auto& r : d->rules) {
                      std::cout << decision::RuleChangeKindName(r.kind) << " " << r.decision << " rule "
                                << (r.rule_id.empty() ? std::to_string(r.to_rule ? r.to_rule : r.from_rule) : r.rule_id)
                                << "\n";
                      if (!r.before.empty()) std::cout << "  - " << join(r.before) << "\n";
                      if (!r.after.empty()) std::cout << "  + " << join(r.after) << "\n";
                    }
                    for (const auto& line : d->text) std::cout << line << "\n";
                    return kExitOk;
                  }});

  CLI::App* decide = dec->add_subcommand("decide", "Preview the next best actions for one customer (not logged)");
  decide->footer("Example: rapport decision decide --customer 42 --point web-home --explain --data demo-data");
  decide->add_option("--customer", a->customer, "Customer id")->required();
  decide->add_option("--point", a->point, "Decision point")->required();
  decide->add_option("--channel", a->channel, "Channel (default web)");
  decide->add_option("--context", a->context, "Request context as a JSON object");
  decide->add_option("--limit", a->limit, "At most this many actions (1..50)");
  decide->add_flag("--explain", a->explain, "Include the explanation");
  data_opt(decide);
  out->push_back({decide, [a] {
                    decision::DecideRequest req;
                    req.customer_id = a->customer;
                    req.decision_point = a->point;
                    req.channel = a->channel;
                    req.limit = a->limit;
                    req.explain = a->explain;
                    req.record = false;
                    if (!a->context.empty()) {
                      auto ctx = dmn::ValueFromJson(a->context);
                      if (!ctx.ok()) return Fail(Status::InvalidArgument("--context: " + ctx.status().message()));
                      req.context = *ctx;
                    }
                    auto e = Open(*a, true);
                    if (!e.ok()) return Fail(e.status());
                    auto r = e->engine->Decide(req);
                    if (!r.ok()) return Fail(r.status());
                    std::cout << decision::ToJson(*r) << "\n";
                    return kExitOk;
                  }});
}

}  // namespace rapport::cli
