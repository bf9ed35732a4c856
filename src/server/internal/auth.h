#pragma once
// API keys and role-based access. A key is "rpk_<prefix>_<secret>": the
// prefix finds the row, the BLAKE2b hash of the whole key proves it. Keys
// live in the server module's table server_api_keys; the secret is never
// stored or logged.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
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
};
std::string_view PermissionName(Permission p);  // "customers:read"
bool RoleAllows(Role role, Permission p);

struct Principal {
  std::string key_prefix;
  Role role = Role::kAnalyst;
  bool Can(Permission p) const { return RoleAllows(role, p); }
};

Status MigrateKeys(storage::Database& db);

// Verifies bearer keys against the database, caching verified keys for a
// minute so a request costs a hash, not a query. Thread-safe.
class KeyVerifier {
 public:
  explicit KeyVerifier(storage::Database* db) : db_(db) {}
  // The principal of an "Authorization: Bearer <key>" header value.
  // Unauthenticated when absent, malformed, unknown or revoked.
  Result<Principal> Verify(std::string_view authorization);

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

}  // namespace rapport::server::internal
