// End to end: writes reach the profile store and segment counts, identity
// matching and triggers through the change feed, without a restart and
// without the route calling them: the bulk source upsert, a patch, and an
// import written by another handle on the database (as `rapport import`
// beside the server would).

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "customer/customer.h"
#include "server/server_fixture.h"
#include "storage/storage.h"

namespace rapport::server::testing {
namespace {

class FeedProfileTest : public TrackingServerTest {
 protected:
  // The preview count of a condition, or -1 on error.
  int64_t Count(const std::string& condition) {
    auto r = admin().Post("/v1/segments/preview", R"({"condition":")" + condition + R"("})");
    if (r.status != 200 || !r.json.IsObject() || !r.json["size"].IsInt64()) return -1;
    return r.json["size"].GetInt64();
  }
  bool CountBecomes(const std::string& condition, int64_t n) {
    return Eventually([&] { return Count(condition) == n; });
  }
};

TEST_F(FeedProfileTest, BulkUpsertsPatchesAndImportsReachSegmentsWithoutARestart) {
  const std::string berlin = R"(city = \"Berlin\")";
  ASSERT_EQ(Count(berlin), 0);
  auto bulk = admin().Post("/v1/sources/billing/customers", R"({"records":[
      {"sourceKey":"1","kind":"person","attributes":{"firstName":"Ann","city":"Berlin"}},
      {"sourceKey":"2","kind":"person","attributes":{"firstName":"Bo","city":"Berlin"}},
      {"sourceKey":"3","kind":"person","attributes":{"firstName":"Cy","city":"Rome"}}]})");
  ASSERT_LT(bulk.status, 300) << bulk.body;
  EXPECT_TRUE(CountBecomes(berlin, 2)) << Count(berlin);

  auto id = server_->customers().FindByIdentifier({"billing", "2"});
  ASSERT_TRUE(id.ok() && *id);
  auto patched = admin().Patch("/v1/customers/" + std::to_string(**id), R"({"attributes":{"city":"Rome"}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(CountBecomes(berlin, 1));
  EXPECT_TRUE(CountBecomes(R"(city = \"Rome\")", 2));

  // Another handle on the same file, as an import process would open it:
  // no in-process call reaches the server; the feed's table does.
  auto db = storage::OpenSqlite((dir_ / "rapport.db").string());
  ASSERT_TRUE(db.ok());
  auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
  ASSERT_TRUE(store.ok());
  std::vector<customer::CustomerRecord> records(2);
  records[0].source_key = "10";
  records[0].attributes = {{"city", std::string("Berlin")}};
  records[1].source_key = "3";  // Cy moves
  records[1].attributes = {{"city", std::string("Berlin")}};
  auto imported = (*store)->UpsertCustomers("billing", records);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->created, 1);
  EXPECT_EQ(imported->updated, 1);
  EXPECT_TRUE(CountBecomes(berlin, 3)) << Count(berlin);
  EXPECT_TRUE(CountBecomes(R"(city = \"Rome\")", 1));
}

// A restart resumes the profile subscriber from its mark: what was written
// while the server was down is in the rebuilt store, and the server keeps
// following the feed afterwards.
TEST_F(FeedProfileTest, ARestartedServerFollowsTheFeedAgain) {
  const std::string paris = R"(city = \"Paris\")";
  ASSERT_EQ(admin().Post("/v1/sources/billing/customers",
                         R"({"records":[{"sourceKey":"1","kind":"person","attributes":{"city":"Paris"}}]})").status, 200);
  ASSERT_TRUE(CountBecomes(paris, 1));
  clients_.clear();
  server_.reset();
  {
    auto db = storage::OpenSqlite((dir_ / "rapport.db").string());
    ASSERT_TRUE(db.ok());
    auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
    ASSERT_TRUE(store.ok());
    customer::CustomerRecord r;
    r.source_key = "2";
    r.attributes = {{"city", std::string("Paris")}};
    ASSERT_TRUE((*store)->UpsertCustomers("billing", {r}).ok());
  }
  ServerOptions o;
  o.data_dir = dir_.string();
  o.listen = "127.0.0.1:0";
  o.durable = false;
  auto s = Server::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  server_ = std::move(*s);
  ASSERT_TRUE(server_->Start().ok());
  EXPECT_EQ(Count(paris), 2);  // built at start
  ASSERT_EQ(admin().Post("/v1/sources/billing/customers",
                         R"({"records":[{"sourceKey":"3","kind":"person","attributes":{"city":"Paris"}}]})").status, 200);
  EXPECT_TRUE(CountBecomes(paris, 3));
}

}  // namespace
}  // namespace rapport::server::testing

