// People and sign-in end to end over a real server on 127.0.0.1:0: the
// session cookie and its flags, GET and DELETE /v1/session, the CSRF check,
// API keys beside sessions, expiry and lockout on a clock the test moves,
// disabled users, roles through a session, and the users and API keys routes
// of the Admin page. The access log names the user, never the token.

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

constexpr int64_t kMinute = 60 * kMicrosPerSecond;

std::string Str(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : ""; }

// A browser: no API key, the cookie it was given, and the CSRF token it read.
struct Browser {
  explicit Browser(uint16_t port) : http(std::make_unique<HttpClient>(port)) {}
  std::unique_ptr<HttpClient> http;  // movable, so a Browser can be returned
  std::string cookie;  // "rapport_session=<token>"
  std::string csrf;

  HttpReply Send(const std::string& method, const std::string& target, const std::string& body = "",
                 bool with_csrf = true) {
    std::map<std::string, std::string> h;
    if (!cookie.empty()) h["Cookie"] = cookie;
    if (with_csrf && !csrf.empty()) h["X-CSRF-Token"] = csrf;
    return http->Send(method, target, body, h);
  }
  HttpReply SignIn(const std::string& email, const std::string& password) {
    auto r = http->Post("/v1/session", R"({"email":")" + email + R"(","password":")" + password + R"("})");
    if (r.status == 201) {
      std::string set = r.header("set-cookie");
      cookie = set.substr(0, set.find(';'));
      csrf = Str(r.json["csrfToken"]);
    }
    return r;
  }
};

class SessionTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    o.clock = &clock_;
    o.password_ops_limit = crypto_pwhash_argon2id_OPSLIMIT_MIN;
    o.password_mem_limit = crypto_pwhash_argon2id_MEMLIMIT_MIN;
    o.access_log = (dir_ / "access.log").string();
  }

  // Adds a user through the admin API key; returns its id.
  int64_t AddUser(const std::string& email, const std::string& roles, const std::string& password = kPassword) {
    auto r = admin().Post("/v1/users", R"({"email":")" + email + R"(","name":"Test Person","department":"marketing",)"
                                           R"("roles":)" + roles + R"(,"password":")" + password + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json.IsObject() && r.json.HasMember("id") ? r.json["id"].GetInt64() : 0;
  }

  Browser SignedIn(const std::string& email, const std::string& password = kPassword) {
    Browser b(server_->port());
    auto r = b.SignIn(email, password);
    EXPECT_EQ(r.status, 201) << r.body;
    return b;
  }

  std::string Log() const {
    std::ifstream in(dir_ / "access.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static constexpr const char* kPassword = "correct horse battery";
  ManualClock clock_{SystemClock::Default()->Now()};
};

TEST_F(SessionTest, SignInSetsAStrictHttpOnlyCookieAndAnswersTheSession) {
  int64_t id = AddUser("Ana@Example.com", R"(["marketing"])");
  Browser b(server_->port());
  auto r = b.SignIn("ana@example.com", kPassword);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string set = r.header("set-cookie");
  EXPECT_EQ(set.rfind("rapport_session=", 0), 0u) << set;
  std::string token = set.substr(16, set.find(';') - 16);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(set.find("; Path=/; HttpOnly; SameSite=Strict"), std::string::npos) << set;
  EXPECT_EQ(set.find("Secure"), std::string::npos) << set;
  EXPECT_EQ(r.header("cache-control"), "no-store");
  const auto& user = r.json["user"];
  EXPECT_EQ(user["id"].GetInt64(), id);
  EXPECT_EQ(Str(user["email"]), "ana@example.com");
  EXPECT_EQ(Str(user["name"]), "Test Person");
  EXPECT_EQ(Str(user["department"]), "marketing");
  ASSERT_EQ(user["roles"].Size(), 1u);
  EXPECT_EQ(Str(user["roles"][0]), "marketing");
  EXPECT_FALSE(user["disabled"].GetBool());
  EXPECT_TRUE(ParseRfc3339(Str(user["createdAt"])).ok());
  std::vector<std::string> perms;
  for (const auto& p : r.json["permissions"].GetArray()) perms.push_back(Str(p));
  EXPECT_NE(std::find(perms.begin(), perms.end(), "customers:read"), perms.end());
  EXPECT_NE(std::find(perms.begin(), perms.end(), "rules:approve"), perms.end());
  EXPECT_EQ(std::find(perms.begin(), perms.end(), "users:admin"), perms.end());
  EXPECT_EQ(std::find(perms.begin(), perms.end(), "commerce:write"), perms.end());
  EXPECT_EQ(b.csrf.size(), 64u);
  auto expires = ParseRfc3339(Str(r.json["expiresAt"]));
  ASSERT_TRUE(expires.ok());
  EXPECT_EQ(expires->seconds(), clock_.Now().seconds() + 8 * 3600);
  // The body never carries the token itself.
  EXPECT_EQ(r.body.find(token), std::string::npos);

  auto again = b.Send("GET", "/v1/session");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Str(again.json["csrfToken"]), b.csrf);
  EXPECT_EQ(again.json["user"]["id"].GetInt64(), id);
  EXPECT_EQ(again.json["permissions"].Size(), r.json["permissions"].Size());
}

