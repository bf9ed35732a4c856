// The user store on SQLite and, under scripts/with-postgres.sh, PostgreSQL:
// accounts and their field rules, Argon2id hashes, sessions stored only as
// token hashes with idle and absolute expiry, the lockout and its window,
// and disabling that ends sessions. Time is a ManualClock.

#include <gtest/gtest.h>
#include <sodium.h>

#include <memory>
#include <string>

#include "server/internal/auth.h"
#include "server/internal/users.h"
#include "testing/test_database.h"

namespace rapport::server::internal {
namespace {

constexpr int64_t kMinute = 60 * kMicrosPerSecond;
constexpr int64_t kHour = 60 * kMinute;
// The cheapest Argon2id libsodium allows, so the suite stays fast under ASan.
const PasswordCost kCheap{crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};

class UserStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool UsePostgres() { return GetParam(); }

  void SetUp() override {
    if (UsePostgres() && !rapport::testing::PostgresAvailable()) {
      GTEST_SKIP() << "RAPPORT_TEST_POSTGRES is not set (run under scripts/with-postgres.sh)";
    }
    dir_ = rapport::testing::FreshTestDir("users");
    auto db = rapport::testing::OpenTestDatabase(UsePostgres(), dir_, "users");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(MigrateKeys(*db_).ok());
    Reopen(kCheap);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Reopen(PasswordCost cost) {
    SessionPolicy policy;
    policy.idle = std::chrono::hours(8);
    policy.max_age = std::chrono::hours(24 * 7);
    policy.lockout_failures = 5;
    policy.lockout_window = std::chrono::minutes(15);
    policy.lockout_duration = std::chrono::minutes(15);
    store_ = std::make_unique<UserStore>(db_.get(), &clock_, cost, policy);
  }

  UserInfo Add(const std::string& email, std::vector<Role> roles = {Role::kMarketing},
               const std::string& password = "correct horse battery") {
    NewUser u{email, "Ana Weber", "marketing", std::move(roles), password};
    auto created = store_->Create(u);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : UserInfo{};
  }

  NewSession SignIn(const std::string& email, const std::string& password = "correct horse battery") {
    auto r = store_->SignIn(email, password);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !r->session) {
      ADD_FAILURE() << "no session";
      return {};
    }
    return *r->session;
  }

