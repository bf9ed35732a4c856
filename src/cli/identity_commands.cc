// rapport identity dedupe and rapport identity link: identity resolution on
// CSV files, with precision/recall/F1 when the truth is known.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "common/time.h"
#include "identity/identity.h"
#include "identity/store.h"
#include "ingest/import.h"

namespace rapport::cli {
namespace {

struct DedupeArgs {
  std::string file, id_column, config, out, pairs_out, golden_out, truth_pairs, truth_column;
};

struct ResolveArgs {
  std::string data, config;
};

struct LinkArgs {
  std::string left, right, id_column, left_id_column, right_id_column, config, out, truth_pairs, truth_column;
};

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path, path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// A CSV file as records: header names and ids trimmed (some exports write
// ", " between fields), every row as long as the header.
Result<identity::RecordTable> ReadRecords(const std::string& path, const std::string& id_column) {
  RP_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  ingest::CsvReader reader(text);
  std::vector<std::string_view> fields;
  identity::RecordTable t;
  if (!reader.Next(&fields)) return Status::InvalidArgument(path + " is empty", path);
  for (std::string_view f : fields) t.columns.push_back(Trim(f));
  int id = t.ColumnIndex(id_column);
  if (id < 0) return Status::InvalidArgument(path + " has no column \"" + id_column + "\"", id_column);
  std::set<std::string> seen;
  while (reader.Next(&fields)) {
    if (!reader.error().empty()) {
      return Status::InvalidArgument(path + ":" + std::to_string(reader.line()) + ": " + reader.error());
    }
    if (fields.size() == 1 && Trim(fields[0]).empty()) continue;  // blank line
    if (fields.size() != t.columns.size()) {
      return Status::InvalidArgument(path + ":" + std::to_string(reader.line()) + ": " +
                                     std::to_string(fields.size()) + " fields, the header has " +
                                     std::to_string(t.columns.size()));
    }
    std::vector<std::string> row;
    row.reserve(fields.size());
    for (std::string_view f : fields) row.emplace_back(f);
    std::string rid = Trim(row[static_cast<size_t>(id)]);
    if (rid.empty()) return Status::InvalidArgument(path + ":" + std::to_string(reader.line()) + ": empty id", id_column);
    if (!seen.insert(rid).second) {
      return Status::InvalidArgument(path + ":" + std::to_string(reader.line()) + ": duplicate id " + rid, id_column);
    }
    t.ids.push_back(std::move(rid));
    t.rows.push_back(std::move(row));
  }
  return t;
}

// Pairs of ids known to be the same entity, from a two-column CSV (header first).
Result<std::vector<std::pair<std::string, std::string>>> ReadTruthPairs(const std::string& path) {
  RP_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  ingest::CsvReader reader(text);
  std::vector<std::string_view> fields;
  std::vector<std::pair<std::string, std::string>> out;
  reader.Next(&fields);  // header
  while (reader.Next(&fields)) {
    if (fields.size() == 1 && Trim(fields[0]).empty()) continue;
    if (fields.size() < 2) {
      return Status::InvalidArgument(path + ":" + std::to_string(reader.line()) + ": expected two ids");
    }
    out.emplace_back(Trim(fields[0]), Trim(fields[1]));
  }
  return out;
}

std::string Quote(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<identity::ModelConfig> LoadConfig(const std::string& path) {
  RP_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  auto config = identity::ParseModelConfig(text);
  if (!config.ok()) {
    const Status& s = config.status();
    return Status(s.code(), path + ": " + s.message(), s.field());
  }
  return config;
}

void PrintQuality(const identity::PairQuality& q) {
  std::printf("precision %.4f  recall %.4f  F1 %.4f  (%lld true positive, %lld false positive, %lld false negative pairs)\n",
              q.precision(), q.recall(), q.f1(), static_cast<long long>(q.true_positives),
              static_cast<long long>(q.false_positives), static_cast<long long>(q.false_negatives));
}

void PrintModel(const identity::ModelConfig& config, const identity::Parameters& p) {
  std::printf("trained on %lld candidate pairs (%lld random pairs for u), %d EM iterations%s, prior %.3g\n",
              static_cast<long long>(p.candidate_pairs), static_cast<long long>(p.u_pairs_sampled), p.em_iterations,
              p.em_converged ? "" : " (not converged)", p.prior);
  for (size_t c = 0; c < config.comparisons.size(); ++c) {
    std::printf("  %s:", config.comparisons[c].name.c_str());
    for (size_t l = 1; l < p.levels[c].size(); ++l) {
      std::printf("  %s m=%.3f u=%.4f", config.comparisons[c].levels[l - 1].label.c_str(), p.levels[c][l].m,
                  p.levels[c][l].u);
    }
    std::printf("\n");
  }
}

// When a record was true: the time column as RFC 3339 or a date; without
// one (or unreadable), the row's position, so later rows are more recent.
int64_t RecordTime(const identity::RecordTable& t, size_t row, int time_col) {
  if (time_col >= 0) {
    const std::string v = Trim(t.rows[row][static_cast<size_t>(time_col)]);
    if (auto ts = ParseRfc3339(v); ts.ok()) return ts->micros;
    std::string d = identity::Normalize(identity::Normalizer::kDate, v);
    if (!d.empty()) {
      auto ts = ParseRfc3339(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + "T00:00:00Z");
      if (ts.ok()) return ts->micros;
    }
  }
  return static_cast<int64_t>(row);
}

// One golden record per cluster: every column's surviving value.
Status WriteGolden(const std::string& path, const identity::ModelConfig& config, const identity::RecordTable& t,
                   const std::vector<int64_t>& cluster, const std::string& id_column) {
  int source_col = -1, time_col = -1;
  if (!config.source_column.empty() && (source_col = t.ColumnIndex(config.source_column)) < 0) {
    return Status::InvalidArgument("the file has no column \"" + config.source_column + "\"", "/survivorship/sourceColumn");
  }
  if (!config.time_column.empty() && (time_col = t.ColumnIndex(config.time_column)) < 0) {
    return Status::InvalidArgument("the file has no column \"" + config.time_column + "\"", "/survivorship/timeColumn");
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) return Status::InvalidArgument("cannot write " + path);
  std::vector<std::vector<size_t>> members(t.size());
  std::vector<size_t> order;  // clusters by first appearance
  for (size_t i = 0; i < t.size(); ++i) {
    size_t c = static_cast<size_t>(cluster[i]);
    if (members[c].empty()) order.push_back(c);
    members[c].push_back(i);
  }
  out << "cluster_id,members";
  for (const std::string& col : t.columns) {
    if (col != id_column) out << ',' << Quote(col);
  }
  out << '\n';
  for (size_t c : order) {
    out << Quote(t.ids[c]) << ',' << members[c].size();
    for (size_t col = 0; col < t.columns.size(); ++col) {
      if (t.columns[col] == id_column) continue;
      identity::SurvivorshipRule rule{t.columns[col], identity::Survivorship::kMostRecent, {}};
      for (const auto& r : config.survivorship) {
        if (r.column == t.columns[col]) rule = r;
      }
      std::vector<identity::MemberValue> values;
      for (size_t m : members[c]) {
        values.push_back({Trim(t.rows[m][col]), source_col >= 0 ? Trim(t.rows[m][static_cast<size_t>(source_col)]) : "",
                          RecordTime(t, m, time_col)});
      }
      out << ',' << Quote(identity::Survive(rule, values));
    }
    out << '\n';
  }
  return Status::Ok();
}

int RunDedupe(const DedupeArgs& a) {
  auto config = LoadConfig(a.config);
  if (!config.ok()) return Fail(config.status());
  auto records = ReadRecords(a.file, a.id_column);
  if (!records.ok()) return Fail(records.status());
  int truth_col = -1;
  if (!a.truth_column.empty()) {
    truth_col = records->ColumnIndex(a.truth_column);
    if (truth_col < 0) return Fail(Status::InvalidArgument(a.file + " has no column \"" + a.truth_column + "\""));
  }
  auto result = identity::Dedupe(*config, *records);
  if (!result.ok()) return Fail(result.status());
  std::ofstream out(a.out, std::ios::binary);
  if (!out) return Fail(Status::InvalidArgument("cannot write " + a.out));
  out << "id,cluster_id\n";
  std::unordered_map<int64_t, int64_t> sizes;
  for (size_t i = 0; i < records->size(); ++i) {
    int64_t c = result->cluster[i];
    sizes[c] += 1;
    out << Quote(records->ids[i]) << ',' << Quote(records->ids[static_cast<size_t>(c)]) << '\n';
  }
  out.close();
  if (!a.pairs_out.empty()) {
    auto prepared = identity::Prepare(*config, *records);
    if (!prepared.ok()) return Fail(prepared.status());
    std::ofstream po(a.pairs_out, std::ios::binary);
    if (!po) return Fail(Status::InvalidArgument("cannot write " + a.pairs_out));
    po << "left_id,right_id,match_weight,match_probability,decision,evidence\n";
    for (const identity::ScoredPair& p : result->pairs) {
      auto ev = identity::Explain(*config, result->params, **prepared, p.left, **prepared, p.right);
      const char* decision = p.deterministic ? "deterministic"
                             : p.probability >= config->auto_merge_threshold ? "merge"
                                                                              : "review";
      char num[64];
      std::snprintf(num, sizeof num, "%.3f,%.6f", p.weight, p.probability);
      po << Quote(records->ids[static_cast<size_t>(p.left)]) << ',' << Quote(records->ids[static_cast<size_t>(p.right)])
         << ',' << num << ',' << decision << ',' << Quote(identity::DescribeEvidence(*config, ev)) << '\n';
    }
  }
  if (!a.golden_out.empty()) {
    Status s = WriteGolden(a.golden_out, *config, *records, result->cluster, a.id_column);
    if (!s.ok()) return Fail(s);
  }
  int64_t review = 0;
  for (const identity::ScoredPair& p : result->pairs) {
    review += !p.deterministic && p.probability < config->auto_merge_threshold;
  }
  PrintModel(*config, result->params);
  std::printf("%s records -> %s customers (%s pairs for review) in %.2f s (prepare %.2f, train %.2f, score %.2f)\n",
              Thousands(static_cast<int64_t>(records->size())).c_str(),
              Thousands(static_cast<int64_t>(sizes.size())).c_str(), Thousands(review).c_str(),
              result->seconds_prepare + result->seconds_train + result->seconds_score + result->seconds_cluster,
              result->seconds_prepare, result->seconds_train, result->seconds_score);
  std::printf("wrote %s\n", a.out.c_str());

  if (truth_col >= 0) {
    std::vector<std::string> truth;
    for (const auto& row : records->rows) truth.push_back(Trim(row[static_cast<size_t>(truth_col)]));
    PrintQuality(identity::ClusterQuality(result->cluster, truth));
  } else if (!a.truth_pairs.empty()) {
    auto pairs = ReadTruthPairs(a.truth_pairs);
    if (!pairs.ok()) return Fail(pairs.status());
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < records->size(); ++i) index.emplace(records->ids[i], i);
    identity::PairQuality q;
    int64_t predicted = 0;
    for (const auto& [c, n] : sizes) predicted += n * (n - 1) / 2;
    std::set<std::pair<size_t, size_t>> truth;
    for (const auto& [x, y] : *pairs) {
      auto ix = index.find(x), iy = index.find(y);
      if (ix == index.end() || iy == index.end()) {
        return Fail(Status::InvalidArgument(a.truth_pairs + ": unknown id " + (ix == index.end() ? x : y)));
      }
      truth.insert(std::minmax(ix->second, iy->second));
    }
    for (const auto& [x, y] : truth) q.true_positives += result->cluster[x] == result->cluster[y];
    q.false_positives = predicted - q.true_positives;
    q.false_negatives = static_cast<int64_t>(truth.size()) - q.true_positives;
    PrintQuality(q);
  }
  return kExitOk;
}

int RunLink(const LinkArgs& a) {
  auto config = LoadConfig(a.config);
  if (!config.ok()) return Fail(config.status());
  std::string left_id = a.left_id_column.empty() ? a.id_column : a.left_id_column;
  std::string right_id = a.right_id_column.empty() ? a.id_column : a.right_id_column;
  if (left_id.empty() || right_id.empty()) {
    std::fprintf(stderr, "rapport: give --id-column, or --left-id-column and --right-id-column\n");
    return kExitUsage;
  }
  auto left = ReadRecords(a.left, left_id);
  if (!left.ok()) return Fail(left.status());
  auto right = ReadRecords(a.right, right_id);
  if (!right.ok()) return Fail(right.status());
  auto result = identity::Link(*config, *left, *right);
  if (!result.ok()) return Fail(result.status());
  auto pl = identity::Prepare(*config, *left);
  auto pr = identity::Prepare(*config, *right);
  if (!pl.ok() || !pr.ok()) return Fail(pl.ok() ? pr.status() : pl.status());
  std::ofstream out(a.out, std::ios::binary);
  if (!out) return Fail(Status::InvalidArgument("cannot write " + a.out));
  out << "left_id,right_id,match_weight,match_probability,decision,evidence\n";
  int64_t merged = 0, review = 0;
  std::set<std::pair<std::string, std::string>> accepted;
  for (const identity::ScoredPair& p : result->pairs) {
    bool accept = p.deterministic || p.probability >= config->auto_merge_threshold;
    (accept ? merged : review) += 1;
    const std::string& l = left->ids[static_cast<size_t>(p.left)];
    const std::string& r = right->ids[static_cast<size_t>(p.right)];
    if (accept) accepted.insert({l, r});
    auto ev = identity::Explain(*config, result->params, **pl, p.left, **pr, p.right);
    char num[64];
    std::snprintf(num, sizeof num, "%.3f,%.6f", p.weight, p.probability);
    out << Quote(l) << ',' << Quote(r) << ',' << num << ','
        << (p.deterministic ? "deterministic" : accept ? "link" : "review") << ','
        << Quote(identity::DescribeEvidence(*config, ev)) << '\n';
  }
  out.close();
  PrintModel(*config, result->params);
  std::printf("%s x %s records: %s links, %s pairs for review in %.2f s\nwrote %s\n",
              Thousands(static_cast<int64_t>(left->size())).c_str(), Thousands(static_cast<int64_t>(right->size())).c_str(),
              Thousands(merged).c_str(), Thousands(review).c_str(), result->seconds, a.out.c_str());

  std::set<std::pair<std::string, std::string>> truth;
  if (!a.truth_column.empty()) {
    int lc = left->ColumnIndex(a.truth_column), rc = right->ColumnIndex(a.truth_column);
    if (lc < 0 || rc < 0) return Fail(Status::InvalidArgument("both files need the column \"" + a.truth_column + "\""));
    std::unordered_map<std::string, std::vector<std::string>> by_entity;
    for (size_t i = 0; i < left->size(); ++i) by_entity[Trim(left->rows[i][static_cast<size_t>(lc)])].push_back(left->ids[i]);
    for (size_t j = 0; j < right->size(); ++j) {
      auto it = by_entity.find(Trim(right->rows[j][static_cast<size_t>(rc)]));
      if (it == by_entity.end()) continue;
      for (const std::string& l : it->second) truth.insert({l, right->ids[j]});
    }
  } else if (!a.truth_pairs.empty()) {
    auto pairs = ReadTruthPairs(a.truth_pairs);
    if (!pairs.ok()) return Fail(pairs.status());
    truth.insert(pairs->begin(), pairs->end());
  } else {
    return kExitOk;
  }
  identity::PairQuality q;
  for (const auto& p : accepted) q.true_positives += truth.count(p);
  q.false_positives = static_cast<int64_t>(accepted.size()) - q.true_positives;
  q.false_negatives = static_cast<int64_t>(truth.size()) - q.true_positives;
  PrintQuality(q);
  return kExitOk;
}

// Resolves the persons of a data directory: trains on them, then matches each
// against the others in id order (older customers first), merging or queueing.
int RunResolve(const ResolveArgs& a) {
  auto config = LoadConfig(a.config);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenDataDir(a.data, /*durable=*/true);
  if (!store.ok()) return Fail(store.status());
  auto ids = identity::IdentityStore::Open(store->customers.get());
  if (!ids.ok()) return Fail(ids.status());
  auto t0 = std::chrono::steady_clock::now();
  auto params = (*ids)->TrainAndIndex(*config);
  if (!params.ok()) return Fail(params.status());
  PrintModel(*config, *params);
  customer::SearchQuery q;
  q.kind = customer::Kind::kPerson;
  q.limit = 1000;
  int64_t seen = 0, merged = 0, queued = 0;
  ProgressBar bar;
  for (;;) {
    auto page = store->customers->Search(q);
    if (!page.ok()) return Fail(page.status());
    for (const customer::CustomerSummary& s : page->items) {
      auto outcome = (*ids)->Match(s.id);
      if (!outcome.ok()) return Fail(outcome.status());
      ++seen;
      merged += outcome->action == identity::MatchOutcome::Action::kMerged;
      queued += outcome->action == identity::MatchOutcome::Action::kQueued;
    }
    bar.Update(0, Thousands(seen) + " persons matched");
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  bar.Finish();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s persons: %s merged into an older customer, %s pairs queued for review, in %.1f s\n",
              Thousands(seen).c_str(), Thousands(merged).c_str(), Thousands(queued).c_str(), secs);
  return kExitOk;
}

}  // namespace

void AddIdentityCommands(CLI::App& app, std::vector<Command>* out) {
  CLI::App* identity = app.add_subcommand("identity", "Identity resolution on files: deduplicate, link");
  identity->require_subcommand(1);

  auto d = std::make_shared<DedupeArgs>();
  CLI::App* dedupe = identity->add_subcommand("dedupe", "Find the records of one file that are the same customer");
  dedupe->footer(
      "Trains the model on the file itself (no labels), writes one line per record with its cluster id (the id of\n"
      "the cluster's first record in the file) and prints the trained m/u per comparison level.\n"
      "Exit status: 0 done, 1 failed (bad file or configuration), 2 usage error.\n"
      "Example: rapport identity dedupe dataset3.csv --id-column rec_id --config febrl.json --out clusters.csv "
      "--truth-pairs true_links.csv");
  dedupe->add_option("file", d->file, "CSV file with a header line")->required()->check(CLI::ExistingFile);
  dedupe->add_option("--id-column", d->id_column, "Column holding each record's unique id")->required();
  dedupe->add_option("--config", d->config, "Model configuration (JSON, see docs/identity.md)")->required()->check(CLI::ExistingFile);
  dedupe->add_option("--out", d->out, "Where to write id,cluster_id")->required();
  dedupe->add_option("--pairs", d->pairs_out, "Also write the scored pairs with their evidence");
  dedupe->add_option("--golden", d->golden_out,
                     "Also write one golden record per cluster (survivorship rules from the configuration)");
  auto* tp = dedupe->add_option("--truth-pairs", d->truth_pairs, "CSV of id pairs known to match: print precision/recall/F1")
                 ->check(CLI::ExistingFile);
  dedupe->add_option("--truth-column", d->truth_column, "Column naming the true entity: print precision/recall/F1")
      ->excludes(tp);
  out->push_back({dedupe, [d] { return RunDedupe(*d); }});

  auto l = std::make_shared<LinkArgs>();
  CLI::App* link = identity->add_subcommand("link", "Find the records of two files that are the same customer");
  link->footer(
      "Trains on both files (no labels) and writes the pairs at or above the review threshold with their weight,\n"
      "probability, decision (link, review, deterministic) and evidence.\n"
      "Exit status: 0 done, 1 failed, 2 usage error.\n"
      "Example: rapport identity link billing.csv shop.csv --id-column id --config people.json --out pairs.csv");
  link->add_option("left", l->left, "First CSV file")->required()->check(CLI::ExistingFile);
  link->add_option("right", l->right, "Second CSV file")->required()->check(CLI::ExistingFile);
  link->add_option("--id-column", l->id_column, "Id column of both files");
  link->add_option("--left-id-column", l->left_id_column, "Id column of the first file");
  link->add_option("--right-id-column", l->right_id_column, "Id column of the second file");
  link->add_option("--config", l->config, "Model configuration (JSON)")->required()->check(CLI::ExistingFile);
  link->add_option("--out", l->out, "Where to write the pairs")->required();
  auto* ltp = link->add_option("--truth-pairs", l->truth_pairs, "CSV of (left id, right id) pairs known to match")
                  ->check(CLI::ExistingFile);
  link->add_option("--truth-column", l->truth_column, "Column of both files naming the true entity")->excludes(ltp);
  out->push_back({link, [l] { return RunLink(*l); }});

  auto r = std::make_shared<ResolveArgs>();
  CLI::App* resolve = identity->add_subcommand("resolve", "Resolve the persons of a data directory into customers");
  resolve->footer(
      "Trains the model on the stored persons (columns are attribute names: firstName, email, ...), then matches\n"
      "each person against the others, oldest first: merged at or above the auto-merge threshold (the older\n"
      "customer survives), queued for a steward at or above the review threshold. Merges are links; undo any of\n"
      "them with POST /v1/merges/{id}/undo. Running it again only adds what is new.\n"
      "Exit status: 0 done, 1 failed, 2 usage error.\n"
      "Example: rapport identity resolve --data data --config people-model.json");
  resolve->add_option("--data", r->data, "Data directory")->required();
  resolve->add_option("--config", r->config, "Model configuration (JSON)")->required()->check(CLI::ExistingFile);
  out->push_back({resolve, [r] { return RunResolve(*r); }});
}

}  // namespace rapport::cli