TEST_F(SessionTest, FieldErrorsAndWrongCredentials) {
  AddUser("ana@example.com", R"(["sales"])");
  HttpClient anon(server_->port());
  ExpectProblem(anon.Post("/v1/session", R"({"password":"correct horse battery"})"), 422, "/email");
  ExpectProblem(anon.Post("/v1/session", R"({"email":"","password":"x"})"), 422, "/email");
  ExpectProblem(anon.Post("/v1/session", R"({"email":"ana@example.com"})"), 422, "/password");
  ExpectProblem(anon.Post("/v1/session", R"({"email":"ana@example.com","password":""})"), 422, "/password");
  ExpectProblem(anon.Post("/v1/session", R"({"email":"ana@example.com","password":"x","remember":true})"), 400,
                "/remember");
  auto wrong = anon.Post("/v1/session", R"({"email":"ana@example.com","password":"wrong password"})");
  auto unknown = anon.Post("/v1/session", R"({"email":"bob@example.com","password":"correct horse battery"})");
  ExpectProblem(wrong, 401);
  ExpectProblem(unknown, 401);
  EXPECT_EQ(Str(wrong.json["detail"]), Str(unknown.json["detail"]));
  EXPECT_EQ(wrong.header("set-cookie"), "");
}

TEST_F(SessionTest, WithoutASessionNothingButSignIn) {
  HttpClient anon(server_->port());
  ExpectProblem(anon.Get("/v1/session"), 401);
  ExpectProblem(anon.Get("/v1/customers"), 401);
  // An API key has no session to show.
  ExpectProblem(admin().Get("/v1/session"), 401);
  // A made-up cookie is refused and cleared.
  auto forged = anon.Send("GET", "/v1/customers", "", {{"Cookie", "rapport_session=" + std::string(64, 'a')}});
  ExpectProblem(forged, 401);
  EXPECT_NE(forged.header("set-cookie").find("Max-Age=0"), std::string::npos) << forged.header("set-cookie");
}

TEST_F(SessionTest, ChangesNeedTheCsrfToken) {
  AddUser("ana@example.com", R"(["marketing"])");
  Browser b = SignedIn("ana@example.com");
  const std::string body = R"({"kind":"person","attributes":{"city":"Bonn"}})";
  auto missing = b.Send("POST", "/v1/customers", body, false);
  ExpectProblem(missing, 403);
  EXPECT_NE(Str(missing.json["detail"]).find("X-CSRF-Token"), std::string::npos) << missing.body;
  std::string right = b.csrf;
  b.csrf = std::string(64, '0');
  auto wrong = b.Send("POST", "/v1/customers", body);
  ExpectProblem(wrong, 403);
  EXPECT_NE(Str(wrong.json["detail"]).find("X-CSRF-Token"), std::string::npos) << wrong.body;
  b.csrf = right;
  auto created = b.Send("POST", "/v1/customers", body);
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t id = created.json["id"].GetInt64();
  // Reads need no CSRF token.
  EXPECT_EQ(b.Send("GET", "/v1/customers/" + std::to_string(id), "", false).status, 200);
  // PATCH and DELETE are checked too.
  ExpectProblem(b.Send("PATCH", "/v1/customers/" + std::to_string(id), R"({"attributes":{"city":"Köln"}})", false),
                403);
  ExpectProblem(b.Send("DELETE", "/v1/session", "", false), 403);
  EXPECT_EQ(b.Send("GET", "/v1/session").status, 200) << "the refused sign-out ended the session";
}

