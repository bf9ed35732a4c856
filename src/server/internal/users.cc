#include "server/internal/users.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "common/text.h"
#include "server/internal/auth.h"

namespace rapport::server::internal {
namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxEmailBytes = 254;
// Sessions are touched at most this often, so a page's many reads do not
// each write; an idle deadline is therefore exact to within a minute.
constexpr int64_t kTouchMicros = 60 * kMicrosPerSecond;
constexpr std::string_view kUserColumns = "id, email, name, department, roles, disabled, created_at, updated_at";
constexpr std::string_view kSignInFailed = "the e-mail or the password is wrong";

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string RolesText(const std::vector<Role>& roles) {
  std::string out;
  for (Role r : roles) out += (out.empty() ? "" : ",") + std::string(RoleName(r));
  return out;
}

Result<std::vector<Role>> ParseRolesText(const std::string& text) {
  std::vector<Role> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) {
      RP_ASSIGN_OR_RETURN(Role r, ParseRole(std::string_view(text).substr(i, j - i)));
      out.push_back(r);
    }
    i = j + 1;
  }
  return out;
}

Result<UserInfo> UserOf(const storage::Row& row) {
  UserInfo u;
  u.id = row[0].AsInt();
  u.email = row[1].AsText();
  u.name = row[2].AsText();
  u.department = row[3].AsText();
  auto roles = ParseRolesText(row[4].AsText());
  if (!roles.ok()) return Status::Internal("user " + std::to_string(u.id) + " has an unknown role");
  u.roles = std::move(*roles);
  u.disabled = row[5].AsInt() != 0;
  u.created_at = Timestamp{row[6].AsInt()};
  u.updated_at = Timestamp{row[7].AsInt()};
  return u;
}

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

Status Relabel(Status s, std::string_view field) {
  if (s.ok()) return s;
  return Status::Unprocessable(s.message(), std::string(field));
}

bool HasRole(const std::vector<Role>& roles, Role r) { return std::find(roles.begin(), roles.end(), r) != roles.end(); }

int64_t CeilSeconds(int64_t micros) { return (micros + kMicrosPerSecond - 1) / kMicrosPerSecond; }

}  // namespace

// ---- field rules -----------------------------------------------------------------

Result<std::string> NormalizeEmail(std::string_view email, std::string_view field) {
  std::string e = text::AsciiLower(text::Trim(email));
  if (e.empty()) return Status::Unprocessable("an e-mail address is required", std::string(field));
  RP_RETURN_IF_ERROR(Relabel(text::CheckIdentifier(e, field), field));
  size_t at = e.find('@');
  if (e.size() > kMaxEmailBytes || at == std::string::npos || at == 0 || at + 1 == e.size() ||
      e.find('@', at + 1) != std::string::npos || e.find(' ') != std::string::npos) {
    return Status::Unprocessable("expected an e-mail address such as ana@example.com", std::string(field));
  }
  return e;
}

Status CheckPassword(std::string_view password, std::string_view field) {
  if (!text::IsValidUtf8(password) || password.find('\0') != std::string_view::npos) {
    return Status::Unprocessable("a password must be valid UTF-8 text", std::string(field));
  }
  size_t n = CodePoints(password);
  if (n < 10 || n > 256) {
    return Status::Unprocessable("a password has 10 to 256 characters (this one has " + std::to_string(n) + ")",
                                 std::string(field));
  }
  return Status::Ok();
}

Status CheckUserName(std::string_view name, std::string_view field) {
  if (text::Trim(name).empty()) return Status::Unprocessable("a name is required", std::string(field));
  if (name.size() > 200) return Status::Unprocessable("a name is at most 200 bytes", std::string(field));
  return Relabel(text::CheckIdentifier(name, field), field);
}

Status CheckDepartment(std::string_view department, std::string_view field) {
  if (department.size() > 100) return Status::Unprocessable("a department is at most 100 bytes", std::string(field));
  return Relabel(text::CheckIdentifier(department, field), field);
}

