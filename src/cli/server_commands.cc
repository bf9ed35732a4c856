// rapport serve, rapport keys create, and rapport demo (generate if absent,
// then serve): the commands that need the HTTP server.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/demo_run.h"
#include "server/server.h"

#include <spdlog/spdlog.h>

namespace rapport::cli {
namespace {

// Serves until SIGINT or SIGTERM, then stops cleanly (running requests finish).
int ServeUntilSignal(server::ServerOptions options, const std::string& banner_key) {
  // Block the signals in every thread the server starts; one thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto srv = server::Server::Open(options);
  if (!srv.ok()) return Fail(srv.status());
  Status started = (*srv)->Start();
  if (!started.ok()) return Fail(started);
  std::printf("Rapport is serving %s at %s\n", options.data_dir.c_str(), (*srv)->url().c_str());
  if (!banner_key.empty()) {
    std::printf("admin API key (shown once; keys are stored hashed):\n%s\n", banner_key.c_str());
    std::printf("try: curl -H 'Authorization: Bearer %s' %s/v1/customers?q=schmidt\n", banner_key.c_str(),
                (*srv)->url().c_str());
  }
  std::printf("press Ctrl-C to stop\n");
  std::fflush(stdout);
  server::Server* s = srv->get();
  std::thread watcher([&set, s] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "\nrapport: stopping (signal %d)\n", sig);
    s->Stop();
  });
  s->Wait();
  // Wait returns after Stop; if it returned for another reason, wake the watcher.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  std::printf("stopped\n");
  return kExitOk;
}

struct ServeArgs {
  std::string data;
  server::ServerOptions options;  // the defaults documented in docs/configuration.md
  int64_t request_timeout_ms = 30000, idle_timeout_ms = 60000;
  std::string log_level = "info";
  std::string accepted_years = "1900..2200";
};

struct KeyArgs {
  std::string data, role, name, prefix;
};

struct DemoArgs {
  std::string data = "./demo-data", listen = "127.0.0.1:8080";
  int64_t customers = 10000;
  uint64_t seed = 1;
};

int RunDemo(const DemoArgs& a) {
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
    std::printf("generating a demo company of %s customers into %s ...\n", Thousands(a.customers).c_str(),
                a.data.c_str());
    std::fflush(stdout);
    auto stats = GenerateDemoStore(tmp.string(), o);
    if (!stats.ok()) return Fail(stats.status());
    PrintDemoStats(*stats);
    fs::remove_all(a.data, ec);
    fs::rename(tmp, a.data, ec);
    if (ec) return Fail(Status::Internal("cannot move " + tmp.string() + " to " + a.data + ": " + ec.message()));
  } else {
    std::printf("serving the existing demo in %s (delete it to generate a new one)\n", a.data.c_str());
  }
  auto key = server::CreateApiKey(a.data, "admin");
  if (!key.ok()) return Fail(key.status());
  server::ServerOptions so;
  so.data_dir = a.data;
  so.listen = a.listen;
  return ServeUntilSignal(so, key->key);
}

}  // namespace