TEST_F(SessionTest, ApiKeysNeedNoCsrfAndWinOverACookie) {
  AddUser("ana@example.com", R"(["analyst"])");
  Browser b = SignedIn("ana@example.com");
  // A key alone: no CSRF token.
  EXPECT_EQ(As("marketing").Post("/v1/customers", R"({"kind":"person"})").status, 201);
  // A key with an analyst's cookie and no CSRF token acts as the key.
  auto both = As("marketing").Send("POST", "/v1/customers", R"({"kind":"person"})", {{"Cookie", b.cookie}});
  EXPECT_EQ(both.status, 201) << both.body;
  // A bad key is not rescued by a good cookie.
  auto bad = b.http->Send("GET", "/v1/customers", "", {{"Cookie", b.cookie}, {"Authorization", "Bearer rpk_nope"}});
  ExpectProblem(bad, 401);
}

TEST_F(SessionTest, SignOutEndsTheSessionOnTheServer) {
  AddUser("ana@example.com", R"(["marketing"])");
  Browser b = SignedIn("ana@example.com");
  Browser thief(server_->port());  // the same cookie, as a thief would have it
  thief.cookie = b.cookie;
  thief.csrf = b.csrf;
  auto out = b.Send("DELETE", "/v1/session");
  ASSERT_EQ(out.status, 204) << out.body;
  std::string set = out.header("set-cookie");
  EXPECT_EQ(set.rfind("rapport_session=;", 0), 0u) << set;
  EXPECT_NE(set.find("Max-Age=0"), std::string::npos) << set;
  ExpectProblem(thief.Send("GET", "/v1/customers"), 401);
  ExpectProblem(thief.Send("GET", "/v1/session"), 401);
  ExpectProblem(thief.Send("POST", "/v1/customers", R"({"kind":"person"})"), 401);
}

TEST_F(SessionTest, SessionsExpireWhenIdleAndAfterSevenDays) {
  AddUser("ana@example.com", R"(["marketing"])");
  Browser idle = SignedIn("ana@example.com");
  clock_.Advance(8 * 60 * kMinute - kMinute);
  EXPECT_EQ(idle.Send("GET", "/v1/customers").status, 200);
  clock_.Advance(8 * 60 * kMinute);
  ExpectProblem(idle.Send("GET", "/v1/customers"), 401);

  Browser busy = SignedIn("ana@example.com");
  for (int i = 1; i < 24; ++i) {  // used every 7 hours ...
    clock_.Advance(7 * 60 * kMinute);
    ASSERT_EQ(busy.Send("GET", "/v1/session").status, 200) << "after " << 7 * i << " hours";
  }
  clock_.Advance(7 * 60 * kMinute);  // ... until 168 hours, seven days, after sign-in
  ExpectProblem(busy.Send("GET", "/v1/session"), 401);
}

TEST_F(SessionTest, LockoutAnswers429WithRetryAfterThenLifts) {
  AddUser("ana@example.com", R"(["marketing"])");
  Browser b(server_->port());
  for (int i = 0; i < 4; ++i) ExpectProblem(b.SignIn("ana@example.com", "wrong password"), 401);
  auto fifth = b.SignIn("ana@example.com", "wrong password");
  ExpectProblem(fifth, 429);
  EXPECT_EQ(fifth.header("retry-after"), "900");
  clock_.Advance(5 * kMinute);
  auto right = b.SignIn("ana@example.com", kPassword);
  ExpectProblem(right, 429);
  EXPECT_EQ(right.header("retry-after"), "600");
  EXPECT_EQ(right.header("set-cookie"), "");
  // Another e-mail is not locked.
  AddUser("bob@example.com", R"(["sales"])");
  EXPECT_EQ(Browser(server_->port()).SignIn("bob@example.com", kPassword).status, 201);
  clock_.Advance(10 * kMinute);
  EXPECT_EQ(b.SignIn("ana@example.com", kPassword).status, 201);
}

