// rapport serve, rapport keys create, and rapport demo (generate if absent,
// then serve): the commands that need the HTTP server.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/demo_run.h"
#include "common/net.h"
#include "common/process.h"
#include "server/server.h"

#include <spdlog/spdlog.h>

namespace rapport::cli {
namespace {

// Serves until SIGINT or SIGTERM, then drains (docs/operations.md).
int ServeUntilSignal(server::ServerOptions options, const std::string& banner_key,
                     const DemoReady* demo = nullptr) {
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
  if (demo != nullptr && !demo->password.empty()) {
    std::printf("sign in at %s/ as admin@%s (or marketing@, sales@, service@, analyst@) with the password\n"
                "kept in %s/%s:\n%s\n",
                (*srv)->url().c_str(), kDemoEmailDomain, options.data_dir.c_str(), kDemoPasswordFile,
                demo->password.c_str());
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
  int64_t session_idle_minutes = 480, session_max_hours = 168, lockout_minutes = 15;
  std::string log_level = "info";
  std::string accepted_years = "1900..2200";
};

struct KeyArgs {
  std::string data, role, name, prefix;
};

struct UserArgs {
  std::string data, email, name, department;
  std::vector<std::string> roles;
  bool password_stdin = false;
};

// One line of standard input, without its line end: the password of `users
// add` and `users password`, so it never shows in argv, the shell history or
// ps. On a terminal it asks for it without echo.
Result<std::string> ReadPassword() {
  bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::fprintf(stderr, "password: ");
    std::fflush(stderr);
    if (::tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
      tty = false;
    }
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fprintf(stderr, "\n");
  }
  if (!got && line.empty()) return Status::InvalidArgument("no password on standard input", "password-stdin");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string RolesOf(const server::UserInfo& u) {
  std::string out;
  for (server::Role r : u.roles) out += (out.empty() ? "" : ",") + std::string(server::RoleName(r));
  return out;
}

int RunDemo(const DemoArgs& a) {
  auto ready = PrepareDemo(a);
  if (!ready.ok()) return Fail(ready.status());
  server::ServerOptions so;
  so.data_dir = a.data;
  so.listen = a.listen;
  return ServeUntilSignal(so, ready->key, &*ready);
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
  s->add_flag("--secure-cookies", so.secure_cookies,
              "Mark the session cookie Secure (behind a TLS terminator: browsers then send it only over HTTPS)");
  s->add_option("--session-idle-minutes", serve->session_idle_minutes, "A sign-in session unused this long ends")
      ->default_val(serve->session_idle_minutes)->check(CLI::Range(int64_t{1}, int64_t{60 * 24 * 30}));
  s->add_option("--session-max-hours", serve->session_max_hours, "Every sign-in session ends this long after sign-in")
      ->default_val(serve->session_max_hours)->check(CLI::Range(int64_t{1}, int64_t{24 * 365}));
  s->add_option("--lockout-failures", so.lockout_failures,
                "Failed sign-ins of one e-mail within --lockout-minutes that lock it for --lockout-minutes")
      ->default_val(so.lockout_failures)->check(CLI::Range(1, 1000));
  s->add_option("--lockout-minutes", serve->lockout_minutes, "The window failed sign-ins are counted in, and the lock")
      ->default_val(serve->lockout_minutes)->check(CLI::Range(int64_t{1}, int64_t{60 * 24}));
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
                    o.session_idle = std::chrono::minutes(serve->session_idle_minutes);
                    o.session_max = std::chrono::hours(serve->session_max_hours);
                    o.lockout_duration = std::chrono::minutes(serve->lockout_minutes);
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

  CLI::App* users = app.add_subcommand("users", "Manage the people who sign in to the web workspace");
  users->require_subcommand(1);
  auto user = std::make_shared<UserArgs>();
  CLI::App* add = users->add_subcommand("add", "Add a user; the password is read from standard input");
  add->footer("Roles: admin, marketing, sales, service, analyst (repeat --role for several).\n"
              "The password is the first line of standard input; on a terminal it is asked for without echo.\n"
              "Example: rapport users add --data ./data --email ana@example.com --name \"Ana Weber\" --role marketing "
              "--department marketing --password-stdin < password.txt");
  add->add_option("--data", user->data, "Data directory")->required();
  add->add_option("--email", user->email, "E-mail address the user signs in with (stored lower-cased)")->required();
  add->add_option("--name", user->name, "The user's name")->required();
  add->add_option("--role", user->roles, "A role of the user; repeat for several")
      ->required()
      ->check(CLI::IsMember({"admin", "marketing", "sales", "service", "analyst"}));
  add->add_option("--department", user->department, "The user's department (marketing, sales, service, analytics, it ...)");
  add->add_flag("--password-stdin", user->password_stdin, "Read the password (10 to 256 characters) from standard input")
      ->required();
  out->push_back({add, [user] {
                    auto password = ReadPassword();
                    if (!password.ok()) return Fail(password.status());
                    server::NewUserSpec spec{user->email, user->name, user->department, user->roles, *password};
                    auto u = server::AddUser(user->data, spec);
                    if (!u.ok()) return Fail(u.status());
                    std::printf("added user %lld %s (%s)\n", static_cast<long long>(u->id), u->email.c_str(),
                                RolesOf(*u).c_str());
                    return kExitOk;
                  }});

  CLI::App* ulist = users->add_subcommand("list", "List users: id, e-mail, roles, department, state, name");
  ulist->add_option("--data", user->data, "Data directory")->required();
  out->push_back({ulist, [user] {
                    auto all = server::ListUsers(user->data);
                    if (!all.ok()) return Fail(all.status());
                    std::printf("%-6s  %-32s  %-24s  %-12s  %-8s  %s\n", "ID", "EMAIL", "ROLES", "DEPARTMENT", "STATE",
                                "NAME");
                    for (const auto& u : *all) {
                      std::printf("%-6lld  %-32s  %-24s  %-12s  %-8s  %s\n", static_cast<long long>(u.id),
                                  u.email.c_str(), RolesOf(u).c_str(), u.department.empty() ? "-" : u.department.c_str(),
                                  u.disabled ? "disabled" : "active", u.name.c_str());
                    }
                    return kExitOk;
                  }});

  CLI::App* disable = users->add_subcommand("disable", "Disable a user and end their sessions at once");
  disable->add_option("email", user->email, "The user's e-mail")->required();
  disable->add_option("--data", user->data, "Data directory")->required();
  out->push_back({disable, [user] {
                    Status s = server::DisableUser(user->data, user->email);
                    if (!s.ok()) return Fail(s);
                    std::printf("disabled %s; their sessions are ended\n", user->email.c_str());
                    return kExitOk;
                  }});

  CLI::App* password = users->add_subcommand(
      "password", "Reset a user's password (read from standard input); ends their sessions and lifts a lockout");
  password->add_option("email", user->email, "The user's e-mail")->required();
  password->add_option("--data", user->data, "Data directory")->required();
  password->add_flag("--password-stdin", user->password_stdin, "Read the new password from standard input")->required();
  out->push_back({password, [user] {
                    auto pw = ReadPassword();
                    if (!pw.ok()) return Fail(pw.status());
                    Status s = server::ResetUserPassword(user->data, user->email, *pw);
                    if (!s.ok()) return Fail(s);
                    std::printf("set a new password for %s; their sessions are ended\n", user->email.c_str());
                    return kExitOk;
                  }});

  auto d = std::make_shared<DemoArgs>();
  AddDemoOptions(demo, d.get());
  out->push_back({demo, [d] { return RunDemo(*d); }});
}

}  // namespace rapport::cli