Result<std::vector<Role>> NormalizeRoles(std::vector<Role> roles, std::string_view field) {
  if (roles.empty()) return Status::Unprocessable("a user needs at least one role", std::string(field));
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

// ---- the store -------------------------------------------------------------------

UserStore::UserStore(storage::Database* db, const Clock* clock, PasswordCost cost, SessionPolicy policy)
    : db_(db), clock_(clock), policy_(policy) {
  if (sodium_init() < 0) std::abort();  // MigrateKeys checked it already; cannot fail after that
  ops_limit_ = std::max<uint64_t>(cost.ops_limit ? cost.ops_limit : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_argon2id_OPSLIMIT_MIN);
  mem_limit_ = std::max<size_t>(cost.mem_limit ? cost.mem_limit : crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
                                crypto_pwhash_argon2id_MEMLIMIT_MIN);
}

void UserStore::AcquireHashSlot() {
  std::unique_lock<std::mutex> lock(hash_mu_);
  hash_cv_.wait(lock, [&] { return hashing_ < 2; });
  ++hashing_;
}

void UserStore::ReleaseHashSlot() {
  {
    std::lock_guard<std::mutex> lock(hash_mu_);
    --hashing_;
  }
  hash_cv_.notify_one();
}

Result<std::string> UserStore::HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  AcquireHashSlot();
  int rc = crypto_pwhash_str_alg(out, password.data(), password.size(), ops_limit_, mem_limit_,
                                 crypto_pwhash_ALG_ARGON2ID13);
  ReleaseHashSlot();
  if (rc != 0) return Status::Internal("password hashing failed (out of memory)");
  return std::string(out);
}

bool UserStore::VerifyPassword(const std::string& hash, std::string_view password) {
  AcquireHashSlot();
  bool ok = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  ReleaseHashSlot();
  return ok;
}

std::string UserStore::HashToken(std::string_view token) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr, 0);
  return Hex(h, sizeof h);
}

std::string UserStore::CsrfFor(std::string_view token) const {
  // Keyed by the token, so the CSRF token is fixed for the session's life,
  // needs no storage, and tells nothing about the token itself.
  constexpr std::string_view kContext = "rapport.session.csrf";
  unsigned char h[32];
  size_t key_len = std::min<size_t>(token.size(), crypto_generichash_KEYBYTES_MAX);
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(),
                     reinterpret_cast<const unsigned char*>(token.data()), key_len);
  return Hex(h, sizeof h);
}

Timestamp UserStore::ExpiresAt(Timestamp created, Timestamp last_seen) const {
  int64_t absolute = created.micros + policy_.max_age.count() * kMicrosPerSecond;
  int64_t idle = last_seen.micros + policy_.idle.count() * kMicrosPerSecond;
  return Timestamp{std::min(absolute, idle)};
}

void UserStore::Prepare() {
  std::call_once(dummy_once_, [&] {
    unsigned char bytes[16];
    randombytes_buf(bytes, sizeof bytes);
    auto h = HashPassword(Hex(bytes, sizeof bytes));
    dummy_hash_ = h.ok() ? *h : std::string();
  });
}

Result<UserInfo> UserStore::Create(const NewUser& u) {
  RP_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(u.email));
  RP_RETURN_IF_ERROR(CheckUserName(u.name));
  RP_RETURN_IF_ERROR(CheckDepartment(u.department));
  RP_ASSIGN_OR_RETURN(std::vector<Role> roles, NormalizeRoles(u.roles));
  RP_RETURN_IF_ERROR(CheckPassword(u.password));
  RP_ASSIGN_OR_RETURN(std::string hash, HashPassword(u.password));
  Timestamp now = clock_->Now();
  UserInfo out;
  Status s = db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("INSERT INTO server_users (email, name, department, roles, password_hash, "
                                        "disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) RETURNING " +
                                            std::string(kUserColumns),
                                        {email, std::string(text::Trim(u.name)), std::string(text::Trim(u.department)),
                                         RolesText(roles), hash, now.micros, now.micros}));
    if (r.empty()) return Status::Internal("the new user's row is missing");
    RP_ASSIGN_OR_RETURN(out, UserOf(r.rows[0]));
    return Status::Ok();
  });
  if (s.code() == StatusCode::kConflict) return Status::Conflict("a user with the e-mail " + email + " exists", "/email");
  RP_RETURN_IF_ERROR(s);
  return out;
}

Result<UserInfo> UserStore::Get(int64_t id) {
  std::optional<UserInfo> out;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT " + std::string(kUserColumns) + " FROM server_users WHERE id = ?", {id}));
    if (!r.empty()) {
      RP_ASSIGN_OR_RETURN(out, UserOf(r.rows[0]));
    }
    return Status::Ok();
  }));
  if (!out) return Status::NotFound("no user has the id " + std::to_string(id), "id");
  return std::move(*out);
}

