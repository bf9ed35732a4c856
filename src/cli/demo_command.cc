// rapport demo generate: the demo company as import files or into a store;
// and what `rapport demo` prepares before it serves (server_commands.cc).
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/data_dir.h"
#include "cli/demo_run.h"
#include "decision/decision.h"
#include "demo/demo.h"
#include "server/server.h"

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

Status InstallDemoRules(const std::string& dir) {
  RP_ASSIGN_OR_RETURN(auto store, OpenDataDir(dir, /*durable=*/true));
  // Without a profile store: storing rules needs none, and building one
  // would read every customer's history for nothing.
  RP_ASSIGN_OR_RETURN(auto engine, decision::DecisionEngine::Open(store.db.get(), nullptr, store.customers.get()));
  RP_ASSIGN_OR_RETURN(bool installed, demo::InstallDecisioning(*engine));
  if (installed) {
    std::printf("published the decision model \"%s\" (src/demo/offers.dmn) with its actions, the decision points "
                "web-home and weekly-email, and the contact policies email-consent and email-weekly-cap\n",
                std::string(demo::kOffersModel).c_str());
  }
  return Status::Ok();
}

Result<demo::DemoStats> GenerateDemoStore(const std::string& dir, const demo::DemoOptions& options) {
  Result<demo::DemoStats> stats = Status::Internal("the demo company was not generated");
  {  // the store closes before the rules are written beside it
    RP_ASSIGN_OR_RETURN(auto store, OpenDataDir(dir, /*durable=*/false));
    ProgressBar bar;
    stats = demo::GenerateIntoStore(*store.customers, options, [&](const demo::DemoStats& s, int64_t total) {
      bar.Update(static_cast<double>(s.customers) / static_cast<double>(total),
                 Thousands(s.customers) + " customers  " +
                     Thousands(static_cast<int64_t>(s.customers_per_second())) + " customers/s");
    });
    bar.Finish();
  }
  if (!stats.ok()) return stats;
  if (stats->rejected > 0) {
    std::fprintf(stderr, "rapport: %s demo records were refused; first: %s\n", Thousands(stats->rejected).c_str(),
                 stats->first_error.c_str());
  }
  PrintDemoStats(*stats);
  RP_RETURN_IF_ERROR(InstallDemoRules(dir));
  return stats;
}

namespace {

// The demo's "today": --end-date, else today's UTC date. History ends at
// the midnight that begins it, so nothing lies in the future.
Result<Timestamp> DemoEnd(const std::string& end_date) {
  if (end_date.empty()) {
    return Timestamp{SystemClock::Default()->Now().micros / kMicrosPerDay * kMicrosPerDay};
  }
  auto t = ParseRfc3339(end_date);
  if (end_date.size() != 10 || !t.ok()) {
    return Status::InvalidArgument("--end-date must be a date YYYY-MM-DD, not '" + end_date + "'", "--end-date");
  }
  return *t;
}

std::string DateOf(Timestamp t) { return FormatRfc3339(t).substr(0, 10); }

// Reuses the key kept in DIR/demo-key while it is valid, else creates an
// admin key named "demo" and keeps its secret there, readable by the owner
// only (it is an admin's key).
Result<DemoReady> DemoKey(const std::string& dir) {
  namespace fs = std::filesystem;
  DemoReady ready;
  ready.key_file = (fs::path(dir) / kDemoKeyFile).string();
  std::string kept;
  if (std::ifstream in(ready.key_file); in) std::getline(in, kept);
  if (!kept.empty()) {
    auto info = server::VerifyApiKey(dir, kept);
    if (info.ok() && info->role == server::Role::kAdmin) {
      ready.key = kept;
      ready.key_reused = true;
      return ready;
    }
    if (!info.ok() && info.status().code() != StatusCode::kUnauthenticated) return info.status();
  }
  RP_ASSIGN_OR_RETURN(auto created, server::CreateApiKey(dir, "admin", kDemoKeyName));
  std::string tmp = ready.key_file + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp);
  std::string line = created.key + "\n";
  bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  written = ::close(fd) == 0 && written;
  std::error_code ec;
  if (written) fs::rename(tmp, ready.key_file, ec);
  if (!written || ec) {
    fs::remove(tmp, ec);
    return Status::Internal("cannot write " + ready.key_file);
  }
  ready.key = created.key;
  return ready;
}

