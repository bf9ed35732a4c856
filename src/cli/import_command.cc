// rapport import customers|accounts|transactions|interactions FILE ...
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "ingest/import.h"

namespace rapport::cli {
namespace {

struct ImportArgs {
  std::string entity, file, source, data, mapping, format, errors_path;
  int batch_size = 10000;
};

int RunImport(const ImportArgs& a) {
  auto entity = ingest::ParseEntity(a.entity);
  if (!entity.ok()) return Fail(entity.status());
  ingest::ImportOptions o;
  o.entity = *entity;
  o.source = a.source;
  o.batch_size = a.batch_size;
  if (!a.format.empty()) {
    auto f = ingest::ParseFormat(a.format);
    if (!f.ok()) return Fail(f.status());
    o.format = *f;
  }
  if (!a.mapping.empty()) {
    auto m = ingest::LoadMapping(a.mapping);
    if (!m.ok()) return Fail(m.status());
    o.mapping = std::move(*m);
  }
  auto store = OpenDataDir(a.data, /*durable=*/true);
  if (!store.ok()) return Fail(store.status());

  std::ofstream errors_file;
  if (!a.errors_path.empty()) {
    errors_file.open(a.errors_path, std::ios::trunc);
    if (!errors_file) return Fail(Status::Internal("cannot write " + a.errors_path));
    errors_file << "line,column,message\n";
  }
  ProgressBar bar;
  int shown = 0;
  constexpr int kShown = 20;
  o.on_error = [&](const ingest::RowError& e) {
    if (errors_file.is_open()) {
      auto quote = [](const std::string& s) {
        std::string q = "\"";
        for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
      };
      errors_file << e.line << ',' << quote(e.column) << ',' << quote(e.message) << '\n';
    }
    if (shown++ < kShown) {
      bar.Finish();
      std::fprintf(stderr, "%s:%lld: %s%s%s\n", a.file.c_str(), static_cast<long long>(e.line),
                   e.column.empty() ? "" : e.column.c_str(), e.column.empty() ? "" : ": ", e.message.c_str());
    }
  };
  o.on_progress = [&](const ingest::ImportProgress& p) {
    double rate = p.elapsed_seconds > 0 ? p.rows_read / p.elapsed_seconds : 0;
    bar.Update(p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 1,
               Thousands(p.rows_read) + " rows  " + Thousands(static_cast<int64_t>(rate)) + " rows/s  " +
                   Thousands(p.rejected) + " rejected");
  };
  auto s = ingest::ImportFile(*store->customers, a.file, o);
  bar.Finish();
  if (!s.ok()) return Fail(s.status());
  if (shown > kShown) {
    std::fprintf(stderr, "... and %d more rejected rows%s\n", shown - kShown,
                 a.errors_path.empty() ? " (--errors FILE writes them all)" : "");
  }
  std::printf("imported %s from %s (source %s)\n", a.entity.c_str(), a.file.c_str(), a.source.c_str());
  std::printf("  read      %s\n  created   %s\n  updated   %s\n  unchanged %s\n  rejected  %s\n",
              Thousands(s->rows_read).c_str(), Thousands(s->created).c_str(), Thousands(s->updated).c_str(),
              Thousands(s->unchanged).c_str(), Thousands(s->rejected).c_str());
  std::printf("  time      %.2f s (%s rows/s)\n", s->elapsed_seconds,
              Thousands(static_cast<int64_t>(s->rows_per_second())).c_str());
  return s->rejected > 0 ? kExitRejected : kExitOk;
}

}  // namespace

void AddImportCommand(CLI::App& app, std::vector<Command>* out) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* cmd = app.add_subcommand("import", "Import a back-office export (CSV or NDJSON) into a data directory");
  cmd->footer(
      "Rows are upserted by their source key, so importing the same file again changes nothing.\n"
      "Bad rows are reported as FILE:LINE: COLUMN: what is wrong, and skipped.\n"
      "Exit status: 0 all rows imported, 3 some rows rejected, 1 the import failed, 2 usage error.\n"
      "Example: rapport import customers billing.csv --source billing --data ./data --mapping billing.json");
  cmd->add_option("entity", args->entity, "What the file holds")
      ->required()
      ->check(CLI::IsMember({"customers", "accounts", "transactions", "interactions"}));
  cmd->add_option("file", args->file, "The file to import ('-' reads standard input)")->required();
  cmd->add_option("--source", args->source, "Name of the system the file comes from (billing, shop, ...)")->required();
  cmd->add_option("--data", args->data, "Data directory (holds rapport.db; created if absent)")->required();
  cmd->add_option("--mapping", args->mapping, "JSON mapping file: column names, types, formats (docs/import.md)");
  cmd->add_option("--format", args->format, "File format (default: from the mapping, else the file name)")
      ->check(CLI::IsMember({"csv", "ndjson"}));
  cmd->add_option("--batch-size", args->batch_size, "Rows per transaction")->default_val(10000)->check(CLI::Range(1, 100000));
  cmd->add_option("--errors", args->errors_path, "Write every rejected row to this CSV file (line,column,message)");
  out->push_back({cmd, [args] { return RunImport(*args); }});
}

}  // namespace rapport::cli
