// rapport import customers|accounts|transactions|interactions FILE ...
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "identity/store.h"
#include "ingest/import.h"

namespace rapport::cli {
namespace {

struct ImportArgs {
  std::string entity, file, source, data, mapping, format, errors_path;
  int batch_size = 10000;
};

Result<customer::CustomerId> LargestCustomerId(storage::Database& db) {
  customer::CustomerId max = 0;
  RP_RETURN_IF_ERROR(db.WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT COALESCE(MAX(id), 0) FROM customers"));
    max = r.rows.at(0)[0].AsInt();
    return Status::Ok();
  }));
  return max;
}

// When the data directory has a saved identity model (POST
// /v1/identity/model), the customers an import creates are matched as they
// arrive, as through the API: the persons already there are indexed before
// the import, and each new customer is matched (merged, queued for review,
// or left alone) after it.
struct ArrivalMatcher {
  std::unique_ptr<identity::IdentityStore> ids;
  customer::CustomerId before = 0;

  Status Prepare(OpenStore& store) {
    RP_ASSIGN_OR_RETURN(ids, identity::IdentityStore::Open(store.customers.get()));
    RP_ASSIGN_OR_RETURN(auto saved, ids->SavedModel());
    if (!saved) {
      ids.reset();
      return Status::Ok();
    }
    RP_ASSIGN_OR_RETURN(identity::ModelConfig config, identity::ParseModelConfig(*saved));
    std::printf("identity: indexing the customers already here under the saved model ...\n");
    std::fflush(stdout);
    Status trained = ids->TrainAndIndex(std::move(config)).status();
    if (trained.code() == StatusCode::kUnprocessable) {  // too few persons yet to train on
      std::printf("identity: %s; new customers are not matched\n", trained.message().c_str());
      ids.reset();
      return Status::Ok();
    }
    RP_RETURN_IF_ERROR(trained);
    RP_ASSIGN_OR_RETURN(before, LargestCustomerId(*store.db));
    return Status::Ok();
  }

  Status MatchNew(OpenStore& store) {
    if (!ids) return Status::Ok();
    RP_ASSIGN_OR_RETURN(customer::CustomerId after, LargestCustomerId(*store.db));
    int64_t merged = 0, queued = 0;
    for (customer::CustomerId id = before + 1; id <= after; ++id) {
      auto o = ids->Match(id);
      if (!o.ok()) {
        if (o.status().IsNotFound()) continue;
        return o.status();
      }
      merged += o->action == identity::MatchOutcome::Action::kMerged;
      queued += o->action == identity::MatchOutcome::Action::kQueued;
    }
    std::printf("  identity  %s merged, %s queued for review\n", Thousands(merged).c_str(), Thousands(queued).c_str());
    return Status::Ok();
  }
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
  ArrivalMatcher matcher;
  if (*entity == ingest::Entity::kCustomers) {
    Status prepared = matcher.Prepare(*store);
    if (!prepared.ok()) return Fail(prepared);
  }

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
  Status matched = matcher.MatchNew(*store);
  if (!matched.ok()) return Fail(matched);
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
