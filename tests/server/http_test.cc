// The HTTP layer without sockets: targets, routing, the worker pool and the
// problem-document funnel.

#include "server/internal/http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "common/json.h"
#include "server/internal/auth.h"
#include "server/internal/problem.h"

namespace rapport::server::internal {
namespace {

TEST(ParseTargetTest, DecodesPathAndQuery) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/v1/customers?q=ada+lovelace&asOf=2026-01-01T00%3A00%3A00Z&x", &path, &query).ok());
  EXPECT_EQ(path, "/v1/customers");
  EXPECT_EQ(query["q"], "ada lovelace");
  EXPECT_EQ(query["asOf"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(query.count("x"), 1u);
  query.clear();
  EXPECT_FALSE(ParseTarget("/a?q=%zz", &path, &query).ok());
  EXPECT_FALSE(ParseTarget("/a%2", &path, &query).ok());
}

TEST(RouterTest, MatchesPatternsAndReportsAllowedMethods) {
  Router<int> r;
  r.Get("/v1/customers", 1);
  r.Post("/v1/customers", 2);
  r.Get("/v1/customers/{id}", 3);
  r.Put("/v1/customers/{id}/consents/{channel}", 4);
  auto m = r.Find(Method::kGet, "/v1/customers/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->handler, 3);
  EXPECT_EQ(m.params["id"], "42");
  m = r.Find(Method::kPut, "/v1/customers/7/consents/email");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params["channel"], "email");
  m = r.Find(Method::kDelete, "/v1/customers");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<Method>{Method::kGet, Method::kPost}));
  m = r.Find(Method::kGet, "/v1/nothing");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
  EXPECT_EQ(r.Find(Method::kGet, "/v1/customers/").route->handler, 1);  // trailing slash
}

TEST(WorkerPoolTest, RefusesWorkBeyondCapacity) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  std::promise<void> started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
    ++ran;
  }));
  started.get_future().wait();  // the worker is busy; the queue is empty
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // queue full
  release.set_value();
  pool.Shutdown();  // drains the queue
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

TEST(ProblemTest, StatusBecomesAProblemDocument) {
  Response r = ProblemFromStatus(Status::InvalidArgument("expected a string", "/attributes/email"), "/v1/customers");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto d = json::Parse(r.body);
  ASSERT_TRUE(d.ok());
  const auto& doc = **d;
  EXPECT_STREQ(doc["type"].GetString(), "https://rapport.dev/problems/invalid-request");
  EXPECT_STREQ(doc["title"].GetString(), "Bad Request");
  EXPECT_EQ(doc["status"].GetInt(), 400);
  EXPECT_STREQ(doc["detail"].GetString(), "expected a string");
  EXPECT_STREQ(doc["instance"].GetString(), "/v1/customers");
  EXPECT_STREQ(doc["errors"][0]["field"].GetString(), "/attributes/email");

  r = ProblemFromStatus(Status::NotFound("customer 9 does not exist", "id"), "/v1/customers/9");
  d = json::Parse(r.body);
  EXPECT_STREQ((**d)["errors"][0]["parameter"].GetString(), "id");

  r = ProblemFromStatus(Status::Internal("sqlite: disk I/O error in /secret/path"), "/x");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("/secret/path"), std::string::npos);
}

TEST(PermissionTest, RolesFollowTheTable) {
  using P = Permission;
  for (P p : {P::kCustomersRead, P::kCustomersWrite, P::kCommerceWrite, P::kInteractionsWrite, P::kConsentsWrite,
              P::kPiiRead, P::kCatalogWrite}) {
    EXPECT_TRUE(RoleAllows(Role::kAdmin, p)) << PermissionName(p);
    EXPECT_EQ(RoleAllows(Role::kAnalyst, p), p == P::kCustomersRead) << PermissionName(p);
  }
  EXPECT_TRUE(RoleAllows(Role::kSales, P::kCommerceWrite));
  EXPECT_FALSE(RoleAllows(Role::kMarketing, P::kCommerceWrite));
  EXPECT_FALSE(RoleAllows(Role::kSales, P::kConsentsWrite));
  EXPECT_TRUE(RoleAllows(Role::kService, P::kConsentsWrite));
  EXPECT_FALSE(RoleAllows(Role::kService, P::kCatalogWrite));
  EXPECT_EQ(*ParseRole("marketing"), Role::kMarketing);
  EXPECT_FALSE(ParseRole("root").ok());
}

}  // namespace
}  // namespace rapport::server::internal