namespace rapport::server::testing {
namespace {

// Interactions that another process imports reach triggers through the
// feed (no route publishes them), and each fires once.
TEST_F(FeedProfileTest, ImportedInteractionsRaiseTriggersOnce) {
  HttpReply t = admin().Post("/v1/triggers", R"({"name": "complaint",
      "event": {"type": "interaction.created", "where": "event.properties.type = \"complaint\""},
      "action": {"type": "alert", "severity": "warning", "message": "\"Complaint via \" + event.properties.channel"}})");
  ASSERT_EQ(t.status, 201) << t.body;
  ASSERT_EQ(admin().Post("/v1/sources/billing/customers",
                         R"({"records":[{"sourceKey":"7","kind":"person","attributes":{"firstName":"Ida"}}]})").status,
            200);
  auto id = server_->customers().FindByIdentifier({"billing", "7"});
  ASSERT_TRUE(id.ok() && *id);
  const std::string view = "/v1/customers/" + std::to_string(**id) + "/view";

  auto db = storage::OpenSqlite((dir_ / "rapport.db").string());
  ASSERT_TRUE(db.ok());
  auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
  ASSERT_TRUE(store.ok());
  customer::Interaction call;
  call.source = "pbx";
  call.source_key = "call-9";
  call.type = "complaint";
  call.channel = "phone";
  customer::Interaction visit = call;
  visit.source_key = "visit-1";
  visit.type = "visit";
  visit.channel = "store";
  auto imported = (*store)->AddInteractions({{{"billing", "7"}, call}, {{"billing", "7"}, visit}});
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  HttpReply v;
  EXPECT_TRUE(Eventually([&] {
    v = admin().Get(view);
    return v.status == 200 && v.json["sections"]["alerts"].Size() == 1;
  })) << v.body;
  EXPECT_NE(v.body.find("Complaint via phone"), std::string::npos) << v.body;
  // The same import again adds nothing, so nothing fires again.
  ASSERT_TRUE((*store)->AddInteractions({{{"billing", "7"}, call}}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(admin().Get(view).json["sections"]["alerts"].Size(), 1u);
}

// Customers written by a bulk source upsert and by another process are
// matched against the identity model through the feed, like API creates.
TEST_F(FeedProfileTest, BulkUpsertsAndImportsAreMatchedInRealTime) {
  HttpReply ada = admin().Post("/v1/customers",
                               R"({"kind":"person","attributes":{"firstName":"Ada","lastName":"Byron","email":"ada@example.com"}})");
  ASSERT_EQ(ada.status, 201) << ada.body;
  int64_t first = ada.json["id"].GetInt64();
  for (int i = 0; i < 20; ++i) {
    std::string n = std::to_string(i);
    ASSERT_EQ(admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":"P)" + n +
                                                R"(","lastName":"L)" + std::to_string(i % 4) + R"(","email":"p)" + n + R"(@example.com"}})")
                  .status,
              201);
  }
  auto m = admin().Post("/v1/identity/model", R"({
    "comparisons": [{"column": "firstName", "normalizer": "name", "levels": [{"type": "exact"}]},
                    {"column": "lastName", "normalizer": "name", "levels": [{"type": "exact"}]}],
    "blocking": [["lastName"]],
    "deterministic": [{"column": "email", "normalizer": "email"}],
    "training": {"uSamplePairs": 2000}})");
  ASSERT_EQ(m.status, 200) << m.body;
  auto golden_of = [&](int64_t id) {
    auto g = admin().Get("/v1/customers/" + std::to_string(id) + "/golden");
    return g.status == 200 ? g.json["id"].GetInt64() : -1;
  };

  ASSERT_EQ(admin().Post("/v1/sources/billing/customers", R"({"records":[
      {"sourceKey":"b1","kind":"person","attributes":{"firstName":"A.","lastName":"Byron","email":"ADA@example.com"}}]})")
                .status,
            200);
  auto bulk = server_->customers().FindByIdentifier({"billing", "b1"});
  ASSERT_TRUE(bulk.ok() && *bulk);
  EXPECT_TRUE(Eventually([&] { return golden_of(**bulk) == first; })) << golden_of(**bulk);

  auto db = storage::OpenSqlite((dir_ / "rapport.db").string());
  ASSERT_TRUE(db.ok());
  auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
  ASSERT_TRUE(store.ok());
  std::vector<customer::CustomerRecord> records(1);
  records[0].source_key = "c1";
  records[0].attributes = {{"firstName", std::string("Augusta")}, {"lastName", std::string("Byron")},
                           {"email", std::string("ada@EXAMPLE.com")}};
  auto imported = (*store)->UpsertCustomers("crm", records);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto other = server_->customers().FindByIdentifier({"crm", "c1"});
  ASSERT_TRUE(other.ok() && *other);
  EXPECT_TRUE(Eventually([&] { return golden_of(**other) == first; })) << golden_of(**other);
}

}  // namespace
}  // namespace rapport::server::testing
