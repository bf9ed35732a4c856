#include "server/internal/auth.h"

#include <sodium.h>

#include <filesystem>
#include <system_error>

namespace rapport::server {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kMarketing: return "marketing";
    case Role::kSales: return "sales";
    case Role::kService: return "service";
    case Role::kAnalyst: return "analyst";
  }
  return "analyst";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAdmin, Role::kMarketing, Role::kSales, Role::kService, Role::kAnalyst}) {
    if (RoleName(r) == name) return r;
  }
  return Status::InvalidArgument("role must be admin, marketing, sales, service or analyst, not '" +
                                     std::string(name) + "'",
                                 "role");
}

namespace {

Result<std::unique_ptr<storage::Database>> OpenKeys(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::Internal("cannot create data directory " + data_dir + ": " + ec.message());
  RP_ASSIGN_OR_RETURN(auto db, storage::OpenSqlite((std::filesystem::path(data_dir) / "rapport.db").string()));
  RP_RETURN_IF_ERROR(internal::MigrateKeys(*db));
  return db;
}

}  // namespace

Result<CreatedKey> CreateApiKey(const std::string& data_dir, std::string_view role, std::string_view name) {
  RP_ASSIGN_OR_RETURN(Role r, ParseRole(role));
  if (name.size() > 200) return Status::InvalidArgument("a key's name is at most 200 bytes", "name");
  RP_ASSIGN_OR_RETURN(auto db, OpenKeys(data_dir));
  return internal::CreateKey(*db, r, SystemClock::Default()->Now(), name);
}

Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& data_dir) {
  RP_ASSIGN_OR_RETURN(auto db, OpenKeys(data_dir));
  std::vector<ApiKeyInfo> out;
  RP_RETURN_IF_ERROR(db->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT prefix, role, name, created_at, revoked_at FROM server_api_keys "
                                        "ORDER BY created_at, prefix"));
    for (const auto& row : r.rows) {
      ApiKeyInfo k;
      k.prefix = row[0].AsText();
      RP_ASSIGN_OR_RETURN(k.role, ParseRole(row[1].AsText()));
      k.name = row[2].AsText();
      k.created_at = Timestamp{row[3].AsInt()};
      if (!row[4].is_null()) k.revoked_at = Timestamp{row[4].AsInt()};
      out.push_back(std::move(k));
    }
    return Status::Ok();
  }));
  return out;
}

Status RevokeApiKey(const std::string& data_dir, std::string_view prefix) {
  RP_ASSIGN_OR_RETURN(auto db, OpenKeys(data_dir));
  return db->WithTransaction([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT revoked_at FROM server_api_keys WHERE prefix = ?", {std::string(prefix)}));
    if (r.empty()) return Status::NotFound("no API key has the prefix '" + std::string(prefix) + "'", "prefix");
    if (!r.rows[0][0].is_null()) return Status::Ok();
    return c.Execute("UPDATE server_api_keys SET revoked_at = ? WHERE prefix = ?",
                     {SystemClock::Default()->Now().micros, std::string(prefix)})
        .status();
  });
}

Result<ApiKeyInfo> VerifyApiKey(const std::string& data_dir, std::string_view key) {
  RP_ASSIGN_OR_RETURN(auto db, OpenKeys(data_dir));
  internal::KeyVerifier verifier(db.get());
  RP_ASSIGN_OR_RETURN(internal::Principal p, verifier.Verify("Bearer " + std::string(key)));
  RP_ASSIGN_OR_RETURN(auto keys, ListApiKeys(data_dir));
  for (auto& k : keys) {
    if (k.prefix == p.key_prefix) return std::move(k);
  }
  return Status::Unauthenticated("the API key is not one of " + data_dir + "'s");
}

}  // namespace rapport::server

namespace rapport::server::internal {
namespace {

constexpr std::string_view kKeyTag = "rpk_";
constexpr size_t kPrefixBytes = 6;   // 12 hex characters
constexpr size_t kSecretBytes = 32;  // 256 bits

const std::vector<storage::Migration>& Migrations() {
  static const std::vector<storage::Migration> kMigrations = {
      {1, "API keys, stored as BLAKE2b hashes",
       "CREATE TABLE server_api_keys ("
       "  prefix TEXT PRIMARY KEY,"
       "  hash TEXT NOT NULL,"
       "  role TEXT NOT NULL,"
       "  created_at BIGINT NOT NULL,"
       "  revoked_at BIGINT"
       ")"},
      {2, "API keys carry a name saying what they are for",
       "ALTER TABLE server_api_keys ADD COLUMN name TEXT NOT NULL DEFAULT ''"},
  };
  return kMigrations;
}

Status InitSodium() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  return Status::Ok();
}

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

std::string HashKey(std::string_view key) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  return Hex(h, sizeof h);
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "rpk_<prefix>_<secret>" -> prefix, or "" when the shape is wrong.
std::string PrefixOf(std::string_view key) {
  if (key.substr(0, kKeyTag.size()) != kKeyTag) return "";
  std::string_view rest = key.substr(kKeyTag.size());
  if (rest.size() != kPrefixBytes * 2 + 1 + kSecretBytes * 2 || rest[kPrefixBytes * 2] != '_') return "";
  std::string_view prefix = rest.substr(0, kPrefixBytes * 2);
  if (!IsLowerHex(prefix) || !IsLowerHex(rest.substr(kPrefixBytes * 2 + 1))) return "";
  return std::string(prefix);
}

}  // namespace

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kCustomersRead: return "customers:read";
    case Permission::kCustomersWrite: return "customers:write";
    case Permission::kCommerceWrite: return "commerce:write";
    case Permission::kInteractionsWrite: return "interactions:write";
    case Permission::kConsentsWrite: return "consents:write";
    case Permission::kPiiRead: return "pii:read";
    case Permission::kCatalogWrite: return "catalog:write";
    case Permission::kRulesWrite: return "rules:write";
    case Permission::kRulesApprove: return "rules:approve";
    case Permission::kDecide: return "decide";
    case Permission::kCasesWrite: return "cases:write";
  }
  return "unknown";
}