Result<UserInfo> UserStore::GetByEmail(std::string_view email) {
  std::string e = text::AsciiLower(text::Trim(email));
  std::optional<UserInfo> out;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT " + std::string(kUserColumns) + " FROM server_users WHERE email = ?", {e}));
    if (!r.empty()) {
      RP_ASSIGN_OR_RETURN(out, UserOf(r.rows[0]));
    }
    return Status::Ok();
  }));
  if (!out) return Status::NotFound("no user has the e-mail " + e, "email");
  return std::move(*out);
}

Result<std::vector<UserInfo>> UserStore::List(int64_t after, int limit) {
  std::vector<UserInfo> out;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT " + std::string(kUserColumns) +
                                            " FROM server_users WHERE id > ? ORDER BY id LIMIT ?",
                                        {after, static_cast<int64_t>(limit)}));
    for (const auto& row : r.rows) {
      RP_ASSIGN_OR_RETURN(auto u, UserOf(row));
      out.push_back(std::move(u));
    }
    return Status::Ok();
  }));
  return out;
}

Result<UserInfo> UserStore::Update(int64_t id, const UserPatch& patch) {
  if (patch.name) RP_RETURN_IF_ERROR(CheckUserName(*patch.name));
  if (patch.department) RP_RETURN_IF_ERROR(CheckDepartment(*patch.department));
  std::optional<std::vector<Role>> roles;
  if (patch.roles) {
    RP_ASSIGN_OR_RETURN(roles, NormalizeRoles(*patch.roles));
  }
  Timestamp now = clock_->Now();
  UserInfo out;
  RP_RETURN_IF_ERROR(db_->WithTransaction([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT " + std::string(kUserColumns) + " FROM server_users WHERE id = ?" +
                                            (c.dialect() == storage::Dialect::kPostgres ? " FOR UPDATE" : ""),
                                        {id}));
    if (r.empty()) return Status::NotFound("no user has the id " + std::to_string(id), "id");
    RP_ASSIGN_OR_RETURN(UserInfo u, UserOf(r.rows[0]));
    bool was_admin = !u.disabled && HasRole(u.roles, Role::kAdmin);
    if (patch.name) u.name = std::string(text::Trim(*patch.name));
    if (patch.department) u.department = std::string(text::Trim(*patch.department));
    if (roles) u.roles = *roles;
    if (patch.disabled) u.disabled = *patch.disabled;
    bool is_admin = !u.disabled && HasRole(u.roles, Role::kAdmin);
    if (was_admin && !is_admin) {
      // Nobody could then manage users in the workspace; the CLI could, but
      // an administrator locking everyone out is a mistake, not a wish.
      RP_ASSIGN_OR_RETURN(auto others, c.Query("SELECT COUNT(*) FROM server_users WHERE id <> ? AND disabled = 0 "
                                               "AND (',' || roles || ',') LIKE '%,admin,%'",
                                               {id}));
      if (others.rows[0][0].AsInt() == 0) {
        return Status::Conflict("this is the last enabled admin; make another user admin first",
                                patch.disabled && *patch.disabled ? "/disabled" : "/roles");
      }
    }
    u.updated_at = now;
    RP_RETURN_IF_ERROR(c.Execute("UPDATE server_users SET name = ?, department = ?, roles = ?, disabled = ?, "
                                 "updated_at = ? WHERE id = ?",
                                 {u.name, u.department, RolesText(u.roles), u.disabled, now.micros, id})
                           .status());
    if (u.disabled) {
      RP_RETURN_IF_ERROR(c.Execute("DELETE FROM server_sessions WHERE user_id = ?", {id}).status());
    }
    out = std::move(u);
    return Status::Ok();
  }));
  return out;
}

Status UserStore::SetPassword(int64_t id, std::string_view password) {
  RP_RETURN_IF_ERROR(CheckPassword(password));
  RP_ASSIGN_OR_RETURN(UserInfo u, Get(id));
  RP_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  Timestamp now = clock_->Now();
  return db_->WithTransaction([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(int64_t n, c.Execute("UPDATE server_users SET password_hash = ?, updated_at = ? WHERE id = ?",
                                             {hash, now.micros, id}));
    if (n == 0) return Status::NotFound("no user has the id " + std::to_string(id), "id");
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM server_sessions WHERE user_id = ?", {id}).status());
    return ClearFailures(c, u.email);
  });
}

