// Which lane each route runs on: the reads that scan the profile store or
// many customers are heavy, /healthz is inline, everything else (writes,
// tracking, single-customer reads) is on the request pool.

#include <gtest/gtest.h>

#include <filesystem>

#include "server/internal/app.h"
#include "server/server_fixture.h"

namespace rapport::server::internal {
namespace {

TEST(LaneTest, ScansAreHeavyAndHealthIsInline) {
  auto dir = testing::FreshDir("lanes");
  auto db = storage::OpenSqlite((dir / "rapport.db").string());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(MigrateKeys(**db).ok());
  {
    App app(store->get(), db->get(), 1 << 20);
    auto lane = [&app](Method m, const std::string& path) {
      Request req;
      req.method = m;
      req.path = path;
      return app.LaneOf(req);
    };
    for (auto [m, path] : std::vector<std::pair<Method, std::string>>{
             {Method::kPost, "/v1/segments/preview"},
             {Method::kPost, "/v1/segments"},
             {Method::kGet, "/v1/segments/7/members"},
             {Method::kPost, "/v1/segments/7/snapshots"},
             {Method::kPost, "/v1/analytics/query"},
             {Method::kPost, "/v1/identity/model"},
             {Method::kGet, "/v1/identity/households"}}) {
      EXPECT_EQ(lane(m, path), Lane::kHeavy) << MethodName(m) << " " << path;
    }
    for (auto [m, path] : std::vector<std::pair<Method, std::string>>{{Method::kPost, "/v1/customers"},
                                                                     {Method::kGet, "/v1/customers/7"},
                                                                     {Method::kGet, "/v1/segments"},
                                                                     {Method::kPost, "/v1/decide"},
                                                                     {Method::kGet, "/v1/nothing"}}) {
      EXPECT_EQ(lane(m, path), Lane::kRequest) << MethodName(m) << " " << path;
    }
    EXPECT_EQ(lane(Method::kGet, "/healthz"), Lane::kInline);
    // Inline routes run on the I/O thread before any key is checked: none
    // may need a permission.
    for (const std::string& route : app.Routes()) {
      size_t space = route.find(' ');
      std::string method = route.substr(0, space);
      if (method != "GET" && method != "POST") continue;
      Request req;
      req.method = method == "GET" ? Method::kGet : Method::kPost;
      req.path = route.substr(space + 1);
      EXPECT_TRUE(app.LaneOf(req) != Lane::kInline || route == "GET /healthz") << route;
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::server::internal
