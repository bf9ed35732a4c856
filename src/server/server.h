#pragma once
// The Rapport HTTP API server: JSON over HTTP/1.1 under /v1/, API keys with
// roles, RFC 9457 problem documents, and the OpenAPI document at
// /v1/openapi.json. The CLI's `rapport serve` and `rapport keys create` call
// into this header; nothing else in the module is public.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"
#include "ingest/tracking.h"

namespace rapport::server {

struct ServerOptions {
  std::string data_dir;                 // holds rapport.db; created if absent
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
  int io_threads = 2;                   // socket I/O
  // Request handlers. A Segment tracking call holds its worker until the
  // group commit that makes it durable, so with few workers a burst of
  // tracking calls leaves none for other routes; waiting threads cost
  // nothing. (Ingest rates with 4 and 16 were within the machine's noise.)
  int worker_threads = 16;
  size_t queue_capacity = 256;          // requests waiting for a worker; beyond it: 503
  // Heavy reads (segment previews, counts and members, analytics queries,
  // identity model training and households) run on a pool of their own, so
  // writes and tracking never wait behind them.
  int heavy_threads = 2;
  size_t heavy_queue_capacity = 16;     // heavy reads waiting; beyond it: 503
  // Stop() lets running requests finish this long, then cancels them.
  std::chrono::milliseconds drain_timeout{10'000};
  // One line per request: "off", "stderr", or a file path (appended to).
  std::string access_log = "stderr";
  size_t max_body_bytes = 1 << 20;      // beyond it: 413
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  bool durable = true;                  // fsync every commit (SQLite synchronous=FULL)
  // Roles without pii:read see no analytics group and no segment preview
  // count below this many customers (docs/segments.md, "Personal data").
  int min_group_size = 5;
  // Internal addresses webhooks and other user-given URLs may reach past the
  // outbound deny list (loopback, private, link-local, metadata ...): CIDR
  // blocks, comma separated ("10.20.0.0/16,192.168.1.5"). Empty: none.
  // `rapport serve --outbound-allow`; docs/configuration.md.
  std::string outbound_allow;
  // Change-feed retention (docs/operations.md, "The change feed"): changes
  // older than this that every live subscriber has acknowledged are deleted.
  // Zero keeps every change.
  std::chrono::seconds feed_retention{std::chrono::hours(24 * 7)};
  // Sign-in sessions of the web workspace (docs/configuration.md, "People
  // and sign-in"). secure_cookies: the session cookie carries Secure, for
  // deployments behind a TLS terminator.
  bool secure_cookies = false;
  std::chrono::minutes session_idle{480};  // a session unused this long ends
  std::chrono::hours session_max{168};     // and every session ends this long after sign-in
  // lockout_failures failed sign-ins of one e-mail within lockout_duration
  // lock it for lockout_duration.
  int lockout_failures = 5;
  std::chrono::minutes lockout_duration{15};
  // Argon2id cost of password hashes: 0 takes libsodium's INTERACTIVE
  // limits; lower values are raised to libsodium's minimum. Tests lower it.
  uint64_t password_ops_limit = 0;
  size_t password_mem_limit = 0;
  // The clock of sessions and lockouts; null: the system clock. Not owned.
  const Clock* clock = nullptr;
};

// Departments' roles. Each grants a fixed set of permissions (docs/api.md):
// admin everything; marketing, sales and service read and write customers
// within their department's remit; analyst reads only, with PII masked.
enum class Role { kAdmin, kMarketing, kSales, kService, kAnalyst };
std::string_view RoleName(Role r);
Result<Role> ParseRole(std::string_view name);  // "admin", "marketing", ...

struct CreatedKey {
  std::string key;     // the secret, shown once: "rpk_<prefix>_<secret>"
  std::string prefix;  // public part, safe to log and list
  Role role = Role::kAnalyst;
};

// `rapport keys create --data DIR --role ROLE`: creates a random API key in
// DIR/rapport.db (creating the directory and database if absent) and returns
// it. Only a BLAKE2b hash of the key is stored. Safe while a server runs on
// the same directory.
Result<CreatedKey> CreateApiKey(const std::string& data_dir, std::string_view role, std::string_view name = "");

// `rapport keys list` and `rapport keys revoke`. A revoked key is refused
// by a running server within 60 seconds (verified keys are cached that long).
struct ApiKeyInfo {
  std::string prefix;
  Role role = Role::kAnalyst;
  std::string name;  // what the key is for, e.g. "billing sync"
  Timestamp created_at;
  std::optional<Timestamp> revoked_at;
};
Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& data_dir);  // oldest first
// NotFound (field "prefix") when no such key; revoking twice is harmless.
Status RevokeApiKey(const std::string& data_dir, std::string_view prefix);
// The listing of key when it is one of DIR's keys and not revoked (the
// hash checked, as a request would be); Unauthenticated otherwise. For
// `rapport demo`, which reuses the key it kept.
Result<ApiKeyInfo> VerifyApiKey(const std::string& data_dir, std::string_view key);

// People who sign in to the web workspace (docs/api.md, "People and
// sign-in"). Passwords are stored as Argon2id hashes only.
struct UserInfo {
  int64_t id = 0;
  std::string email;  // lower-cased, unique
  std::string name;
  std::string department;
  std::vector<Role> roles;  // sorted, at least one
  bool disabled = false;
  Timestamp created_at;
  Timestamp updated_at;
};

struct NewUserSpec {
  std::string email, name, department;
  std::vector<std::string> roles;  // role names
  std::string password;            // 10 to 256 characters of UTF-8
};

// `rapport users add|list|disable|password --data DIR`, on DIR/rapport.db
// (created if absent), safe while a server runs on it. Errors name the field
// as --email, --role ... would: "/email", "/roles", "/password".
Result<UserInfo> AddUser(const std::string& data_dir, const NewUserSpec& spec);
Result<std::vector<UserInfo>> ListUsers(const std::string& data_dir);  // by id
// Disables the user and ends their sessions at once; NotFound naming
// "email" when there is no such user. Disabling twice is harmless.
Status DisableUser(const std::string& data_dir, std::string_view email);
// Sets a new password, ends the user's sessions and lifts a lockout.
Status ResetUserPassword(const std::string& data_dir, std::string_view email, std::string_view password);

// Serves the API over DIR/rapport.db. Start/Stop/Wait from any one thread;
// requests are served concurrently on the worker pool.
class Server {
 public:
  // Opens the database and the customer store and applies migrations.
  static Result<std::unique_ptr<Server>> Open(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();          // binds and starts serving; returns at once
  uint16_t port() const;   // the bound port, after Start
  std::string url() const;  // "http://127.0.0.1:PORT"
  // Drains: stops accepting, lets running requests finish up to
  // drain_timeout, then raises their cancelled flags and waits one second
  // more. Returns the number of requests still running then (0 normally).
  // If not 0, their threads still use the server: do not destroy it, end
  // the process (acknowledged writes are committed already).
  size_t Stop();
  void Wait();             // blocks until Stop() completes

  // For later capabilities registering 360-view sections before Start.
  customer::CustomerStore& customers();
  // The change feed (tracked events, and derived ones such as
  // segment.entered with seq 0), for later capabilities such as triggers.
  // Subscribers run on the publishing thread: keep them short.
  int64_t SubscribeToChanges(ingest::EventSubscriber subscriber);

  // Every route as "METHOD /pattern", for documentation checks.
  std::vector<std::string> Routes() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `rapport serve`: waits for SIGINT or SIGTERM (blocked beforehand with
// rapport::BlockStopSignals, before Open, so no server thread takes them),
// then drains (Stop) and returns 0. When requests were still stuck after the
// drain, ends the process at once with status 0 instead of destroying the
// server under them: every acknowledged write is committed already.
int ServeUntilStopSignal(Server& server);

}  // namespace rapport::server