void AddServerCommands(CLI::App& app, CLI::App* demo, std::vector<Command>* out) {
  auto serve = std::make_shared<ServeArgs>();
  CLI::App* s = app.add_subcommand("serve", "Serve the HTTP API over a data directory");
  s->footer("SIGINT or SIGTERM stops the server after running requests finish.\n"
            "Example: rapport serve --data ./data --listen 0.0.0.0:8080");
  server::ServerOptions& so = serve->options;
  s->add_option("--data", serve->data, "Data directory (holds rapport.db; created if absent)")->required();
  s->add_option("--listen", so.listen, "Address to listen on, host:port (port 0 picks a free one)")
      ->default_val("127.0.0.1:8080");
  s->add_option("--io-threads", so.io_threads, "Threads reading and writing sockets")
      ->default_val(so.io_threads)->check(CLI::Range(1, 64));
  s->add_option("--workers", so.worker_threads, "Threads running request handlers")
      ->default_val(so.worker_threads)->check(CLI::Range(1, 256));
  s->add_option("--queue", so.queue_capacity, "Requests waiting for a worker before 503 Retry-After")
      ->default_val(so.queue_capacity)->check(CLI::Range(1, 1000000));
  s->add_option("--max-body", so.max_body_bytes, "Largest request body in bytes (larger: 413)")
      ->default_val(so.max_body_bytes)->check(CLI::Range(1024, 1 << 30));
  s->add_option("--request-timeout-ms", serve->request_timeout_ms, "Time to receive a whole request")
      ->default_val(serve->request_timeout_ms)->check(CLI::Range(100, 3600000));
  s->add_option("--idle-timeout-ms", serve->idle_timeout_ms, "Idle keep-alive connections close after this")
      ->default_val(serve->idle_timeout_ms)->check(CLI::Range(100, 3600000));
  s->add_option("--log-level", serve->log_level, "Log level on standard error")
      ->default_val("info")->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  s->add_option("--accepted-years", serve->accepted_years,
                "Years every timestamp and date given to the server must fall in, MIN..MAX")
      ->default_val(serve->accepted_years)
      ->check(CLI::Validator(
          [](std::string& v) { return ParseYearRange(v).ok() ? std::string() : "expected MIN..MAX, e.g. 1900..2200"; },
          "MIN..MAX"));
  out->push_back({s, [serve] {
                    SetAcceptedYears(*ParseYearRange(serve->accepted_years));
                    server::ServerOptions o = serve->options;
                    o.data_dir = serve->data;
                    o.request_timeout = std::chrono::milliseconds(serve->request_timeout_ms);
                    o.idle_timeout = std::chrono::milliseconds(serve->idle_timeout_ms);
                    spdlog::set_level(spdlog::level::from_str(serve->log_level));
                    return ServeUntilSignal(o, "");
                  }});

  CLI::App* keys = app.add_subcommand("keys", "Manage API keys");
  keys->require_subcommand(1);
  auto key = std::make_shared<KeyArgs>();
  CLI::App* create = keys->add_subcommand("create", "Create an API key; prints the key last (it is shown only once)");
  create->footer("Roles: admin, marketing, sales, service, analyst.\n"
                 "Example: rapport keys create --data ./data --role marketing");
  create->add_option("--data", key->data, "Data directory")->required();
  create->add_option("--role", key->role, "Role the key acts as")
      ->required()
      ->check(CLI::IsMember({"admin", "marketing", "sales", "service", "analyst"}));
  create->add_option("--name", key->name, "What the key is for, shown by keys list (e.g. \"billing sync\")");
  out->push_back({create, [key] {
                    auto k = server::CreateApiKey(key->data, key->role, key->name);
                    if (!k.ok()) return Fail(k.status());
                    std::printf("created %s key %s (the prefix is safe to log; the key is stored hashed)\n",
                                std::string(server::RoleName(k->role)).c_str(), k->prefix.c_str());
                    std::printf("%s\n", k->key.c_str());
                    return kExitOk;
                  }});

  CLI::App* list = keys->add_subcommand("list", "List API keys: prefix, role, name, created, revoked");
  list->add_option("--data", key->data, "Data directory")->required();
  out->push_back({list, [key] {
                    auto keys = server::ListApiKeys(key->data);
                    if (!keys.ok()) return Fail(keys.status());
                    std::printf("%-12s  %-9s  %-20s  %-20s  %s\n", "PREFIX", "ROLE", "CREATED", "REVOKED", "NAME");
                    for (const auto& k : *keys) {
                      std::printf("%-12s  %-9s  %-20s  %-20s  %s\n", k.prefix.c_str(),
                                  std::string(server::RoleName(k.role)).c_str(), FormatRfc3339(k.created_at).substr(0, 19).c_str(),
                                  k.revoked_at ? FormatRfc3339(*k.revoked_at).substr(0, 19).c_str() : "-", k.name.c_str());
                    }
                    return kExitOk;
                  }});
  CLI::App* revoke = keys->add_subcommand("revoke", "Revoke an API key by its prefix (a running server refuses it within 60 s)");
  revoke->add_option("prefix", key->prefix, "The key's prefix, as keys list shows it")->required();
  revoke->add_option("--data", key->data, "Data directory")->required();
  out->push_back({revoke, [key] {
                    Status s = server::RevokeApiKey(key->data, key->prefix);
                    if (!s.ok()) return Fail(s);
                    std::printf("revoked %s\n", key->prefix.c_str());
                    return kExitOk;
                  }});

  auto d = std::make_shared<DemoArgs>();
  demo->footer("Generates the demo company into --data if it holds none yet, creates a fresh admin API key,\n"
               "serves the API and prints the URL and the key. SIGINT or SIGTERM stops it.\n"
               "Example: rapport demo --customers 50000 --listen 127.0.0.1:8080");
  demo->add_option("--data", d->data, "Data directory")->default_val("./demo-data");
  demo->add_option("--customers", d->customers, "Number of customers when generating")
      ->default_val(10000)
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  demo->add_option("--seed", d->seed, "Random seed")->default_val(1);
  demo->add_option("--listen", d->listen, "Address to listen on")->default_val("127.0.0.1:8080");
  out->push_back({demo, [d] { return RunDemo(*d); }});
}

}  // namespace rapport::cli