// Writes text to path via path.tmp, readable by the owner only.
Status WriteSecretFile(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp);
  bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  written = ::close(fd) == 0 && written;
  std::error_code ec;
  if (written) fs::rename(tmp, path, ec);
  if (!written || ec) {
    fs::remove(tmp, ec);
    return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

// 20 letters and digits without look-alikes (0/O, 1/l/I): about 113 bits.
std::string NewDemoPassword() {
  constexpr std::string_view kAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  if (sodium_init() < 0) std::abort();
  std::string out;
  for (int i = 0; i < 20; ++i) out += kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  return out;
}

// One user per role with the kept password (a new one when none is kept,
// then set on every demo user, so a lost file is healed by the next run).
Status DemoUsers(const std::string& dir, DemoReady* ready) {
  namespace fs = std::filesystem;
  struct Person {
    const char* role;
    const char* name;
    const char* department;
  };
  static constexpr Person kPeople[] = {
      {"admin", "Demo Administrator", "it"},   {"marketing", "Demo Marketer", "marketing"},
      {"sales", "Demo Seller", "sales"},       {"service", "Demo Service Agent", "service"},
      {"analyst", "Demo Analyst", "analytics"},
  };
  ready->password_file = (fs::path(dir) / kDemoPasswordFile).string();
  std::string kept;
  if (std::ifstream in(ready->password_file); in) std::getline(in, kept);
  bool fresh = kept.size() < 10;
  if (fresh) {
    kept = NewDemoPassword();
    RP_RETURN_IF_ERROR(WriteSecretFile(ready->password_file, kept + "\n"));
  }
  ready->password = kept;
  RP_ASSIGN_OR_RETURN(auto users, server::ListUsers(dir));
  for (const Person& p : kPeople) {
    std::string email = std::string(p.role) + "@" + kDemoEmailDomain;
    bool exists = std::any_of(users.begin(), users.end(), [&](const server::UserInfo& u) { return u.email == email; });
    if (!exists) {
      RP_RETURN_IF_ERROR(server::AddUser(dir, {email, p.name, p.department, {p.role}, kept}).status());
    } else if (fresh) {
      RP_RETURN_IF_ERROR(server::ResetUserPassword(dir, email, kept));
    }
  }
  return Status::Ok();
}

}  // namespace

void AddDemoOptions(CLI::App* demo, DemoArgs* args) {
  demo->footer("Generates the demo company into --data if it holds none yet (history up to --end-date, default\n"
               "today), publishes its decision model, actions, decision points and contact policies, serves the\n"
               "API and prints the URL and an admin API key named \"demo\". The key is kept in DATA/demo-key\n"
               "(mode 0600), so the next run prints the same key. It also adds one user per role\n"
               "(admin@demo.rapport.example, marketing@..., sales@..., service@..., analyst@...) who share one\n"
               "random password kept in DATA/demo-password (mode 0600) and printed too. SIGINT or SIGTERM stops it.\n"
               "Example: rapport demo --customers 50000 --listen 127.0.0.1:8080");
  demo->add_option("--data", args->data, "Data directory")->default_val("./demo-data");
  demo->add_option("--customers", args->customers, "Number of customers when generating")
      ->default_val(10000)
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  demo->add_option("--seed", args->seed, "Random seed")->default_val(1);
  demo->add_option("--end-date", args->end_date,
                   "The demo's today when generating (YYYY-MM-DD, default: today in UTC): history ends the day before");
  demo->add_option("--listen", args->listen, "Address to listen on")->default_val("127.0.0.1:8080");
}

Result<DemoReady> PrepareDemo(const DemoArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(a.data) / "rapport.db")) {
    // Generate beside the target and rename when complete, so an interrupted
    // run never leaves a half-made demo that a later run would serve.
    fs::path tmp = fs::path(a.data).string() + ".partial";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    demo::DemoOptions o;
    o.customers = a.customers;
    o.seed = a.seed;
    RP_ASSIGN_OR_RETURN(o.end, DemoEnd(a.end_date));
    std::printf("generating a demo company of %s customers into %s, history up to %s ...\n",
                Thousands(a.customers).c_str(), a.data.c_str(), DateOf(o.end).c_str());
    std::fflush(stdout);
    RP_RETURN_IF_ERROR(GenerateDemoStore(tmp.string(), o).status());
    fs::remove_all(a.data, ec);
    fs::rename(tmp, a.data, ec);
    if (ec) return Status::Internal("cannot move " + tmp.string() + " to " + a.data + ": " + ec.message());
  } else {
    std::printf("serving the existing demo in %s (delete it to generate a new one, up to today)\n", a.data.c_str());
    RP_RETURN_IF_ERROR(InstallDemoRules(a.data));
  }
  RP_ASSIGN_OR_RETURN(DemoReady ready, DemoKey(a.data));
  RP_RETURN_IF_ERROR(DemoUsers(a.data, &ready));
  return ready;
}

namespace {

struct GenerateArgs {
  std::string out, data, format = "csv", end_date;
  int64_t customers = 10000;
  uint64_t seed = 1;
};

int RunGenerate(const GenerateArgs& a) {
  demo::DemoOptions o;
  o.customers = a.customers;
  o.seed = a.seed;
  auto end = DemoEnd(a.end_date);
  if (!end.ok()) return Fail(end.status());
  o.end = *end;
  if (!a.data.empty()) {
    auto s = GenerateDemoStore(a.data, o);
    if (!s.ok()) return Fail(s.status());
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
      "The same --seed and --end-date give the same company, byte for byte.\n"
      "Example: rapport demo generate --out ./demo-files --customers 200000 --format csv");
  auto* out_opt = gen->add_option("--out", args->out, "Directory for the files (created if absent)");
  auto* data_opt = gen->add_option("--data", args->data, "Write into this data directory's store instead of files");
  out_opt->excludes(data_opt);
  gen->add_option("--customers", args->customers, "Number of customers (persons, households, organizations)")
      ->default_val(10000)
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  gen->add_option("--format", args->format, "File format")->default_val("csv")->check(CLI::IsMember({"csv", "ndjson"}));
  gen->add_option("--seed", args->seed, "Random seed")->default_val(1);
  gen->add_option("--end-date", args->end_date,
                  "The demo's today (YYYY-MM-DD, default: today in UTC): history ends the day before");
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