Status UserStore::ChangeOwnPassword(const ActiveSession& s, std::string_view current, std::string_view next,
                                    int64_t* retry_after_seconds) {
  *retry_after_seconds = 0;
  RP_RETURN_IF_ERROR(CheckPassword(next, "/newPassword"));
  Timestamp now = clock_->Now();
  std::string stored;
  int64_t locked = 0;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(locked, LockedFor(c, s.user.email, now));
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT password_hash FROM server_users WHERE id = ?", {s.user.id}));
    if (r.empty()) return Status::Unauthenticated("the session has ended; sign in again");
    stored = r.rows[0][0].AsText();
    return Status::Ok();
  }));
  if (locked > 0) {
    *retry_after_seconds = locked;
    return Status::Ok();
  }
  if (!VerifyPassword(stored, current)) {
    RP_ASSIGN_OR_RETURN(*retry_after_seconds, RecordFailure(s.user.email, now));
    if (*retry_after_seconds > 0) return Status::Ok();
    return Status::Unprocessable("the current password is wrong", "/currentPassword");
  }
  RP_ASSIGN_OR_RETURN(std::string hash, HashPassword(next));
  return db_->WithTransaction([&](storage::Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.Execute("UPDATE server_users SET password_hash = ?, updated_at = ? WHERE id = ?",
                                 {hash, now.micros, s.user.id})
                           .status());
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM server_sessions WHERE user_id = ? AND token_hash <> ?",
                                 {s.user.id, s.token_hash})
                           .status());
    return ClearFailures(c, s.user.email);
  });
}

// ---- lockout ---------------------------------------------------------------------

Result<int64_t> UserStore::LockedFor(storage::Connection& c, const std::string& email, Timestamp now) {
  RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT locked_until FROM server_sign_in_failures WHERE email = ?", {email}));
  if (r.empty() || r.rows[0][0].is_null()) return int64_t{0};
  int64_t until = r.rows[0][0].AsInt();
  return until > now.micros ? CeilSeconds(until - now.micros) : int64_t{0};
}

Result<int64_t> UserStore::RecordFailure(const std::string& email, Timestamp now) {
  if (policy_.lockout_failures <= 0) return int64_t{0};
  int64_t window = policy_.lockout_window.count() * kMicrosPerSecond;
  int64_t locked_for = 0;
  RP_RETURN_IF_ERROR(db_->WithTransaction([&](storage::Connection& c) -> Status {
    // Counts of e-mails nobody has tried for a window are forgotten, so
    // guessed addresses do not pile up.
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM server_sign_in_failures WHERE first_failure_at < ? AND "
                                 "(locked_until IS NULL OR locked_until < ?)",
                                 {now.micros - window, now.micros})
                           .status());
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO server_sign_in_failures (email, failures, first_failure_at) "
                                 "VALUES (?, 0, ?) ON CONFLICT (email) DO NOTHING",
                                 {email, now.micros})
                           .status());
    RP_ASSIGN_OR_RETURN(auto r, c.Query(std::string("SELECT failures, first_failure_at, locked_until FROM "
                                                    "server_sign_in_failures WHERE email = ?") +
                                            (c.dialect() == storage::Dialect::kPostgres ? " FOR UPDATE" : ""),
                                        {email}));
    if (r.empty()) return Status::Internal("the sign-in failure row is missing");
    int64_t failures = r.rows[0][0].AsInt();
    int64_t first = r.rows[0][1].AsInt();
    const storage::Value& until = r.rows[0][2];
    if (now.micros - first >= window || (!until.is_null() && until.AsInt() <= now.micros)) {
      failures = 0;
      first = now.micros;
    }
    ++failures;
    storage::Value locked_until;
    if (failures >= policy_.lockout_failures) {
      int64_t duration = policy_.lockout_duration.count() * kMicrosPerSecond;
      locked_until = now.micros + duration;
      locked_for = CeilSeconds(duration);
      failures = 0;
      first = now.micros;
    }
    return c.Execute("UPDATE server_sign_in_failures SET failures = ?, first_failure_at = ?, locked_until = ? "
                     "WHERE email = ?",
                     {failures, first, locked_until, email})
        .status();
  }));
  return locked_for;
}