// The permission table. Marketing owns consent and campaigns' contacts; sales
// owns accounts and transactions; service records interactions and consent
// changes customers ask for; analysts read, with PII masked.
bool RoleAllows(Role role, Permission p) {
  using P = Permission;
  switch (role) {
    case Role::kAdmin: return true;
    case Role::kMarketing:
      return p == P::kCustomersRead || p == P::kCustomersWrite || p == P::kInteractionsWrite ||
             p == P::kConsentsWrite || p == P::kPiiRead || p == P::kRulesWrite || p == P::kRulesApprove ||
             p == P::kDecide;
    case Role::kSales:
      return p == P::kCustomersRead || p == P::kCustomersWrite || p == P::kCommerceWrite ||
             p == P::kInteractionsWrite || p == P::kPiiRead || p == P::kDecide || p == P::kCasesWrite;
    case Role::kService:
      return p == P::kCustomersRead || p == P::kCustomersWrite || p == P::kInteractionsWrite ||
             p == P::kConsentsWrite || p == P::kPiiRead || p == P::kDecide || p == P::kCasesWrite;
    case Role::kAnalyst: return p == P::kCustomersRead;
  }
  return false;
}

Status MigrateKeys(storage::Database& db) {
  RP_RETURN_IF_ERROR(InitSodium());
  return storage::Migrate(db, "server", Migrations());
}

Result<CreatedKey> CreateKey(storage::Database& db, Role role, Timestamp now, std::string_view name) {
  RP_RETURN_IF_ERROR(InitSodium());
  unsigned char prefix_bytes[kPrefixBytes];
  unsigned char secret_bytes[kSecretBytes];
  randombytes_buf(prefix_bytes, sizeof prefix_bytes);
  randombytes_buf(secret_bytes, sizeof secret_bytes);
  CreatedKey out;
  out.role = role;
  out.prefix = Hex(prefix_bytes, sizeof prefix_bytes);
  out.key = std::string(kKeyTag) + out.prefix + "_" + Hex(secret_bytes, sizeof secret_bytes);
  sodium_memzero(secret_bytes, sizeof secret_bytes);
  RP_RETURN_IF_ERROR(db.WithConnection([&](storage::Connection& c) -> Status {
    return c
        .Execute("INSERT INTO server_api_keys (prefix, hash, role, name, created_at) VALUES (?, ?, ?, ?, ?)",
                 {out.prefix, HashKey(out.key), RoleName(role), std::string(name), now.micros})
        .status();
  }));
  return out;
}

Result<Principal> KeyVerifier::Verify(std::string_view authorization) {
  if (authorization.empty()) {
    return Status::Unauthenticated("this route needs an API key: send 'Authorization: Bearer <key>'");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Status::Unauthenticated("the Authorization header must be 'Bearer <key>'");
  }
  std::string_view key = authorization.substr(kBearer.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  std::string prefix = PrefixOf(key);
  if (prefix.empty()) return Status::Unauthenticated("the API key is malformed");
  std::string hash = HashKey(key);
  auto matches = [&](const std::string& stored) {
    return stored.size() == hash.size() && sodium_memcmp(stored.data(), hash.data(), hash.size()) == 0;
  };
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(prefix);
    if (it != cache_.end() && it->second.expires > now && matches(it->second.hash)) {
      return Principal{prefix, it->second.role};
    }
  }
  std::string stored;
  std::string role_name;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT hash, role FROM server_api_keys WHERE prefix = ? AND revoked_at IS NULL",
                                        {prefix}));
    if (!r.empty()) {
      stored = r.rows[0][0].AsText();
      role_name = r.rows[0][1].AsText();
    }
    return Status::Ok();
  }));
  if (stored.empty() || !matches(stored)) return Status::Unauthenticated("the API key is not valid");
  auto role = ParseRole(role_name);
  if (!role.ok()) return Status::Internal("api key " + prefix + " has an unknown role");
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 10'000) cache_.clear();
  cache_[prefix] = Cached{stored, *role, now + std::chrono::minutes(1)};
  return Principal{prefix, *role};
}

}  // namespace rapport::server::internal