TEST_F(SessionTest, DisablingAUserEndsTheirSessionsAndRefusesSignIn) {
  int64_t id = AddUser("ana@example.com", R"(["marketing"])");
  Browser b = SignedIn("ana@example.com");
  auto off = admin().Patch("/v1/users/" + std::to_string(id), R"({"disabled":true})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_TRUE(off.json["disabled"].GetBool());
  ExpectProblem(b.Send("GET", "/v1/customers"), 401);
  auto again = Browser(server_->port()).SignIn("ana@example.com", kPassword);
  ExpectProblem(again, 401);
  auto wrong = Browser(server_->port()).SignIn("ana@example.com", "wrong password");
  EXPECT_EQ(Str(again.json["detail"]), Str(wrong.json["detail"]));
  ASSERT_EQ(admin().Patch("/v1/users/" + std::to_string(id), R"({"disabled":false})").status, 200);
  EXPECT_EQ(Browser(server_->port()).SignIn("ana@example.com", kPassword).status, 201);
}

TEST_F(SessionTest, RolesAreEnforcedForSessions) {
  AddUser("ana@example.com", R"(["marketing"])");
  Browser b = SignedIn("ana@example.com");
  EXPECT_EQ(b.Send("GET", "/v1/customers").status, 200);
  auto post = b.Send("POST", "/v1/users",
                     R"({"email":"eve@example.com","name":"Eve","roles":["admin"],"password":"correct horse battery"})");
  ExpectProblem(post, 403);
  EXPECT_NE(Str(post.json["detail"]).find("users:admin"), std::string::npos) << post.body;
  ExpectProblem(b.Send("GET", "/v1/users"), 403);
  ExpectProblem(b.Send("GET", "/v1/api-keys"), 403);
  ExpectProblem(b.Send("POST", "/v1/transactions", R"({})"), 403);  // commerce:write is sales'
  // Several roles: the union of their permissions.
  AddUser("mia@example.com", R"(["marketing","sales"])");
  Browser both = SignedIn("mia@example.com");
  auto t = both.Send("POST", "/v1/transactions", R"({})");
  EXPECT_NE(t.status, 403) << t.body;
}

TEST_F(SessionTest, AnAnalystSessionSeesPiiMaskedLikeAnAnalystKey) {
  auto created = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":"Ada",)"
                                               R"("lastName":"Lovelace","email":"ada@example.com","city":"London"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string path = "/v1/customers/" + std::to_string(created.json["id"].GetInt64());
  AddUser("ana@example.com", R"(["analyst"])");
  Browser b = SignedIn("ana@example.com");
  auto by_session = b.Send("GET", path);
  auto by_key = As("analyst").Get(path);
  ASSERT_EQ(by_session.status, 200) << by_session.body;
  EXPECT_EQ(by_session.body, by_key.body);
  EXPECT_EQ(by_session.body.find("ada@example.com"), std::string::npos) << by_session.body;
  EXPECT_NE(admin().Get(path).body.find("ada@example.com"), std::string::npos);
  ExpectProblem(b.Send("GET", "/v1/customers?q=lovelace"), 403, "q");
}

TEST_F(SessionTest, AdminsManageUsersThroughASession) {
  AddUser("root@example.com", R"(["admin"])");
  Browser root = SignedIn("root@example.com");
  auto created = root.Send("POST", "/v1/users",
                           R"({"email":"Sam@Example.com","name":"Sam Seller","department":"sales",)"
                           R"("roles":["sales"],"password":"correct horse battery"})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t sam = created.json["id"].GetInt64();
  EXPECT_EQ(created.header("location"), "/v1/users/" + std::to_string(sam));
  EXPECT_EQ(Str(created.json["email"]), "sam@example.com");
  EXPECT_EQ(created.body.find("password"), std::string::npos);
  ExpectProblem(root.Send("POST", "/v1/users", R"({"email":"SAM@example.com","name":"Sam","roles":["sales"],)"
                                               R"("password":"correct horse battery"})"),
                409, "/email");
  ExpectProblem(root.Send("POST", "/v1/users", R"({"email":"x@example.com","name":"X","roles":["sales"],)"
                                               R"("password":"too short"})"),
                422, "/password");
  ExpectProblem(root.Send("POST", "/v1/users", R"({"email":"x@example.com","name":"X","roles":["janitor"],)"
                                               R"("password":"correct horse battery"})"),
                422, "/roles/0");
  ExpectProblem(root.Send("POST", "/v1/users", R"({"email":"x@example.com","name":"X",)"
                                               R"("password":"correct horse battery"})"),
                422, "/roles");

  auto page = root.Send("GET", "/v1/users?limit=1");
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page.json["items"].Size(), 1u);
  std::string cursor = Str(page.json["nextCursor"]);
  ASSERT_FALSE(cursor.empty()) << page.body;
  auto next = root.Send("GET", "/v1/users?limit=1&cursor=" + cursor);
  ASSERT_EQ(next.status, 200);
  EXPECT_EQ(next.json["items"][0]["id"].GetInt64(), sam);
  EXPECT_TRUE(next.json["nextCursor"].IsNull());

  auto got = root.Send("GET", "/v1/users/" + std::to_string(sam));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Str(got.json["name"]), "Sam Seller");
  ExpectProblem(root.Send("GET", "/v1/users/999999"), 404);

  Browser sam_browser = SignedIn("sam@example.com");
  auto patched = root.Send("PATCH", "/v1/users/" + std::to_string(sam),
                           R"({"name":"Sam S.","department":"service","roles":["service","sales"]})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Str(patched.json["department"]), "service");
  EXPECT_EQ(patched.json["roles"].Size(), 2u);
  // A fresh read: Sam's session shows the new roles at once.
  auto fresh = sam_browser.Send("GET", "/v1/session");
  ASSERT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.json["user"]["roles"].Size(), 2u);
  ExpectProblem(root.Send("PATCH", "/v1/users/" + std::to_string(sam), R"({"roles":[]})"), 422, "/roles");

  // An administrator's reset ends Sam's sessions.
  ASSERT_EQ(root.Send("PUT", "/v1/users/" + std::to_string(sam) + "/password", R"({"password":"a new password!"})")
                .status,
            204);
  ExpectProblem(sam_browser.Send("GET", "/v1/session"), 401);
  EXPECT_EQ(Browser(server_->port()).SignIn("sam@example.com", "a new password!").status, 201);
  ExpectProblem(root.Send("PUT", "/v1/users/" + std::to_string(sam) + "/password", R"({"password":"short"})"), 422,
                "/password");
}

