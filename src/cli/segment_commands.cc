// rapport segment count/create/list/export and rapport analytics query:
// segments and slice-and-dice over a data directory's profile store, built
// at start from the operational store (as the server does).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "profile/profile.h"

namespace rapport::cli {
namespace {

struct SegmentArgs {
  std::string data, condition, name, description, format = "csv", output, as_of;
  int64_t id = 0;
  std::vector<std::string> measures, dimensions;
  std::string filter;
  int limit = 1000;
};

// Opens DIR and builds its profile store; prints how long the build took
// on stderr when stderr is a terminal.
Result<std::pair<OpenStore, std::unique_ptr<profile::ProfileStore>>> OpenProfile(const SegmentArgs& a) {
  RP_ASSIGN_OR_RETURN(OpenStore store, OpenDataDir(a.data, true));
  Timestamp as_of = SystemClock::Default()->Now();
  if (!a.as_of.empty()) {
    auto t = ParseRfc3339(a.as_of.size() == 10 ? a.as_of + "T00:00:00Z" : a.as_of);
    if (!t.ok()) return Status::InvalidArgument("--as-of: " + t.status().message(), "as-of");
    as_of = *t;
  }
  // DIR/profile.json, when present, configures the columns (as for the server).
  RP_ASSIGN_OR_RETURN(auto profile, OpenProfileStore(a.data, store.db.get(), as_of));
  return std::make_pair(std::move(store), std::move(profile));
}

int PrintExpressionError(const Status& s, const std::string& text) {
  std::cerr << "rapport: " << s.message() << "\n";
  // "position N: ..." -> a caret under the expression.
  if (s.message().rfind("position ", 0) == 0) {
    size_t pos = std::strtoul(s.message().c_str() + 9, nullptr, 10);
    std::cerr << "  " << text << "\n  " << std::string(std::min(pos, text.size()), ' ') << "^\n";
  }
  return kExitFailed;
}

}  // namespace

void AddSegmentCommands(CLI::App& app, std::vector<Command>* out) {
  CLI::App* seg = app.add_subcommand("segment", "Count, save and export customer segments (FEEL conditions)");
  seg->require_subcommand(1);
  auto a = std::make_shared<SegmentArgs>();
  auto data_opt = [&](CLI::App* c) {
    c->add_option("--data", a->data, "Data directory holding rapport.db")->required();
    c->add_option("--as-of", a->as_of, "The 'today' of rolling windows (YYYY-MM-DD or RFC 3339); default now");
  };

  CLI::App* count = seg->add_subcommand("count", "Count the customers a FEEL condition selects");
  count->footer("Example: rapport segment count 'revenue90d > 300 and region = \"Nord\"' --data demo-data\n"
                "Columns: see docs/segments.md.");
  count->add_option("condition", a->condition, "FEEL condition over profile columns")->required();
  data_opt(count);
  out->push_back({count, [a] {
                    auto opened = OpenProfile(*a);
                    if (!opened.ok()) return Fail(opened.status());
                    auto start = std::chrono::steady_clock::now();
                    auto n = opened->second->Count(a->condition);
                    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
                    if (!n.ok()) return PrintExpressionError(n.status(), a->condition);
                    std::cout << *n << "\n";
                    std::cerr << Thousands(*n) << " of " << Thousands(opened->second->size()) << " customers ("
                              << us.count() / 1000.0 << " ms)\n";
                    return kExitOk;
                  }});

  CLI::App* create = seg->add_subcommand("create", "Save a segment and print its id and size");
  create->add_option("name", a->name, "Segment name")->required();
  create->add_option("condition", a->condition, "FEEL condition over profile columns")->required();
  create->add_option("--description", a->description, "What the segment is for");
  data_opt(create);
  out->push_back({create, [a] {
                    auto opened = OpenProfile(*a);
                    if (!opened.ok()) return Fail(opened.status());
                    auto s = opened->second->CreateSegment(a->name, a->description, a->condition);
                    if (!s.ok()) return PrintExpressionError(s.status(), a->condition);
                    std::cout << s->id << "\t" << s->name << "\t" << s->size << "\n";
                    return kExitOk;
                  }});

  CLI::App* list = seg->add_subcommand("list", "List saved segments: id, name, size, condition");
  data_opt(list);
  out->push_back({list, [a] {
                    auto opened = OpenProfile(*a);
                    if (!opened.ok()) return Fail(opened.status());
                    for (const auto& s : opened->second->ListSegments()) {
                      std::cout << s.id << "\t" << s.name << "\t" << s.size << "\t" << s.condition << "\n";
                    }
                    return kExitOk;
                  }});

  CLI::App* exp = seg->add_subcommand("export", "Write a segment's members (customerId per line) as CSV");
  exp->add_option("id", a->id, "Segment id")->required();
  exp->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"csv"}))->default_val("csv");
  exp->add_option("--output,-o", a->output, "File to write; default standard output");
  data_opt(exp);
  out->push_back({exp, [a] {
                    auto opened = OpenProfile(*a);
                    if (!opened.ok()) return Fail(opened.status());
                    std::ofstream file;
                    if (!a->output.empty()) {
                      file.open(a->output);
                      if (!file) return Fail(Status::InvalidArgument("cannot write " + a->output, "output"));
                    }
                    std::ostream& os = a->output.empty() ? std::cout : file;
                    os << "customerId\n";
                    int64_t after = 0, n = 0;
                    for (;;) {
                      auto page = opened->second->Members(a->id, after, 10000);
                      if (!page.ok()) return Fail(page.status());
                      if (page->empty()) break;
                      for (int64_t m : *page) os << m << "\n";
                      n += static_cast<int64_t>(page->size());
                      after = page->back();
                    }
                    if (!a->output.empty()) std::cerr << Thousands(n) << " members written to " << a->output << "\n";
                    return kExitOk;
                  }});

  CLI::App* analytics = app.add_subcommand("analytics", "Slice-and-dice over the profile store");
  analytics->require_subcommand(1);
  CLI::App* query = analytics->add_subcommand("query", "Measures by dimensions, as CSV");
  query->footer("Example: rapport analytics query --measure count --measure 'sum(revenue)' --dimension region "
                "--dimension ageBand --filter 'kind = \"person\"' --data demo-data");
  query->add_option("--measure", a->measures, "count, or sum/avg/min/max(column); repeatable")->required();
  query->add_option("--dimension", a->dimensions, "Column to group by; repeatable, at most 4");
  query->add_option("--filter", a->filter, "FEEL condition selecting the customers");
  query->add_option("--segment", a->id, "Only members of this segment");
  query->add_option("--limit", a->limit, "Groups to print, largest first")->default_val(1000);
  data_opt(query);
  out->push_back({query, [a] {
                    auto opened = OpenProfile(*a);
                    if (!opened.ok()) return Fail(opened.status());
                    profile::QuerySpec q;
                    q.measures = a->measures;
                    q.dimensions = a->dimensions;
                    q.filter = a->filter;
                    q.segment_id = a->id;
                    q.limit = a->limit;
                    auto r = opened->second->Query(q);
                    if (!r.ok()) return PrintExpressionError(r.status(), a->filter);
                    std::cout << r->ToCsv();
                    return kExitOk;
                  }});
}

}  // namespace rapport::cli