Status UserStore::ClearFailures(storage::Connection& c, const std::string& email) {
  return c.Execute("DELETE FROM server_sign_in_failures WHERE email = ?", {email}).status();
}

// ---- sessions --------------------------------------------------------------------

Result<SignInResult> UserStore::SignIn(std::string_view email_text, std::string_view password) {
  std::string email = text::AsciiLower(text::Trim(email_text));
  if (email.size() > kMaxEmailBytes) {
    // No account has such an e-mail (Create refuses it), so nothing is
    // counted or stored for it; the work is the same as for one that does.
    Prepare();
    if (!dummy_hash_.empty()) VerifyPassword(dummy_hash_, password);
    return Status::Unauthenticated(std::string(kSignInFailed));
  }
  Timestamp now = clock_->Now();
  SignInResult out;
  std::optional<UserInfo> user;
  std::string stored;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(out.retry_after_seconds, LockedFor(c, email, now));
    if (out.retry_after_seconds > 0) return Status::Ok();
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT " + std::string(kUserColumns) +
                                            ", password_hash FROM server_users WHERE email = ?",
                                        {email}));
    if (!r.empty()) {
      RP_ASSIGN_OR_RETURN(user, UserOf(r.rows[0]));
      stored = r.rows[0][8].AsText();
    }
    return Status::Ok();
  }));
  if (out.retry_after_seconds > 0) return out;
  bool ok;
  if (user) {
    ok = VerifyPassword(stored, password);
  } else {
    // The same work as for a real account, so the answer's timing does not
    // tell which e-mails have one.
    Prepare();
    if (!dummy_hash_.empty()) VerifyPassword(dummy_hash_, password);
    ok = false;
  }
  if (!ok || user->disabled) {
    RP_ASSIGN_OR_RETURN(out.retry_after_seconds, RecordFailure(email, now));
    if (out.retry_after_seconds > 0) {
      // For operators watching for password guessing; the e-mail is personal
      // data and stays out of the log.
      spdlog::warn("server.sign_in_locked user={} seconds={}", user ? std::to_string(user->id) : "-",
                   out.retry_after_seconds);
      return out;
    }
    return Status::Unauthenticated(std::string(kSignInFailed));
  }
  std::optional<std::string> rehash;
  if (crypto_pwhash_str_needs_rehash(stored.c_str(), ops_limit_, mem_limit_) != 0) {
    auto h = HashPassword(password);
    if (h.ok()) rehash = std::move(*h);
  }
  unsigned char bytes[kTokenBytes];
  randombytes_buf(bytes, sizeof bytes);
  NewSession session;
  session.token = Hex(bytes, sizeof bytes);
  sodium_memzero(bytes, sizeof bytes);
  session.csrf_token = CsrfFor(session.token);
  session.expires_at = ExpiresAt(now, now);
  session.user = *user;
  int64_t idle = policy_.idle.count() * kMicrosPerSecond;
  int64_t max_age = policy_.max_age.count() * kMicrosPerSecond;
  RP_RETURN_IF_ERROR(db_->WithTransaction([&](storage::Connection& c) -> Status {
    RP_RETURN_IF_ERROR(ClearFailures(c, email));
    if (rehash) {
      RP_RETURN_IF_ERROR(
          c.Execute("UPDATE server_users SET password_hash = ? WHERE id = ?", {*rehash, user->id}).status());
    }
    // Ended sessions are deleted as new ones begin.
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM server_sessions WHERE last_seen_at <= ? OR created_at <= ?",
                                 {now.micros - idle, now.micros - max_age})
                           .status());
    return c
        .Execute("INSERT INTO server_sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
                 {HashToken(session.token), user->id, now.micros, now.micros})
        .status();
  }));
  out.session = std::move(session);
  return out;
}