TEST_F(SessionTest, UsersChangeTheirOwnPassword) {
  AddUser("ana@example.com", R"(["service"])");
  Browser b = SignedIn("ana@example.com");
  Browser other = SignedIn("ana@example.com");
  ExpectProblem(b.Send("PUT", "/v1/session/password",
                       R"({"currentPassword":"not the password","newPassword":"a brand new one"})"),
                422, "/currentPassword");
  ExpectProblem(b.Send("PUT", "/v1/session/password", R"({"currentPassword":"correct horse battery"})"), 422,
                "/newPassword");
  ASSERT_EQ(b.Send("PUT", "/v1/session/password",
                   R"({"currentPassword":"correct horse battery","newPassword":"a brand new one"})")
                .status,
            204);
  EXPECT_EQ(b.Send("GET", "/v1/session").status, 200);
  ExpectProblem(other.Send("GET", "/v1/session"), 401);
  ExpectProblem(admin().Put("/v1/session/password", R"({"currentPassword":"x","newPassword":"y"})"), 401);
}

TEST_F(SessionTest, AdminsManageApiKeys) {
  AddUser("root@example.com", R"(["admin"])");
  Browser root = SignedIn("root@example.com");
  auto created = root.Send("POST", "/v1/api-keys", R"({"role":"sales","name":"billing sync"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key = Str(created.json["key"]);
  std::string prefix = Str(created.json["prefix"]);
  EXPECT_EQ(key.rfind("rpk_" + prefix + "_", 0), 0u) << key;
  EXPECT_EQ(Str(created.json["role"]), "sales");
  HttpClient system(server_->port(), key);
  EXPECT_EQ(system.Get("/v1/customers").status, 200);

  auto list = root.Send("GET", "/v1/api-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("rpk_"), std::string::npos) << "a list must not show keys";
  bool listed = false;
  for (const auto& k : list.json["items"].GetArray()) {
    if (Str(k["prefix"]) == prefix) {
      listed = true;
      EXPECT_EQ(Str(k["name"]), "billing sync");
      EXPECT_TRUE(k["revokedAt"].IsNull());
    }
  }
  EXPECT_TRUE(listed) << list.body;
  ExpectProblem(root.Send("POST", "/v1/api-keys", R"({"role":"janitor"})"), 422, "/role");

  ASSERT_EQ(root.Send("DELETE", "/v1/api-keys/" + prefix).status, 204);
  ExpectProblem(system.Get("/v1/customers"), 401);  // at once, not after the cache's minute
  ExpectProblem(root.Send("DELETE", "/v1/api-keys/000000000000"), 404, "prefix");
  ExpectProblem(As("marketing").Post("/v1/api-keys", R"({"role":"admin"})"), 403);
}

TEST_F(SessionTest, TheAccessLogNamesTheUserNeverTheToken) {
  int64_t id = AddUser("ana@example.com", R"(["marketing"])");
  Browser b = SignedIn("ana@example.com");
  ASSERT_EQ(b.Send("GET", "/v1/customers").status, 200);
  std::string token = b.cookie.substr(b.cookie.find('=') + 1);
  std::string log = Log();
  EXPECT_NE(log.find("route=/v1/customers status=200 ms="), std::string::npos) << log;
  EXPECT_NE(log.find(" key=user:" + std::to_string(id) + "\n"), std::string::npos) << log;
  EXPECT_EQ(log.find(token), std::string::npos) << "the session token is in the access log";
  EXPECT_EQ(log.find(b.csrf), std::string::npos);
  EXPECT_EQ(log.find(kPassword), std::string::npos);
}

// What `rapport users add|disable|password` call, on the data directory of
// a running server.
TEST_F(SessionTest, UsersFromTheCommandLineSignInAndAreDisabledAtOnce) {
  auto added = server::AddUser(dir_.string(), {"Cli@Example.com", "Cli User", "it", {"admin"}, kPassword});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->email, "cli@example.com");
  auto dup = server::AddUser(dir_.string(), {"cli@example.com", "Again", "", {"sales"}, kPassword});
  EXPECT_EQ(dup.status().field(), "/email");
  auto bad_role = server::AddUser(dir_.string(), {"x@example.com", "X", "", {"janitor"}, kPassword});
  EXPECT_EQ(bad_role.status().field(), "/roles/0");
  AddUser("other@example.com", R"(["admin"])");
  Browser b = SignedIn("cli@example.com");
  EXPECT_EQ(b.Send("GET", "/v1/users").status, 200);
  auto all = server::ListUsers(dir_.string());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);

  ASSERT_TRUE(server::ResetUserPassword(dir_.string(), "CLI@example.com", "a changed password").ok());
  ExpectProblem(b.Send("GET", "/v1/session"), 401);
  b = SignedIn("cli@example.com", "a changed password");
  ASSERT_TRUE(server::DisableUser(dir_.string(), "cli@example.com").ok());
  ExpectProblem(b.Send("GET", "/v1/session"), 401);
  EXPECT_EQ(server::DisableUser(dir_.string(), "nobody@example.com").code(), StatusCode::kNotFound);
}

