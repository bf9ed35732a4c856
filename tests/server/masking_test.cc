// Personal data stays masked for roles without pii:read beyond the customer
// reads: segment conditions, analytics dimensions, measures and filters may
// not use PII columns, small groups and counts are suppressed, and search by
// name, e-mail or phone is refused. End to end: analyst key against the
// admin and marketing keys, over HTTP.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <string>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

std::string Str(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : ""; }

class MaskingTest : public ServerTest {
 protected:
  // Beside the default columns, two from profile.json: dob copies birthDate
  // under another name, income is a number the test marks as PII.
  void Configure(ServerOptions&) override {
    std::ofstream(dir_ / "profile.json") << R"({"defaults": true, "attributes": [
        {"name": "dob", "attribute": "birthDate", "type": "date"},
        {"name": "income", "type": "number"}]})";
  }

  // Six people in Berlin and one, Ada, in Hamburg (a group of one).
  void SetUp() override {
    ServerTest::SetUp();
    auto defined = admin().Post("/v1/attributes", R"({"name":"income","type":"number","pii":false})");
    ASSERT_EQ(defined.status, 201) << defined.body;
    for (int i = 0; i < 6; ++i) {
      std::string n = std::to_string(i);
      Person("P" + n, "p" + n + "@example.com", "+4930100000" + n, "1970-01-0" + std::to_string(i + 1), "10115",
             "Berlin");
    }
    ada_ = Person("Ada", "ada@example.com", "+494012345678", "1980-03-04", "20095", "Hamburg");
    // The profile store follows the change feed: wait until it holds all seven.
    bool ready = false;
    for (int i = 0; i < 2000 && !ready; ++i) {
      auto r = admin().Post("/v1/segments/preview", R"({"condition":"city = \"Berlin\" or city = \"Hamburg\""})");
      ready = r.status == 200 && r.json.IsObject() && r.json["size"].IsInt64() && r.json["size"].GetInt64() == 7;
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(ready) << "the profile store did not reach the seven customers";
  }

  int64_t Person(const std::string& first, const std::string& email, const std::string& phone,
                 const std::string& birth, const std::string& postcode, const std::string& city) {
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":")" + first +
                                               R"(","lastName":"Lovelace","email":")" + email +
                                               R"(","birthDate":")" + birth + R"(","postcode":")" + postcode +
                                               R"(","city":")" + city + R"(","income":50000},"identifiers":["email:)" +
                                               email + R"(","phone:)" + phone + R"("]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json.IsObject() ? r.json["id"].GetInt64() : 0;
  }

  static void ExpectPiiRefused(const HttpReply& r, const std::string& field, const std::string& attribute) {
    ExpectProblem(r, 403, field);
    EXPECT_NE(Str(r.json["detail"]).find(attribute), std::string::npos) << r.body;
  }

  int64_t ada_ = 0;
};

TEST_F(MaskingTest, AnalyticsOnPiiColumnsIsRefusedToAnalysts) {
  const std::string q = R"({"measures":["count"],"dimensions":["birthDate","postcode"]})";
  ExpectPiiRefused(As("analyst").Post("/v1/analytics/query", q), "/dimensions/0", "birthDate");
  ExpectPiiRefused(As("analyst").Post("/v1/analytics/query?format=csv", q), "/dimensions/0", "birthDate");
  // postcode is a quasi-identifier, protected by the minimum group size,
  // not refused: the error names the second dimension.
  ExpectPiiRefused(As("analyst").Post("/v1/analytics/query", R"({"measures":["count"],"dimensions":["postcode","birthDate"]})"),
                   "/dimensions/1", "birthDate");
  ExpectPiiRefused(As("analyst").Post("/v1/analytics/query",
                                      R"j({"measures":["count"],"filter":"birthDate > date(\"1975-01-01\")"})j"),
                   "/filter", "birthDate");
  // A column is judged by the attribute it copies, whatever its name.
  ExpectPiiRefused(As("analyst").Post("/v1/analytics/query", R"({"measures":["count"],"dimensions":["dob"]})"),
                   "/dimensions/0", "birthDate");
  // Measures: income is PII once the catalog says so.
  const std::string income = R"j({"measures":["count","sum(income)"]})j";
  ASSERT_EQ(As("analyst").Post("/v1/analytics/query", income).status, 200);
  ASSERT_EQ(admin().Post("/v1/attributes", R"({"name":"income","type":"number","pii":true})").status, 201);
  ExpectPiiRefused(As("analyst").Post("/v1/analytics/query", income), "/measures/1", "income");
  ExpectPiiRefused(As("analyst").Post("/v1/segments/preview", R"({"condition":"income > 1000"})"), "/condition",
                   "income");
  EXPECT_EQ(admin().Post("/v1/analytics/query", income).status, 200);

  // The admin sees Ada's group of one, birth date and all.
  auto r = admin().Post("/v1/analytics/query", q);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"].Size(), 7u) << r.body;
  EXPECT_NE(r.body.find("1980-03-04"), std::string::npos) << r.body;
  EXPECT_EQ(r.json["suppressedRows"].GetInt64(), 0);

  // Derived columns are fine: ageBand and age come from birthDate.
  r = As("analyst").Post("/v1/analytics/query", R"j({"measures":["count","avg(age)"],"dimensions":["ageBand"]})j");
  ASSERT_EQ(r.status, 200) << r.body;
  r = As("analyst").Post("/v1/analytics/query", R"({"measures":["count"],"filter":"age > 30"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"][0]["count"].GetInt64(), 7);
}

