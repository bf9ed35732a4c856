#pragma once
// API keys and role-based access. A key is "rpk_<prefix>_<secret>": the
// prefix finds the row, the BLAKE2b hash of the whole key proves it. Keys
// live in the server module's table server_api_keys; the secret is never
// stored or logged.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/internal/users.h"
#include "server/server.h"
#include "storage/storage.h"

namespace rapport::server::internal {

enum class Permission {
  kCustomersRead,     // read customers, search, history, view, catalog
  kCustomersWrite,    // create and change customers and relationships
  kCommerceWrite,     // accounts and transactions
  kInteractionsWrite,
  kConsentsWrite,
  kPiiRead,           // see PII attributes unmasked
  kCatalogWrite,      // define attributes
  kRulesWrite,        // upload decision models, edit actions, decision points, policies, triggers
  kRulesApprove,      // review, approve, publish and roll back decision models
  kDecide,            // ask for next best actions and record responses
  kCasesWrite,        // create, assign and close cases and tasks; acknowledge alerts
  kUsersAdmin,        // manage users (and reset their passwords) and API keys
};
std::string_view PermissionName(Permission p);  // "customers:read"
bool RoleAllows(Role role, Permission p);

// Every permission, in the order of the table in docs/api.md.
const std::vector<Permission>& AllPermissions();

// Who made a request: an API key (a system) or a signed-in user (a person,
// through the session cookie), with the union of their roles' permissions.
struct Principal {
  std::string key_prefix;  // the API key's public prefix; empty for a user
  int64_t user_id = 0;     // the signed-in user; 0 for an API key
  std::string email;       // the signed-in user's
  std::vector<Role> roles;
  // The session a signed-in user's request came with; empty for a key.
  std::optional<ActiveSession> session;

  static Principal ForKey(std::string prefix, Role role) {
    Principal p;
    p.key_prefix = std::move(prefix);
    p.roles = {role};
    return p;
  }
  static Principal ForSession(ActiveSession s) {
    Principal p;
    p.user_id = s.user.id;
    p.email = s.user.email;
    p.roles = s.user.roles;
    p.session = std::move(s);
    return p;
  }
  bool Can(Permission p) const;
  bool Has(Role r) const;
  // "key:<prefix>" or "user:<id>": who did something, for audit trails and
  // the access log (never a secret).
  std::string Actor() const;
  // "the analyst role lacks" or "the marketing and sales roles lack".
  std::string Lacks() const;
};

Status MigrateKeys(storage::Database& db);
// DIR/rapport.db with the server module's tables, creating both if absent:
// for the CLI's keys and users commands.
Result<std::unique_ptr<storage::Database>> OpenServerDatabase(const std::string& data_dir);

// Verifies bearer keys against the database, caching verified keys for a
// minute so a request costs a hash, not a query. Thread-safe.
class KeyVerifier {
 public:
  explicit KeyVerifier(storage::Database* db) : db_(db) {}
  // The principal of an "Authorization: Bearer <key>" header value.
  // Unauthenticated when absent, malformed, unknown or revoked.
  Result<Principal> Verify(std::string_view authorization);
  // Drops a revoked key from the cache, so this server refuses it at once.
  void Forget(const std::string& prefix);

 private:
  struct Cached {
    std::string hash;
    Role role;
    std::chrono::steady_clock::time_point expires;
  };
  storage::Database* db_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;  // by prefix; guarded by mu_
};

Result<CreatedKey> CreateKey(storage::Database& db, Role role, Timestamp now, std::string_view name = "");
Result<std::vector<ApiKeyInfo>> ListKeys(storage::Database& db);  // oldest first
// NotFound naming "prefix" when no key has it; revoking twice is harmless.
Status RevokeKey(storage::Database& db, std::string_view prefix, Timestamp now);

}  // namespace rapport::server::internal
