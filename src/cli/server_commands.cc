// rapport serve, rapport keys create, and rapport demo (generate if absent,
// then serve): the commands that need the HTTP server.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/demo_run.h"
#include "common/net.h"
#include "common/process.h"
#include "server/server.h"

#include <spdlog/spdlog.h>

namespace rapport::cli {
namespace {

// Serves until SIGINT or SIGTERM, then drains (docs/operations.md).
int ServeUntilSignal(server::ServerOptions options, const std::string& banner_key) {
  // Blocked in every thread the server starts; ServeUntilStopSignal waits for them.
  BlockStopSignals();
  auto srv = server::Server::Open(options);
  if (!srv.ok()) return Fail(srv.status());
  Status started = (*srv)->Start();
  if (!started.ok()) return Fail(started);
  std::printf("Rapport is serving %s at %s\n", options.data_dir.c_str(), (*srv)->url().c_str());
  if (!banner_key.empty()) {
    // Only the demo passes a key: its own, kept in DIR/demo-key (demo_run.h).
    std::printf("admin API key \"%s\" (kept in %s/%s; the next run prints the same one):\n%s\n", kDemoKeyName,
                options.data_dir.c_str(), kDemoKeyFile, banner_key.c_str());
    std::printf("try:\n  export RAPPORT=%s KEY=%s\n  curl -H \"Authorization: Bearer $KEY\" "
                "\"$RAPPORT/v1/customers?q=schmidt&limit=5\"\n",
                (*srv)->url().c_str(), banner_key.c_str());
  }
  std::printf("press Ctrl-C to stop\n");
  std::fflush(stdout);
  int code = server::ServeUntilStopSignal(**srv);
  srv->reset();  // closes the stores: the tracker's last group commit, the databases
  std::printf("stopped\n");
  return code;
}

struct ServeArgs {
  std::string data;
  server::ServerOptions options;  // the defaults documented in docs/configuration.md
  int64_t request_timeout_ms = 30000, idle_timeout_ms = 60000, drain_timeout_ms = 10000;
  int64_t feed_retention_hours = 24 * 7;
  std::string log_level = "info";
  std::string accepted_years = "1900..2200";
};

struct KeyArgs {
  std::string data, role, name, prefix;
};

int RunDemo(const DemoArgs& a) {
  auto ready = PrepareDemo(a);
  if (!ready.ok()) return Fail(ready.status());
  server::ServerOptions so;
  so.data_dir = a.data;
  so.listen = a.listen;
  return ServeUntilSignal(so, ready->key);
}

}  // namespace

void AddServerCommands(CLI::App& app, CLI::App* demo, std::vector<Command>* out) {
  auto serve = std::make_shared<ServeArgs>();
  CLI::App* s = app.add_subcommand("serve", "Serve the HTTP API over a data directory");
  s->footer("SIGINT or SIGTERM stops the server: running requests get --drain-timeout-ms to finish.\n"
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
  s->add_option("--heavy-workers", so.heavy_threads,
                "Threads for heavy reads (segment previews and members, analytics), apart from the workers")
      ->default_val(so.heavy_threads)->check(CLI::Range(1, 256));
  s->add_option("--heavy-queue", so.heavy_queue_capacity, "Heavy reads waiting for a heavy worker before 503")
      ->default_val(so.heavy_queue_capacity)->check(CLI::Range(1, 1000000));
  s->add_option("--max-body", so.max_body_bytes, "Largest request body in bytes (larger: 413)")
      ->default_val(so.max_body_bytes)->check(CLI::Range(1024, 1 << 30));
  s->add_option("--request-timeout-ms", serve->request_timeout_ms, "Time to receive a whole request")
      ->default_val(serve->request_timeout_ms)->check(CLI::Range(100, 3600000));
  s->add_option("--idle-timeout-ms", serve->idle_timeout_ms, "Idle keep-alive connections close after this")
      ->default_val(serve->idle_timeout_ms)->check(CLI::Range(100, 3600000));
  s->add_option("--min-group-size", so.min_group_size,
                "Smallest analytics group or segment preview count shown to roles without pii:read")
      ->default_val(so.min_group_size)->check(CLI::Range(1, 1000000));
  s->add_option("--drain-timeout-ms", serve->drain_timeout_ms,
                "On SIGTERM, how long running requests may finish before they are cancelled")
      ->default_val(serve->drain_timeout_ms)->check(CLI::Range(0, 3600000));
  s->add_option("--outbound-allow", so.outbound_allow,
                "Internal addresses webhooks may reach past the deny list (loopback, private, link-local, "
                "metadata), as CIDR[,CIDR...]")
      ->check(CLI::Validator(
          [](std::string& v) {
            auto p = net::OutboundPolicy::Parse(v);
            return p.ok() ? std::string() : p.status().message();
          },
          "CIDR[,CIDR...]"));
  s->add_option("--feed-retention-hours", serve->feed_retention_hours,
                "Change-feed records older than this that every live subscriber has processed are deleted; 0 keeps all")
      ->default_val(serve->feed_retention_hours)->check(CLI::Range(int64_t{0}, int64_t{24 * 365 * 10}));
  s->add_option("--access-log", so.access_log, "One line per request: off, stderr, or a file to append to")
      ->default_val(so.access_log);
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
                    o.drain_timeout = std::chrono::milliseconds(serve->drain_timeout_ms);
                    o.feed_retention = std::chrono::hours(serve->feed_retention_hours);
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
  AddDemoOptions(demo, d.get());
  out->push_back({demo, [d] { return RunDemo(*d); }});
}

}  // namespace rapport::cli