TEST_F(MaskingTest, SegmentConditionsOnPiiColumnsAreRefusedToAnalysts) {
  const std::string single_out = R"j({"condition":"birthDate = date(\"1980-03-04\") and postcode = \"20095\""})j";
  ExpectPiiRefused(As("analyst").Post("/v1/segments/preview", single_out), "/condition", "birthDate");
  // Also where the condition falls back to FEEL row by row.
  ExpectPiiRefused(As("analyst").Post("/v1/segments/preview", R"j({"condition":"birthDate.year + 0 = 1980"})j"),
                   "/condition", "birthDate");
  ExpectPiiRefused(
      As("analyst").Post("/v1/segments/preview", R"j({"condition":"city = \"Berlin\" or not(birthDate < today())"})j"),
      "/condition", "birthDate");
  // Errors of the condition itself stay 400s.
  ExpectProblem(As("analyst").Post("/v1/segments/preview", R"j({"condition":"regoin = 1"})j"), 400, "/condition");
  // A column's name inside a string reads nothing.
  auto r = As("analyst").Post("/v1/segments/preview", R"j({"condition":"city = \"birthDate\""})j");
  EXPECT_EQ(r.status, 200) << r.body;

  r = admin().Post("/v1/segments/preview", single_out);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["size"].GetInt64(), 1);
}

TEST_F(MaskingTest, SmallGroupsAreSuppressedForAnalysts) {
  const std::string q = R"({"measures":["count"],"dimensions":["city"]})";
  auto r = As("analyst").Post("/v1/analytics/query", q);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["rows"].Size(), 1u) << r.body;
  EXPECT_EQ(Str(r.json["rows"][0]["city"]), "Berlin");
  EXPECT_EQ(r.json["rows"][0]["count"].GetInt64(), 6);
  EXPECT_EQ(r.json["suppressedRows"].GetInt64(), 1);
  EXPECT_EQ(r.body.find("Hamburg"), std::string::npos) << r.body;

  // Without a count measure the groups are judged by their count all the same.
  r = As("analyst").Post("/v1/analytics/query", R"j({"measures":["avg(age)"],"dimensions":["city"]})j");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["rows"].Size(), 1u) << r.body;
  EXPECT_FALSE(r.json["rows"][0].HasMember("count")) << r.body;
  EXPECT_EQ(r.json["measures"].Size(), 1u) << r.body;
  EXPECT_EQ(r.json["suppressedRows"].GetInt64(), 1);

  auto csv = As("analyst").Post("/v1/analytics/query?format=csv", q);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body, "city,count\nBerlin,6\n");
  EXPECT_EQ(csv.header("rapport-suppressed-rows"), "1");

  // A filter narrowing the single group to one person: suppressed too.
  r = As("analyst").Post("/v1/analytics/query", R"j({"measures":["count"],"filter":"city = \"Hamburg\""})j");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"].Size(), 0u) << r.body;
  EXPECT_EQ(r.json["suppressedRows"].GetInt64(), 1);

  r = As("marketing").Post("/v1/analytics/query", q);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"].Size(), 2u) << r.body;
  EXPECT_EQ(r.json["suppressedRows"].GetInt64(), 0);
}

TEST_F(MaskingTest, PreviewCountsBelowTheMinimumAreShownAsSuch) {
  auto one = As("analyst").Post("/v1/segments/preview", R"j({"condition":"city = \"Hamburg\""})j");
  auto none = As("analyst").Post("/v1/segments/preview", R"j({"condition":"city = \"Paris\""})j");
  for (const HttpReply* r : {&one, &none}) {
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_TRUE(r->json["size"].IsNull()) << r->body;
    EXPECT_EQ(r->json["fewerThan"].GetInt64(), 5) << r->body;
  }
  auto berlin = As("analyst").Post("/v1/segments/preview", R"j({"condition":"city = \"Berlin\""})j");
  ASSERT_EQ(berlin.status, 200) << berlin.body;
  EXPECT_EQ(berlin.json["size"].GetInt64(), 6);
  EXPECT_FALSE(berlin.json.HasMember("fewerThan"));

  auto exact = admin().Post("/v1/segments/preview", R"j({"condition":"city = \"Hamburg\""})j");
  ASSERT_EQ(exact.status, 200) << exact.body;
  EXPECT_EQ(exact.json["size"].GetInt64(), 1);
}