  std::string Text(const std::string& sql) {
    std::string out;
    EXPECT_TRUE(db_->WithConnection([&](storage::Connection& c) -> Status {
                     RP_ASSIGN_OR_RETURN(auto r, c.Query(sql));
                     for (const auto& row : r.rows) {
                       for (const auto& v : row) out += (v.is_text() ? v.AsText() : std::to_string(v.AsInt())) + "|";
                       out += "\n";
                     }
                     return Status::Ok();
                   })
                    .ok());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  ManualClock clock_{Timestamp::FromSeconds(1'780'000'000)};
  std::unique_ptr<UserStore> store_;
};

TEST_P(UserStoreTest, CreatesUsersWithLowerCasedUniqueEmails) {
  UserInfo ana = Add("  Ana.Weber@Example.COM ", {Role::kSales, Role::kMarketing, Role::kSales});
  EXPECT_GT(ana.id, 0);
  EXPECT_EQ(ana.email, "ana.weber@example.com");
  EXPECT_EQ(ana.roles, (std::vector<Role>{Role::kMarketing, Role::kSales}));
  EXPECT_FALSE(ana.disabled);
  EXPECT_EQ(ana.created_at, clock_.Now());

  auto again = store_->Create({"ANA.WEBER@example.com", "Other", "", {Role::kAnalyst}, "another password"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_EQ(again.status().field(), "/email");

  auto got = store_->GetByEmail("ana.WEBER@example.com");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, ana.id);
  EXPECT_EQ(store_->Get(ana.id + 100).status().code(), StatusCode::kNotFound);
}

TEST_P(UserStoreTest, StoresOnlyAnArgon2idHash) {
  Add("ana@example.com");
  std::string rows = Text("SELECT password_hash FROM server_users");
  EXPECT_EQ(rows.rfind("$argon2id$", 0), 0u) << rows;
  EXPECT_EQ(rows.find("correct horse"), std::string::npos);
}

TEST_P(UserStoreTest, PasswordRules) {
  struct Case {
    std::string password;
    bool ok;
  };
  const Case cases[] = {
      {"123456789", false},                   // 9 characters
      {"1234567890", true},                   // 10
      {"\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4", false},  // 9 characters in 18 bytes
      {"\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4", true},
      {std::string(256, 'x'), true},
      {std::string(257, 'x'), false},
      {"abcdefghij\xFF", false},              // not UTF-8
  };
  int n = 0;
  for (const Case& c : cases) {
    auto r = store_->Create({"u" + std::to_string(n++) + "@example.com", "U", "", {Role::kAnalyst}, c.password});
    EXPECT_EQ(r.ok(), c.ok) << c.password.size() << " bytes";
    if (!c.ok) {
      EXPECT_EQ(r.status().code(), StatusCode::kUnprocessable);
      EXPECT_EQ(r.status().field(), "/password");
    }
  }
}

TEST_P(UserStoreTest, FieldRules) {
  auto bad_email = store_->Create({"not-an-email", "U", "", {Role::kAnalyst}, "long enough password"});
  EXPECT_EQ(bad_email.status().field(), "/email");
  auto no_roles = store_->Create({"a@example.com", "U", "", {}, "long enough password"});
  EXPECT_EQ(no_roles.status().field(), "/roles");
  auto control = store_->Create({"a@example.com", "U", "mar\nketing", {Role::kAnalyst}, "long enough password"});
  EXPECT_EQ(control.status().field(), "/department");
  auto no_name = store_->Create({"a@example.com", " ", "", {Role::kAnalyst}, "long enough password"});
  EXPECT_EQ(no_name.status().field(), "/name");
}

TEST_P(UserStoreTest, SignInGivesASessionStoredOnlyAsAHash) {
  UserInfo ana = Add("ana@example.com");
  NewSession s = SignIn("ANA@example.com");
  EXPECT_EQ(s.user.id, ana.id);
  EXPECT_EQ(s.token.size(), 64u);
  EXPECT_EQ(s.csrf_token.size(), 64u);
  EXPECT_NE(s.csrf_token, s.token);
  EXPECT_EQ(s.expires_at.micros, clock_.Now().micros + 8 * kHour);
  std::string stored = Text("SELECT token_hash FROM server_sessions");
  EXPECT_EQ(stored.find(s.token), std::string::npos);
  EXPECT_NE(stored.find(UserStore::HashToken(s.token)), std::string::npos);

  auto v = store_->Verify(s.token);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->user.email, "ana@example.com");
  EXPECT_EQ(v->csrf_token, s.csrf_token);
  EXPECT_EQ(store_->Verify(std::string(64, 'a')).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->Verify("short").status().code(), StatusCode::kUnauthenticated);

  ASSERT_TRUE(store_->SignOut(*v).ok());
  EXPECT_EQ(store_->Verify(s.token).status().code(), StatusCode::kUnauthenticated);
}

TEST_P(UserStoreTest, WrongPasswordUnknownEmailAndDisabledUserLookAlike) {
  UserInfo ana = Add("ana@example.com", {Role::kMarketing});
  Add("bob@example.com", {Role::kSales});
  UserPatch off;
  off.disabled = true;
  ASSERT_TRUE(store_->Update(ana.id, off).ok());
  auto wrong = store_->SignIn("bob@example.com", "not the password");
  auto unknown = store_->SignIn("nobody@example.com", "correct horse battery");
  auto disabled = store_->SignIn("ana@example.com", "correct horse battery");
  for (const auto* r : {&wrong, &unknown, &disabled}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r->status().message(), wrong.status().message());
  }
}

TEST_P(UserStoreTest, SessionsEndWhenIdleAndAtTheirAbsoluteEnd) {
  Add("ana@example.com");
  NewSession idle = SignIn("ana@example.com");
  clock_.Advance(8 * kHour - kMinute);
  EXPECT_TRUE(store_->Verify(idle.token).ok());  // used: the idle deadline moves on
  clock_.Advance(8 * kHour - kMinute);
  EXPECT_TRUE(store_->Verify(idle.token).ok());
  clock_.Advance(8 * kHour);
  EXPECT_EQ(store_->Verify(idle.token).status().code(), StatusCode::kUnauthenticated);

  NewSession busy = SignIn("ana@example.com");
  for (int i = 0; i < 7 * 24 - 1; ++i) {
    clock_.Advance(kHour);
    ASSERT_TRUE(store_->Verify(busy.token).ok()) << "hour " << i;
  }
  clock_.Advance(kHour);  // 7 days after sign-in, used every hour
  EXPECT_EQ(store_->Verify(busy.token).status().code(), StatusCode::kUnauthenticated);
}

TEST_P(UserStoreTest, LockoutAfterFiveFailuresUntilTheWindowPasses) {
  Add("ana@example.com");
  for (int i = 0; i < 4; ++i) {
    auto r = store_->SignIn("ana@example.com", "wrong password");
    ASSERT_EQ(r.status().code(), StatusCode::kUnauthenticated) << i;
  }
  auto fifth = store_->SignIn("ana@example.com", "wrong password");
  ASSERT_TRUE(fifth.ok());
  EXPECT_EQ(fifth->retry_after_seconds, 15 * 60);
  // Locked: even the right password is refused.
  clock_.Advance(10 * kMinute);
  auto locked = store_->SignIn("ana@example.com", "correct horse battery");
  ASSERT_TRUE(locked.ok());
  EXPECT_FALSE(locked->session);
  EXPECT_EQ(locked->retry_after_seconds, 5 * 60);
  clock_.Advance(5 * kMinute);
  EXPECT_TRUE(SignIn("ana@example.com").token.size() == 64);
}

TEST_P(UserStoreTest, FailuresOutsideTheWindowDoNotAddUp) {
  Add("ana@example.com");
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(store_->SignIn("ana@example.com", "wrong password").ok());
  clock_.Advance(16 * kMinute);
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(store_->SignIn("ana@example.com", "wrong password").ok()) << i;
  EXPECT_TRUE(SignIn("ana@example.com").token.size() == 64);
  // A success clears the count.
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(store_->SignIn("ana@example.com", "wrong password").ok()) << i;
  EXPECT_TRUE(SignIn("ana@example.com").token.size() == 64);
}

TEST_P(UserStoreTest, UnknownEmailsLockToo) {
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(store_->SignIn("ghost@example.com", "wrong password").ok());
  auto r = store_->SignIn("ghost@example.com", "wrong password");
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->retry_after_seconds, 0);
}

TEST_P(UserStoreTest, OverlongEmailsAreRefusedWithoutBeingStored) {
  std::string huge(100'000, 'a');
  huge += "@example.com";
  for (int i = 0; i < 6; ++i) {
    auto r = store_->SignIn(huge, "wrong password");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(Text("SELECT COUNT(*) FROM server_sign_in_failures"), "0|\n");
}

TEST_P(UserStoreTest, DisablingAndResettingEndSessions) {
  UserInfo ana = Add("ana@example.com");
  Add("root@example.com", {Role::kAdmin});
  NewSession a = SignIn("ana@example.com");
  NewSession b = SignIn("ana@example.com");
  ASSERT_TRUE(store_->SetPassword(ana.id, "a new password here").ok());
  EXPECT_FALSE(store_->Verify(a.token).ok());
  EXPECT_FALSE(store_->Verify(b.token).ok());
  EXPECT_FALSE(store_->SignIn("ana@example.com", "correct horse battery").ok());
  NewSession c = SignIn("ana@example.com", "a new password here");
  UserPatch off;
  off.disabled = true;
  auto updated = store_->Update(ana.id, off);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->disabled);
  EXPECT_FALSE(store_->Verify(c.token).ok());
  EXPECT_EQ(Text("SELECT COUNT(*) FROM server_sessions"), "0|\n");
}

TEST_P(UserStoreTest, ResetLiftsALockout) {
  UserInfo ana = Add("ana@example.com");
  for (int i = 0; i < 5; ++i) (void)store_->SignIn("ana@example.com", "wrong password");
  auto locked = store_->SignIn("ana@example.com", "correct horse battery");
  ASSERT_TRUE(locked.ok());
  ASSERT_GT(locked->retry_after_seconds, 0);
  ASSERT_TRUE(store_->SetPassword(ana.id, "a new password here").ok());
  EXPECT_EQ(SignIn("ana@example.com", "a new password here").user.id, ana.id);
}

TEST_P(UserStoreTest, OwnPasswordChangeNeedsTheCurrentOneAndKeepsThisSession) {
  Add("ana@example.com");
  NewSession mine = SignIn("ana@example.com");
  NewSession other = SignIn("ana@example.com");
  auto active = store_->Verify(mine.token);
  ASSERT_TRUE(active.ok());
  int64_t retry = 0;
  Status wrong = store_->ChangeOwnPassword(*active, "not it at all", "brand new password", &retry);
  EXPECT_EQ(wrong.code(), StatusCode::kUnprocessable);
  EXPECT_EQ(wrong.field(), "/currentPassword");
  Status short_one = store_->ChangeOwnPassword(*active, "correct horse battery", "short", &retry);
  EXPECT_EQ(short_one.field(), "/newPassword");
  ASSERT_TRUE(store_->ChangeOwnPassword(*active, "correct horse battery", "brand new password", &retry).ok());
  EXPECT_EQ(retry, 0);
  EXPECT_TRUE(store_->Verify(mine.token).ok());
  EXPECT_FALSE(store_->Verify(other.token).ok());
  EXPECT_TRUE(SignIn("ana@example.com", "brand new password").token.size() == 64);
}

TEST_P(UserStoreTest, TheLastEnabledAdminStays) {
  UserInfo root = Add("root@example.com", {Role::kAdmin});
  UserPatch off;
  off.disabled = true;
  auto refused = store_->Update(root.id, off);
  EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
  EXPECT_EQ(refused.status().field(), "/disabled");
  UserPatch demote;
  demote.roles = std::vector<Role>{Role::kMarketing};
  EXPECT_EQ(store_->Update(root.id, demote).status().field(), "/roles");
  Add("second@example.com", {Role::kAdmin, Role::kAnalyst});
  EXPECT_TRUE(store_->Update(root.id, off).ok());
}

TEST_P(UserStoreTest, ListsByIdInPages) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Add("u" + std::to_string(i) + "@example.com").id);
  auto first = store_->List(0, 3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ(first->back().id, ids[2]);
  auto rest = store_->List(first->back().id, 3);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->back().id, ids[4]);
}

TEST_P(UserStoreTest, RehashesWhenTheCostRises) {
  Add("ana@example.com");
  std::string before = Text("SELECT password_hash FROM server_users");
  Reopen({crypto_pwhash_argon2id_OPSLIMIT_MIN + 1, crypto_pwhash_argon2id_MEMLIMIT_MIN * 2});
  SignIn("ana@example.com");
  std::string after = Text("SELECT password_hash FROM server_users");
  EXPECT_NE(before, after);
  EXPECT_EQ(after.rfind("$argon2id$", 0), 0u);
  // Once is enough: the next sign-in keeps the new hash.
  SignIn("ana@example.com");
  EXPECT_EQ(Text("SELECT password_hash FROM server_users"), after);
}

INSTANTIATE_TEST_SUITE_P(Database, UserStoreTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

}  // namespace
}  // namespace rapport::server::internal
