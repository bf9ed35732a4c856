// The segment and analytics routes end to end: a real server over demo data
// called with a real HTTP client.

#include <gtest/gtest.h>

#include "customer/customer.h"
#include "demo/demo.h"
#include "server/http_client.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

class SegmentApiTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    auto db = storage::OpenSqlite(o.data_dir + "/rapport.db", storage::SqliteOptions{false, 10000});
    ASSERT_TRUE(db.ok());
    auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
    ASSERT_TRUE(store.ok());
    demo::DemoOptions d;
    d.customers = 300;
    d.end = SystemClock::Default()->Now();
    ASSERT_TRUE(demo::GenerateIntoStore(**store, d).ok());
  }
};

TEST_F(SegmentApiTest, PreviewSaveReadPageAndExport) {
  auto preview = admin().Post("/v1/segments/preview", R"j({"condition": "kind = \"person\" and revenue > 0"})j");
  ASSERT_EQ(preview.status, 200) << preview.body;
  int64_t size = preview.json["size"].GetInt64();
  EXPECT_GT(size, 10);

  auto created = As("marketing").Post(
      "/v1/segments", R"j({"name": "buyers", "description": "persons who bought", "condition": "kind = \"person\" and revenue > 0"})j");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t id = created.json["id"].GetInt64();
  EXPECT_EQ(created.json["size"].GetInt64(), size);
  EXPECT_EQ(created.header("location"), "/v1/segments/" + std::to_string(id));

  auto got = As("analyst").Get("/v1/segments/" + std::to_string(id));
  ASSERT_EQ(got.status, 200);
  EXPECT_STREQ(got.json["name"].GetString(), "buyers");

  int64_t seen = 0;
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = admin().Get("/v1/segments/" + std::to_string(id) + "/members?limit=7" +
                            (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    seen += page.json["items"].Size();
    if (page.json["nextCursor"].IsNull()) break;
    cursor = page.json["nextCursor"].GetString();
  }
  EXPECT_EQ(seen, size);

  auto csv = admin().Get("/v1/segments/" + std::to_string(id) + "/members?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("content-type").rfind("text/csv", 0), 0u);
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), size + 1);

  // The 360 view lists the segment for a member.
  auto first = admin().Get("/v1/segments/" + std::to_string(id) + "/members?limit=1");
  int64_t member = first.json["items"][0].GetInt64();
  auto view = admin().Get("/v1/customers/" + std::to_string(member) + "/view");
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_NE(view.body.find("\"buyers\""), std::string::npos) << view.body;

  EXPECT_EQ(As("analyst").Post("/v1/segments", R"j({"name": "x", "condition": "true"})j").status, 403);
  EXPECT_EQ(admin().Send("DELETE", "/v1/segments/" + std::to_string(id), "").status, 204);
  EXPECT_EQ(admin().Get("/v1/segments/" + std::to_string(id)).status, 404);
}

TEST_F(SegmentApiTest, BadConditionsAreProblemsPointingAtThePosition) {
  auto r = admin().Post("/v1/segments/preview", R"j({"condition": "revenue > 500 and regoin = \"north\""})j");
  ExpectProblem(r, 400, "/condition");
  EXPECT_EQ(r.json["errors"][0]["position"].GetInt(), 18) << r.body;
  EXPECT_NE(std::string(r.json["detail"].GetString()).find("unknown column 'regoin'"), std::string::npos);

  r = admin().Post("/v1/segments", R"j({"name": "bad", "condition": "revenue > \"lots\""})j");
  ExpectProblem(r, 400, "/condition");
  EXPECT_EQ(r.json["errors"][0]["position"].GetInt(), 10) << r.body;

  r = admin().Post("/v1/segments/preview", R"j({"condition": "revenue > (1 +"})j");
  ExpectProblem(r, 400, "/condition");
  EXPECT_TRUE(r.json["errors"][0].HasMember("position")) << r.body;
}

TEST_F(SegmentApiTest, AnalyticsQueryAsJsonAndCsv) {
  const char* q = R"j({"measures": ["count", "sum(revenue)"], "dimensions": ["kind"], "limit": 10})j";
  auto r = As("analyst").Post("/v1/analytics/query", q);
  ASSERT_EQ(r.status, 200) << r.body;
  int64_t total = 0;
  for (const auto& row : r.json["rows"].GetArray()) total += row["count"].GetInt64();
  auto all = admin().Post("/v1/segments/preview", R"j({"condition": "true"})j");
  EXPECT_EQ(total, all.json["size"].GetInt64());

  auto csv = As("analyst").Post("/v1/analytics/query?format=csv", q);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.substr(0, csv.body.find('\n')), "kind,count,sum(revenue)");

  ExpectProblem(admin().Post("/v1/analytics/query", R"j({"measures": ["sum(region)"]})j"), 400, "/measures/0");
  ExpectProblem(admin().Post("/v1/analytics/query", R"j({"measures": ["count"], "filter": "regoin = 1"})j"), 400,
                "/filter");
}

// A purchase recorded through the API moves the customer into a saved
// segment at once, with no rebuild; the view lists it.
TEST_F(SegmentApiTest, AWriteMovesACustomerIntoASegment) {
  auto created = admin().Post("/v1/segments", R"j({"name": "whales", "condition": "revenue30d > 100000"})j");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string seg = "/v1/segments/" + std::to_string(created.json["id"].GetInt64());
  EXPECT_EQ(created.json["size"].GetInt64(), 0);

  auto person = admin().Post("/v1/customers", R"j({"kind": "person", "attributes": {"firstName": "Ada", "lastName": "Lovelace"}})j");
  ASSERT_EQ(person.status, 201) << person.body;
  int64_t id = person.json["id"].GetInt64();
  auto preview = admin().Post("/v1/segments/preview", R"j({"condition": "kind = \"person\" and orders = 0 and revenue = 0"})j");
  int64_t before = preview.json["size"].GetInt64();
  EXPECT_GT(before, 0);  // the new person is already in the store

  std::string now = FormatRfc3339(SystemClock::Default()->Now());
  auto tx = admin().Post("/v1/transactions", "{\"customerId\": " + std::to_string(id) +
                                                ", \"source\": \"shop\", \"sourceKey\": \"W-1\", \"occurredAt\": \"" + now +
                                                "\", \"channel\": \"web\", \"amount\": 250000}");
  ASSERT_EQ(tx.status, 201) << tx.body;

  auto got = admin().Get(seg);
  EXPECT_EQ(got.json["size"].GetInt64(), 1) << got.body;
  auto members = admin().Get(seg + "/members");
  ASSERT_EQ(members.json["items"].Size(), 1u);
  EXPECT_EQ(members.json["items"][0].GetInt64(), id);
  auto view = admin().Get("/v1/customers/" + std::to_string(id) + "/view");
  EXPECT_NE(view.body.find("\"whales\""), std::string::npos) << view.body;
}

}  // namespace
}  // namespace rapport::server::testing