TEST_F(MaskingTest, SearchByNameEmailOrPhoneTellsAnalystsNothing) {
  // Whether the person is a customer or not, the answer is the same.
  for (const char* q : {"ada@example.com", "nobody@example.com", "email:ada@example.com", "email:nobody@example.com",
                        "%2B494012345678", "%2B490000000000", "phone:%2B494012345678", "Lovelace", "Nobody"}) {
    auto r = As("analyst").Get(std::string("/v1/customers?q=") + q);
    ExpectProblem(r, 403, "q");
    EXPECT_EQ(r.body.find("\"items\""), std::string::npos) << r.body;
  }
  auto a = As("analyst").Get("/v1/customers?q=ada%40example.com");
  auto b = As("analyst").Get("/v1/customers?q=nobody%40example.com");
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(Str(a.json["detail"]), Str(b.json["detail"]));

  // Listing without q, and identifiers of other schemes, still work.
  auto list = As("analyst").Get("/v1/customers?limit=3");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json["items"].Size(), 3u);
  EXPECT_EQ(As("analyst").Get("/v1/customers?q=billing:1").status, 200);

  // A role with pii:read finds Ada by her e-mail.
  auto found = As("marketing").Get("/v1/customers?q=ada@example.com");
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.json["items"].Size(), 1u);
  EXPECT_EQ(found.json["items"][0]["id"].GetInt64(), ada_);
}

TEST_F(MaskingTest, InteractionPropertiesAreMaskedForAnalysts) {
  // Agents write what the customer said into an interaction's properties.
  std::string id = std::to_string(ada_);
  auto in = As("service").Post("/v1/interactions", R"({"customerId":)" + id +
                                                       R"(,"type":"call","channel":"phone","outcome":"resolved",)"
                                                       R"("properties":{"note":"new address: Elbchaussee 1"}})");
  ASSERT_EQ(in.status, 201) << in.body;
  EXPECT_EQ(Str(in.json["properties"]["note"]), "new address: Elbchaussee 1");
  auto bare = As("service").Post("/v1/interactions", R"({"customerId":)" + id + R"(,"type":"visit","channel":"store"})");
  ASSERT_EQ(bare.status, 201) << bare.body;

  auto seen = As("analyst").Get("/v1/customers/" + id + "/view");
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.body.find("Elbchaussee"), std::string::npos) << seen.body;
  const auto& items = seen.json["recentInteractions"];
  ASSERT_EQ(items.Size(), 2u) << seen.body;
  int masked = 0;
  for (const auto& i : items.GetArray()) {
    EXPECT_EQ(i.HasMember("outcome"), Str(i["type"]) == "call") << seen.body;  // the rest stays readable
    if (i["properties"].HasMember("masked")) ++masked;
    else EXPECT_EQ(i["properties"].MemberCount(), 0u) << seen.body;  // empty ones stay empty
  }
  EXPECT_EQ(masked, 1) << seen.body;
  auto full = As("marketing").Get("/v1/customers/" + id + "/view");
  EXPECT_NE(full.body.find("Elbchaussee"), std::string::npos) << full.body;
}

TEST_F(MaskingTest, SavedSegmentsOnPiiStayUsableByIdWithTheirConditionHidden) {
  const std::string condition = R"(birthDate = date(\"1980-03-04\"))";
  auto created = As("marketing").Post("/v1/segments", R"({"name":"ada","condition":")" + condition + R"("})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string seg = "/v1/segments/" + std::to_string(created.json["id"].GetInt64());
  auto open = As("marketing").Post("/v1/segments", R"j({"name":"berlin","condition":"city = \"Berlin\""})j");
  ASSERT_EQ(open.status, 201) << open.body;

  auto got = As("analyst").Get(seg);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Str(got.json["condition"]), "***");
  EXPECT_EQ(got.body.find("1980"), std::string::npos) << got.body;
  auto list = As("analyst").Get("/v1/segments");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find("1980"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(R"(city = \"Berlin\")"), std::string::npos) << list.body;
  auto members = As("analyst").Get(seg + "/members");
  ASSERT_EQ(members.status, 200) << members.body;
  ASSERT_EQ(members.json["items"].Size(), 1u);
  EXPECT_EQ(members.json["items"][0].GetInt64(), ada_);

  EXPECT_NE(As("admin").Get(seg).body.find("1980-03-04"), std::string::npos);
}

class SmallerGroupsTest : public MaskingTest {
 protected:
  void Configure(ServerOptions& o) override { o.min_group_size = 1; }
};

TEST_F(SmallerGroupsTest, TheMinimumGroupSizeIsAServerOption) {
  auto r = As("analyst").Post("/v1/analytics/query", R"({"measures":["count"],"dimensions":["city"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"].Size(), 2u) << r.body;
  EXPECT_EQ(r.json["suppressedRows"].GetInt64(), 0);
  // PII columns stay refused whatever the group size.
  ExpectProblem(As("analyst").Post("/v1/analytics/query", R"({"measures":["count"],"dimensions":["birthDate"]})"), 403,
                "/dimensions/0");
}

}  // namespace
}  // namespace rapport::server::testing
