#pragma once
// People who sign in to the web workspace: accounts (e-mail, name,
// department, roles), their Argon2id password hashes, their sessions and
// the lockout after repeated failed sign-ins. Tables server_users,
// server_sessions and server_sign_in_failures, created by MigrateKeys with
// the API keys. A session token is 32 random bytes given to the browser
// once; only its BLAKE2b hash is stored, and the session's CSRF token is
// derived from the token (a keyed BLAKE2b), so the database holds neither.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "server/server.h"
#include "storage/storage.h"

namespace rapport::server::internal {

// The Argon2id cost of new password hashes. Zero takes libsodium's
// INTERACTIVE limits; anything lower than libsodium's minimum is raised to
// it. Tests lower the cost so sanitizer builds stay fast.
struct PasswordCost {
  uint64_t ops_limit = 0;
  size_t mem_limit = 0;
};

// How long sessions live and when sign-in locks (ServerOptions).
struct SessionPolicy {
  std::chrono::seconds idle{std::chrono::hours(8)};
  std::chrono::seconds max_age{std::chrono::hours(24 * 7)};
  int lockout_failures = 5;                           // failures within lockout_window lock ...
  std::chrono::seconds lockout_window{std::chrono::minutes(15)};
  std::chrono::seconds lockout_duration{std::chrono::minutes(15)};  // ... for this long
};

struct NewUser {
  std::string email;
  std::string name;
  std::string department;
  std::vector<Role> roles;
  std::string password;
};

struct UserPatch {
  std::optional<std::string> name;
  std::optional<std::string> department;
  std::optional<std::vector<Role>> roles;
  std::optional<bool> disabled;
};

// A session that was just created: the token goes into the cookie, and is
// never seen again by the server.
struct NewSession {
  UserInfo user;
  std::string token;
  std::string csrf_token;
  Timestamp expires_at;
};

// A session a request presented and that is still valid.
struct ActiveSession {
  UserInfo user;
  std::string token_hash;  // identifies the session row; never logged
  std::string csrf_token;
  Timestamp expires_at;    // the earlier of the idle and the absolute end
};

// The outcome of a sign-in that was not an error: a session, or a lockout
// with the seconds until the next attempt may be made.
struct SignInResult {
  std::optional<NewSession> session;
  int64_t retry_after_seconds = 0;  // > 0: locked out
};

// Field checks shared by the store, the routes and the CLI. Each is
// Unprocessable naming its field (a JSON pointer) when the value breaks the
// rule.
Result<std::string> NormalizeEmail(std::string_view email, std::string_view field = "/email");
Status CheckPassword(std::string_view password, std::string_view field = "/password");
Status CheckUserName(std::string_view name, std::string_view field = "/name");
Status CheckDepartment(std::string_view department, std::string_view field = "/department");
// Sorted, without duplicates; Unprocessable when empty.
Result<std::vector<Role>> NormalizeRoles(std::vector<Role> roles, std::string_view field = "/roles");

class UserStore {
 public:
  // db must hold the server module's tables (MigrateKeys). clock is not owned.
  UserStore(storage::Database* db, const Clock* clock, PasswordCost cost = {}, SessionPolicy policy = {});
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  const SessionPolicy& policy() const { return policy_; }

  // Conflict naming /email when the (lower-cased) e-mail is taken.
  Result<UserInfo> Create(const NewUser& u);
  Result<UserInfo> Get(int64_t id);  // NotFound naming "id"
  Result<UserInfo> GetByEmail(std::string_view email);  // NotFound naming "email"
  // Users with id > after, by id, at most limit.
  Result<std::vector<UserInfo>> List(int64_t after, int limit);
  // Disabling ends every session of the user. Conflict when the change
  // would leave no enabled admin among the users who had one.
  Result<UserInfo> Update(int64_t id, const UserPatch& patch);
  // An administrator's reset: ends every session of the user and lifts a
  // lockout of their e-mail.
  Status SetPassword(int64_t id, std::string_view password);
  // A signed-in user's change of their own password: the current one must
  // match (Unprocessable naming /currentPassword otherwise, which counts as a
  // failed sign-in for the lockout). Ends every other session of the user.
  // retry_after_seconds > 0 when locked out.
  Status ChangeOwnPassword(const ActiveSession& s, std::string_view current, std::string_view next,
                           int64_t* retry_after_seconds);

  // Unauthenticated, with the same message for an unknown e-mail, a wrong
  // password and a disabled user (the password is hashed in every case, so
  // the time taken tells nothing either).
  Result<SignInResult> SignIn(std::string_view email, std::string_view password);
  // Unauthenticated when the token is unknown, expired (idle or absolute)
  // or its user disabled. Extends the idle deadline (at most once a minute,
  // so reads do not write on every request).
  Result<ActiveSession> Verify(std::string_view token);
  Status SignOut(const ActiveSession& s);
  // Ends every session of the user (but keep_hash, when given).
  Status EndSessions(int64_t user_id, std::string_view keep_hash = {});

  static std::string HashToken(std::string_view token);
  // Makes the dummy hash unknown e-mails are checked against, so not even
  // the first such sign-in takes longer than one for a real account.
  void Prepare();

 private:
  Result<std::string> HashPassword(std::string_view password);
  bool VerifyPassword(const std::string& hash, std::string_view password);
  // The lockout: seconds until email may try again (0: now).
  Result<int64_t> LockedFor(storage::Connection& c, const std::string& email, Timestamp now);
  // Counts a failure; returns the seconds locked when it locks (else 0).
  Result<int64_t> RecordFailure(const std::string& email, Timestamp now);
  Status ClearFailures(storage::Connection& c, const std::string& email);
  std::string CsrfFor(std::string_view token) const;
  Timestamp ExpiresAt(Timestamp created, Timestamp last_seen) const;

  storage::Database* db_;
  const Clock* clock_;
  uint64_t ops_limit_;
  size_t mem_limit_;
  SessionPolicy policy_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;  // verified against when the e-mail is unknown; set once

  // Argon2id takes mem_limit bytes per hash: at most two run at once, so a
  // burst of sign-ins queues instead of taking the server's memory.
  void AcquireHashSlot();
  void ReleaseHashSlot();
  std::mutex hash_mu_;
  std::condition_variable hash_cv_;
  int hashing_ = 0;  // guarded by hash_mu_
};

}  // namespace rapport::server::internal