Result<ActiveSession> UserStore::Verify(std::string_view token) {
  const Status ended = Status::Unauthenticated("the session has ended or is not valid; sign in again");
  if (token.size() != kTokenBytes * 2 || !IsLowerHex(token)) return ended;
  std::string hash = HashToken(token);
  Timestamp now = clock_->Now();
  std::optional<ActiveSession> out;
  bool expired = false;
  int64_t last_seen = 0;
  RP_RETURN_IF_ERROR(db_->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto r, c.Query("SELECT u.id, u.email, u.name, u.department, u.roles, u.disabled, "
                                        "u.created_at, u.updated_at, s.created_at, s.last_seen_at "
                                        "FROM server_sessions s JOIN server_users u ON u.id = s.user_id "
                                        "WHERE s.token_hash = ?",
                                        {hash}));
    if (r.empty()) return Status::Ok();
    RP_ASSIGN_OR_RETURN(UserInfo u, UserOf(r.rows[0]));
    Timestamp created{r.rows[0][8].AsInt()};
    last_seen = r.rows[0][9].AsInt();
    Timestamp expires = ExpiresAt(created, Timestamp{last_seen});
    if (now >= expires || u.disabled) {
      expired = true;
      return c.Execute("DELETE FROM server_sessions WHERE token_hash = ?", {hash}).status();
    }
    if (now.micros - last_seen >= kTouchMicros) {
      RP_RETURN_IF_ERROR(
          c.Execute("UPDATE server_sessions SET last_seen_at = ? WHERE token_hash = ?", {now.micros, hash}).status());
      last_seen = now.micros;
      expires = ExpiresAt(created, now);
    }
    out = ActiveSession{std::move(u), hash, CsrfFor(token), expires};
    return Status::Ok();
  }));
  if (!out || expired) return ended;
  return std::move(*out);
}

Status UserStore::SignOut(const ActiveSession& s) {
  return db_->WithConnection([&](storage::Connection& c) -> Status {
    return c.Execute("DELETE FROM server_sessions WHERE token_hash = ?", {s.token_hash}).status();
  });
}

Status UserStore::EndSessions(int64_t user_id, std::string_view keep_hash) {
  return db_->WithConnection([&](storage::Connection& c) -> Status {
    return c.Execute("DELETE FROM server_sessions WHERE user_id = ? AND token_hash <> ?",
                     {user_id, std::string(keep_hash)})
        .status();
  });
}

}  // namespace rapport::server::internal

// ---- the CLI's functions (server.h) ------------------------------------------------

namespace rapport::server {

Result<UserInfo> AddUser(const std::string& data_dir, const NewUserSpec& spec) {
  internal::NewUser u;
  u.email = spec.email;
  u.name = spec.name;
  u.department = spec.department;
  for (size_t i = 0; i < spec.roles.size(); ++i) {
    auto r = ParseRole(spec.roles[i]);
    if (!r.ok()) return Status::Unprocessable(r.status().message(), "/roles/" + std::to_string(i));
    u.roles.push_back(*r);
  }
  u.password = spec.password;
  RP_ASSIGN_OR_RETURN(auto db, internal::OpenServerDatabase(data_dir));
  internal::UserStore store(db.get(), SystemClock::Default());
  auto created = store.Create(u);
  sodium_memzero(u.password.data(), u.password.size());
  return created;
}

Result<std::vector<UserInfo>> ListUsers(const std::string& data_dir) {
  RP_ASSIGN_OR_RETURN(auto db, internal::OpenServerDatabase(data_dir));
  internal::UserStore store(db.get(), SystemClock::Default());
  std::vector<UserInfo> out;
  for (int64_t after = 0;;) {
    RP_ASSIGN_OR_RETURN(auto page, store.List(after, 500));
    if (page.empty()) break;
    after = page.back().id;
    for (auto& u : page) out.push_back(std::move(u));
  }
  return out;
}

Status DisableUser(const std::string& data_dir, std::string_view email) {
  RP_ASSIGN_OR_RETURN(auto db, internal::OpenServerDatabase(data_dir));
  internal::UserStore store(db.get(), SystemClock::Default());
  RP_ASSIGN_OR_RETURN(UserInfo u, store.GetByEmail(email));
  internal::UserPatch patch;
  patch.disabled = true;
  return store.Update(u.id, patch).status();
}

Status ResetUserPassword(const std::string& data_dir, std::string_view email, std::string_view password) {
  RP_ASSIGN_OR_RETURN(auto db, internal::OpenServerDatabase(data_dir));
  internal::UserStore store(db.get(), SystemClock::Default());
  RP_ASSIGN_OR_RETURN(UserInfo u, store.GetByEmail(email));
  return store.SetPassword(u.id, password);
}

}  // namespace rapport::server