class SecureCookieTest : public SessionTest {
 protected:
  void Configure(ServerOptions& o) override {
    SessionTest::Configure(o);
    o.secure_cookies = true;
    o.session_idle = std::chrono::minutes(30);
    o.lockout_failures = 2;
    o.lockout_duration = std::chrono::minutes(1);
  }
};

TEST_F(SecureCookieTest, CookiesAreSecureAndTheLimitsConfigurable) {
  AddUser("ana@example.com", R"(["marketing"])");
  Browser b = SignedIn("ana@example.com");
  auto r = b.Send("GET", "/v1/session");
  ASSERT_EQ(r.status, 200);
  auto expires = ParseRfc3339(Str(r.json["expiresAt"]));
  ASSERT_TRUE(expires.ok());
  EXPECT_EQ(expires->seconds(), clock_.Now().seconds() + 30 * 60);
  auto out = b.Send("DELETE", "/v1/session");
  EXPECT_NE(out.header("set-cookie").find("; Secure"), std::string::npos) << out.header("set-cookie");
  auto again = b.SignIn("ana@example.com", kPassword);
  EXPECT_NE(again.header("set-cookie").find("; Secure"), std::string::npos) << again.header("set-cookie");
  clock_.Advance(31 * kMinute);
  ExpectProblem(b.Send("GET", "/v1/session"), 401);

  Browser c(server_->port());
  ExpectProblem(c.SignIn("ana@example.com", "wrong password"), 401);
  auto locked = c.SignIn("ana@example.com", "wrong password");
  ExpectProblem(locked, 429);
  EXPECT_EQ(locked.header("retry-after"), "60");
}

}  // namespace
}  // namespace rapport::server::testing
