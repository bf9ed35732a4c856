// End-to-end tests of every route: a real server on 127.0.0.1:0, a real
// HTTP client, one key per role.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

std::string Str(const rapidjson::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

class ApiTest : public ServerTest {
 protected:
  int64_t CreatePerson(const std::string& first, const std::string& last, const std::string& email,
                       const std::string& extra = "") {
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":")" + first +
                                               R"(","lastName":")" + last + R"(","email":")" + email + "\"" +
                                               extra + R"(},"identifiers":["email:)" + email + R"("]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json.IsObject() ? r.json["id"].GetInt64() : 0;
  }
};

TEST_F(ApiTest, HealthzNeedsNoKey) {
  HttpClient anon(server_->port());
  auto r = anon.Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Str(r.json["status"]), "ok");
}

TEST_F(ApiTest, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 5; ++i) {
    auto r = admin().Get("/v1/attributes");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.closed);
  }
}

TEST_F(ApiTest, EveryOtherRouteNeedsAValidKey) {
  HttpClient anon(server_->port());
  ExpectProblem(anon.Get("/v1/customers"), 401);
  EXPECT_EQ(anon.Get("/v1/customers").header("www-authenticate"), "Bearer realm=\"rapport\"");
  ExpectProblem(anon.Get("/v1/no-such-route"), 401);  // routes are not revealed without a key
  ExpectProblem(anon.Send("GET", "/v1/customers", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401);
  HttpClient bad(server_->port(), "rpk_000000000000_" + std::string(64, '0'));
  ExpectProblem(bad.Get("/v1/customers"), 401);
  // A real prefix with a wrong secret.
  std::string forged = keys_["admin"];
  forged.back() = forged.back() == '0' ? '1' : '0';
  HttpClient forger(server_->port(), forged);
  ExpectProblem(forger.Get("/v1/customers"), 401);
  HttpClient garbage(server_->port(), "not-a-key");
  ExpectProblem(garbage.Get("/v1/customers"), 401);
}

TEST_F(ApiTest, UnknownRoutesMethodsAndMediaTypes) {
  ExpectProblem(admin().Get("/v1/nothing"), 404);
  auto r = admin().Send("DELETE", "/v1/customers", "");
  ExpectProblem(r, 405);
  EXPECT_EQ(r.header("allow"), "GET, POST");
  r = admin().Send("POST", "/v1/customers", R"({"kind":"person"})", {{"Content-Type", "text/plain"}});
  ExpectProblem(r, 415, "Content-Type");
  r = admin().Send("POST", "/v1/customers", R"({"kind":"person"})",
                   {{"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(r.status, 201) << r.body;
  ExpectProblem(admin().Get("/v1/customers/abc"), 400, "id");
  ExpectProblem(admin().Get("/v1/customers/1?bogus=1"), 400, "bogus");
}

TEST_F(ApiTest, BadBodiesGetPreciseProblems) {
  auto r = admin().Post("/v1/customers", R"({"kind":"person" "attributes":{}})");
  ExpectProblem(r, 400);
  EXPECT_NE(Str(r.json["detail"]).find("offset 17"), std::string::npos) << r.body;

  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","atributes":{}})"), 400, "/atributes");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":7})"), 400, "/kind");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"robot"})"), 400, "/kind");
  ExpectProblem(admin().Post("/v1/customers", R"({"attributes":{}})"), 400, "/kind");
  ExpectProblem(admin().Post("/v1/customers", R"([1,2])"), 400);
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","attributes":{"email":["x"]}})"), 400,
                "/attributes/email");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","attributes":{"birthDate":"31/12/1990"}})"), 400,
                "/attributes/birthDate");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","attributes":{"shoeSize":44}})"), 400,
                "/attributes/shoeSize");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","identifiers":["email:a@b.example", 5]})"), 400,
                "/identifiers/1");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","validFrom":"soon"})"), 400, "/validFrom");
  ExpectProblem(admin().Send("POST", "/v1/customers", ""), 400);

  // Bigger than the 64 KiB limit of this server: 413, and the server lives on.
  std::string big = R"({"kind":"person","attributes":{"name":")" + std::string(100 * 1024, 'x') + "\"}}";
  ExpectProblem(admin().Post("/v1/customers", big), 413);
  EXPECT_EQ(admin().Get("/healthz").status, 200);

  // A request that is not HTTP at all.
  HttpClient raw(server_->port());
  auto garbage = raw.Raw("HELLO\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
}

TEST_F(ApiTest, CreateReadPatchAsOfAndHistory) {
  int64_t id = CreatePerson("Ada", "Byron", "ada@example.com", R"(,"city":"London")");
  auto r = admin().Get("/v1/customers/" + std::to_string(id));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.json["kind"]), "person");
  EXPECT_EQ(Str(r.json["displayName"]), "Ada Byron");
  EXPECT_EQ(Str(r.json["attributes"]["city"]), "London");
  EXPECT_EQ(Str(r.json["identifiers"][0]), "email:ada@example.com");
  std::string created_at = Str(r.json["createdAt"]);
  EXPECT_EQ(created_at.back(), 'Z');

  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  r = admin().Patch("/v1/customers/" + std::to_string(id),
                    R"({"attributes":{"lastName":"Lovelace","city":null},"addIdentifiers":["billing:88231"],"source":"crm"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.json["displayName"]), "Ada Lovelace");
  EXPECT_FALSE(r.json["attributes"].HasMember("city"));

  // What was true when she was created.
  r = admin().Get("/v1/customers/" + std::to_string(id) + "?asOf=" + created_at);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.json["attributes"]["lastName"]), "Byron");
  EXPECT_EQ(Str(r.json["attributes"]["city"]), "London");
  ExpectProblem(admin().Get("/v1/customers/" + std::to_string(id) + "?asOf=1999-01-01"), 404, "asOf");
  ExpectProblem(admin().Get("/v1/customers/" + std::to_string(id) + "?asOf=yesterday"), 400, "asOf");

  r = admin().Get("/v1/customers/" + std::to_string(id) + "/history");
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> crm_changes;
  for (const auto& c : r.json["items"].GetArray()) {
    if (Str(c["source"]) == "crm") crm_changes.insert(Str(c["name"]));
  }
  EXPECT_EQ(crm_changes, (std::set<std::string>{"lastName", "city"}));

  ExpectProblem(admin().Patch("/v1/customers/" + std::to_string(id), R"({"attributes":{"city":5}})"), 400,
                "/attributes/city");
  ExpectProblem(admin().Patch("/v1/customers/" + std::to_string(id), R"({"kind":"household"})"), 400, "/kind");
  ExpectProblem(admin().Patch("/v1/customers/99999", R"({"attributes":{"city":"Paris"}})"), 404, "id");
  ExpectProblem(admin().Get("/v1/customers/99999"), 404, "id");
  ExpectProblem(admin().Get("/v1/customers/99999/history"), 404, "id");
  // The identifier now belongs to Ada: a second customer cannot take it.
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","identifiers":["billing:88231"]})"), 409,
                "/identifiers/0");
}

TEST_F(ApiTest, SourceSystemsUpsertByTheirKeys) {
  const std::string ada = R"({"kind":"person","attributes":{"firstName":"Ada","lastName":"Byron"},"identifiers":["email:ada@example.com"]})";
  auto r = admin().Put("/v1/sources/billing/customers/88231", ada);
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t id = r.json["id"].GetInt64();
  EXPECT_EQ(r.header("location"), "/v1/customers/" + std::to_string(id));
  std::set<std::string> ids;
  for (const auto& i : r.json["identifiers"].GetArray()) ids.insert(Str(i));
  EXPECT_EQ(ids, (std::set<std::string>{"billing:88231", "email:ada@example.com"}));
  // The same record again writes nothing; a change is historized under the source.
  r = admin().Put("/v1/sources/billing/customers/88231", ada);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["id"].GetInt64(), id);
  r = admin().Put("/v1/sources/billing/customers/88231",
                  R"({"kind":"person","attributes":{"lastName":"Lovelace"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.json["displayName"]), "Ada Lovelace");
  r = admin().Get("/v1/customers/" + std::to_string(id) + "/history");
  int billing = 0;
  for (const auto& c : r.json["items"].GetArray()) billing += Str(c["source"]) == "billing";
  EXPECT_EQ(billing, 3);  // firstName and lastName, then lastName

  ExpectProblem(admin().Put("/v1/sources/billing/customers/88231", R"({"kind":"household"})"), 422, "/kind");
  ExpectProblem(admin().Put("/v1/sources/billing/customers/7", R"({"kind":"person","emial":"x"})"), 400, "/emial");
  ExpectProblem(admin().Put("/v1/sources/billing/customers/7", R"({"kind":"person","identifiers":["email:ada@example.com"]})"),
                409, "/identifiers/0");
  ExpectProblem(admin().Put("/v1/sources/bad%20source/customers/7", R"({"kind":"person"})"), 400, "source");
  ExpectProblem(As("analyst").Put("/v1/sources/billing/customers/7", R"({"kind":"person"})"), 403, "");

  // A batch: bad records are reported by index and field, the rest written.
  r = admin().Post("/v1/sources/shop/customers", R"({"records":[
      {"sourceKey":"s1","kind":"person","attributes":{"firstName":"Grace"}},
      {"sourceKey":"s2","kind":"robot"},
      {"sourceKey":"s3","kind":"person","identifiers":["email:ada@example.com"]},
      {"kind":"person"},
      {"sourceKey":"s1","kind":"person","attributes":{"lastName":"Hopper"}},
      {"sourceKey":"s4","kind":"organization","attributes":{"name":"Navy"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["created"].GetInt64(), 2);
  EXPECT_EQ(r.json["updated"].GetInt64(), 1);
  EXPECT_EQ(r.json["rejected"].GetInt64(), 3);
  const auto& errors = r.json["errors"];
  ASSERT_EQ(errors.Size(), 3u);
  EXPECT_EQ(errors[0]["index"].GetInt64(), 1);
  EXPECT_EQ(Str(errors[0]["field"]), "/records/1/kind");
  EXPECT_EQ(errors[1]["index"].GetInt64(), 2);
  EXPECT_EQ(errors[1]["status"].GetInt64(), 409);
  EXPECT_EQ(Str(errors[1]["field"]), "/records/2/identifiers/0");
  EXPECT_EQ(Str(errors[2]["field"]), "/records/3/sourceKey");
  r = admin().Get("/v1/customers?q=shop:s1");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["items"].Size(), 1u);
  EXPECT_EQ(Str(r.json["items"][0]["displayName"]), "Grace Hopper");
  ExpectProblem(admin().Post("/v1/sources/shop/customers", R"({"records":{}})"), 400, "/records");
  ExpectProblem(admin().Post("/v1/sources/shop/customers", R"({"rows":[]})"), 400, "/records");
}

TEST_F(ApiTest, SearchPagesWithACursor) {
  for (int i = 0; i < 5; ++i) CreatePerson("Grace" + std::to_string(i), "Hopper", "g" + std::to_string(i) + "@example.com");
  admin().Post("/v1/customers", R"({"kind":"household","attributes":{"name":"Hopper household"}})");
  std::set<int64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = admin().Get("/v1/customers?q=hopper&kind=person&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& s : r.json["items"].GetArray()) {
      EXPECT_EQ(Str(s["kind"]), "person");
      seen.insert(s["id"].GetInt64());
    }
    cursor = r.json["nextCursor"].IsNull() ? "" : Str(r.json["nextCursor"]);
    ASSERT_LT(++pages, 10);
  } while (!cursor.empty());
  EXPECT_EQ(seen.size(), 5u);
  auto r = admin().Get("/v1/customers?q=g3%40example.com");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json["items"].Size(), 1u);
  EXPECT_EQ(Str(r.json["items"][0]["email"]), "g3@example.com");
  ExpectProblem(admin().Get("/v1/customers?limit=0"), 400, "limit");
  ExpectProblem(admin().Get("/v1/customers?limit=ten"), 400, "limit");
  ExpectProblem(admin().Get("/v1/customers?kind=robot"), 400, "kind");
  ExpectProblem(admin().Get("/v1/customers?cursor=%21%21"), 400, "cursor");
}

class ViewTest : public ApiTest {
 protected:
  void BeforeStart(Server& s) override {
    s.customers().RegisterViewSection("scores", [](customer::CustomerId id, const customer::ReadOptions&) {
      return Result<std::string>(R"({"churnRisk":0.25,"customer":)" + std::to_string(id) + "}");
    });
  }
};

TEST_F(ViewTest, HouseholdMemberViewAcrossEveryWriteRoute) {
  auto h = admin().Post("/v1/customers", R"({"kind":"household","attributes":{"name":"The Curies"}})");
  ASSERT_EQ(h.status, 201) << h.body;
  int64_t household = h.json["id"].GetInt64();
  int64_t marie = CreatePerson("Marie", "Curie", "marie@example.com");
  int64_t pierre = CreatePerson("Pierre", "Curie", "pierre@example.com");
  std::string hs = std::to_string(household);
  for (int64_t p : {marie, pierre}) {
    auto r = admin().Post("/v1/customers/" + std::to_string(p) + "/relationships",
                          R"({"to":)" + hs + R"(,"type":"member_of","validFrom":"2020-01-01T00:00:00Z"})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Str(r.json["type"]), "member_of");
    EXPECT_EQ(r.json["to"].GetInt64(), household);
  }
  std::string ms = std::to_string(marie);
  // Accounts and transactions belong to sales.
  auto acc = As("sales").Post("/v1/accounts", R"({"customerId":)" + ms +
                                                  R"(,"source":"billing","sourceKey":"A-1","product":"Lab insurance","openedAt":"2021-02-03T00:00:00Z","balance":120.5})");
  ASSERT_EQ(acc.status, 200) << acc.body;
  int64_t account = acc.json["id"].GetInt64();
  for (int i = 0; i < 3; ++i) {
    auto t = As("sales").Post("/v1/transactions", R"({"customer":"email:marie@example.com","accountId":)" +
                                                      std::to_string(account) + R"(,"source":"shop","sourceKey":"T-)" +
                                                      std::to_string(i) +
                                                      R"(","occurredAt":"2024-0)" + std::to_string(i + 1) +
                                                      R"(-01T10:00:00Z","channel":"store","sku":"RAD-1","item":"Radium","quantity":1,"amount":10})");
    ASSERT_EQ(t.status, 201) << t.body;
  }
  auto in = As("service").Post("/v1/interactions", R"({"customerId":)" + ms +
                                                       R"(,"occurredAt":"2024-05-01T09:00:00Z","type":"call","channel":"call_centre","department":"service","outcome":"resolved","properties":{"queue":"vip"}})");
  ASSERT_EQ(in.status, 201) << in.body;
  EXPECT_EQ(Str(in.json["properties"]["queue"]), "vip");
  auto consent = As("marketing").Put("/v1/customers/" + ms + "/consents/email",
                                     R"({"purpose":"marketing","granted":true,"source":"web"})");
  ASSERT_EQ(consent.status, 200) << consent.body;
  EXPECT_TRUE(consent.json["granted"].GetBool());

  auto v = As("service").Get("/v1/customers/" + ms + "/view");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json["customer"]["id"].GetInt64(), marie);
  ASSERT_EQ(v.json["links"].Size(), 1u) << v.body;
  const auto& link = v.json["links"][0];
  EXPECT_EQ(link["customer"]["id"].GetInt64(), household);
  EXPECT_EQ(Str(link["relationship"]["type"]), "member_of");
  std::set<int64_t> members;
  for (const auto& m : link["members"].GetArray()) members.insert(m["id"].GetInt64());
  EXPECT_TRUE(members.count(pierre)) << v.body;
  EXPECT_EQ(v.json["accounts"].Size(), 1u);
  EXPECT_EQ(v.json["transactionSummary"]["count"].GetInt64(), 3);
  EXPECT_DOUBLE_EQ(v.json["transactionSummary"]["revenue"].GetDouble(), 30);
  EXPECT_EQ(Str(v.json["transactionSummary"]["firstPurchase"]), "2024-01-01T10:00:00Z");
  EXPECT_EQ(Str(v.json["transactionSummary"]["topItems"][0]["sku"]), "RAD-1");
  EXPECT_EQ(v.json["recentTransactions"].Size(), 3u);
  EXPECT_EQ(Str(v.json["recentInteractions"][0]["channel"]), "call_centre");
  EXPECT_EQ(Str(v.json["consents"][0]["channel"]), "email");
  EXPECT_EQ(v.json["sections"]["scores"]["customer"].GetInt64(), marie);

  // The household's own view lists both members.
  v = admin().Get("/v1/customers/" + hs + "/view");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json["members"].Size(), 2u) << v.body;

  // As of 2019 the relationship did not exist yet.
  v = admin().Get("/v1/customers/" + ms + "/view?asOf=2019-06-01T00:00:00Z");
  if (v.status == 200) {
    EXPECT_EQ(v.json["links"].Size(), 0u) << v.body;
  } else {
    ExpectProblem(v, 404, "asOf");  // Marie was created today: she did not exist in 2019 either
  }
  ExpectProblem(admin().Get("/v1/customers/424242/view"), 404, "id");
}

TEST_F(ApiTest, UnknownIdsNameTheirField) {
  int64_t id = CreatePerson("Alan", "Turing", "alan@example.com");
  std::string s = std::to_string(id);
  ExpectProblem(admin().Post("/v1/accounts", R"({"customerId":999999,"sourceKey":"k","product":"p"})"), 404,
                "/customerId");
  ExpectProblem(admin().Post("/v1/accounts", R"({"customer":"email:nobody@example.com","sourceKey":"k","product":"p"})"),
                404, "/customer");
  ExpectProblem(admin().Post("/v1/transactions", R"({"customerId":)" + s + R"(,"accountId":999999,"amount":1})"), 404,
                "/accountId");
  ExpectProblem(admin().Post("/v1/interactions", R"({"customerId":999999,"type":"call","channel":"phone"})"), 404,
                "/customerId");
  ExpectProblem(admin().Post("/v1/customers/" + s + "/relationships", R"({"to":999999,"type":"member_of"})"), 404,
                "/to");
  ExpectProblem(admin().Post("/v1/customers/999999/relationships", R"({"to":)" + s + R"(,"type":"knows"})"), 404,
                "id");
  ExpectProblem(admin().Put("/v1/customers/999999/consents/email", R"({"granted":true})"), 404, "id");
  // Wrong types and unknown fields in the other bodies.
  ExpectProblem(admin().Post("/v1/transactions", R"({"customerId":)" + s + R"(,"amount":"12.50"})"), 400, "/amount");
  ExpectProblem(admin().Post("/v1/transactions", R"({"customerId":")" + s + R"(","amount":1})"), 400, "/customerId");
  ExpectProblem(admin().Post("/v1/interactions", R"({"customerId":)" + s + R"(,"type":"call","channel":"phone","mood":"ok"})"),
                400, "/mood");
  ExpectProblem(admin().Put("/v1/customers/" + s + "/consents/email", R"({"granted":"yes"})"), 400, "/granted");
  ExpectProblem(admin().Put("/v1/customers/" + s + "/consents/E-Mail", R"({"granted":true})"), 400, "channel");
  ExpectProblem(admin().Post("/v1/customers/" + s + "/relationships", R"({"to":)" + s + R"(,"type":"knows"})"), 422,
                "/to");
  ExpectProblem(admin().Post("/v1/accounts", R"({"sourceKey":"k","product":"p"})"), 400, "/customerId");
}

TEST_F(ApiTest, RolesLimitWhatEachDepartmentDoes) {
  int64_t id = CreatePerson("Rosalind", "Franklin", "rosalind@example.com", R"(,"city":"London")");
  std::string s = std::to_string(id);
  ExpectProblem(As("analyst").Post("/v1/customers", R"({"kind":"person"})"), 403);
  ExpectProblem(As("analyst").Patch("/v1/customers/" + s, R"({"attributes":{"city":"Paris"}})"), 403);
  ExpectProblem(As("marketing").Post("/v1/accounts", R"({"customerId":)" + s + R"(,"sourceKey":"k","product":"p"})"), 403);
  ExpectProblem(As("sales").Put("/v1/customers/" + s + "/consents/email", R"({"granted":true})"), 403);
  ExpectProblem(As("service").Post("/v1/attributes", R"({"name":"shoeSize","type":"integer"})"), 403);
  EXPECT_EQ(As("marketing").Get("/v1/customers/" + s).status, 200);

  // Analysts read, with PII masked.
  auto r = As("analyst").Get("/v1/customers/" + s);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.json["attributes"]["firstName"]), "***");
  EXPECT_EQ(Str(r.json["attributes"]["email"]), "***");
  EXPECT_EQ(Str(r.json["attributes"]["city"]), "London");  // not PII
  EXPECT_EQ(Str(r.json["displayName"]), "***");
  EXPECT_EQ(Str(r.json["identifiers"][0]), "email:***");
  EXPECT_EQ(r.body.find("rosalind"), std::string::npos) << r.body;
  r = As("analyst").Get("/v1/customers/" + s + "/view");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("Rosalind"), std::string::npos) << r.body;
  r = As("analyst").Get("/v1/customers/" + s + "/history");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("Rosalind"), std::string::npos) << r.body;
  // A search by name would tell whether Franklin is a customer at all.
  ExpectProblem(As("analyst").Get("/v1/customers?q=franklin"), 403, "q");
  r = As("analyst").Get("/v1/customers");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json["items"].Size(), 1u);
  EXPECT_EQ(Str(r.json["items"][0]["email"]), "***");
  // The same reads in the clear for a department with pii:read.
  r = As("sales").Get("/v1/customers/" + s);
  EXPECT_EQ(Str(r.json["attributes"]["firstName"]), "Rosalind");
}

TEST_F(ApiTest, AttributeCatalog) {
  auto r = admin().Post("/v1/attributes", R"({"name":"loyaltyTier","type":"string","pii":false,"description":"Tier"})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = As("analyst").Get("/v1/attributes");
  ASSERT_EQ(r.status, 200);
  bool found = false;
  for (const auto& d : r.json["items"].GetArray()) {
    if (Str(d["name"]) == "loyaltyTier") found = Str(d["type"]) == "string";
  }
  EXPECT_TRUE(found);
  auto c = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"loyaltyTier":"gold"}})");
  EXPECT_EQ(c.status, 201) << c.body;
  ExpectProblem(admin().Post("/v1/attributes", R"({"name":"x","type":"colour"})"), 400, "/type");
  ExpectProblem(admin().Post("/v1/attributes", R"({"name":"9lives","type":"string"})"), 400, "/name");
  ExpectProblem(admin().Post("/v1/attributes", R"({"name":"loyaltyTier","type":"integer"})"), 409);
}

TEST_F(ApiTest, OpenApiDescribesEveryRoute) {
  auto r = admin().Get("/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.json.IsObject()) << "the OpenAPI document is not JSON";
  EXPECT_EQ(Str(r.json["openapi"]).substr(0, 2), "3.");
  const auto& paths = r.json["paths"];
  auto routes = server_->Routes();
  EXPECT_GE(routes.size(), 15u);
  for (const std::string& route : routes) {
    std::string method = route.substr(0, route.find(' '));
    std::string path = route.substr(route.find(' ') + 1);
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ASSERT_TRUE(paths.HasMember(path.c_str())) << route << " is missing from openapi.json";
    ASSERT_TRUE(paths[path.c_str()].HasMember(method.c_str())) << route << " is missing from openapi.json";
    const auto& op = paths[path.c_str()][method.c_str()];
    EXPECT_TRUE(op.HasMember("responses") && op.HasMember("summary")) << route;
    // Every {param} of the path is declared.
    for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
      std::string name = path.substr(i + 1, path.find('}', i) - i - 1);
      bool declared = false;
      auto check = [&](const rapidjson::Value& params) {
        for (const auto& p : params.GetArray()) {
          if (p.HasMember("$ref") || (Str(p["name"]) == name && Str(p["in"]) == "path")) declared = true;
        }
      };
      if (op.HasMember("parameters")) check(op["parameters"]);
      if (paths[path.c_str()].HasMember("parameters")) check(paths[path.c_str()]["parameters"]);
      EXPECT_TRUE(declared) << route << " does not declare {" << name << "}";
    }
  }
  // And nothing is documented that is not served.
  for (const auto& p : paths.GetObject()) {
    for (const auto& m : p.value.GetObject()) {
      std::string method = Str(m.name);
      if (method == "parameters") continue;
      for (char& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      std::string route = method + " " + Str(p.name);
      EXPECT_NE(std::find(routes.begin(), routes.end(), route), routes.end()) << route << " is documented but not served";
    }
  }
}

// A server with one worker and a one-slot queue, and a view section that
// takes a while: concurrent requests beyond that get 503 with Retry-After.
class OverloadTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    o.worker_threads = 1;
    o.queue_capacity = 1;
  }
  void BeforeStart(Server& s) override {
    s.customers().RegisterViewSection("slow", [](customer::CustomerId, const customer::ReadOptions&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Result<std::string>("{}");
    });
  }
};

TEST_F(OverloadTest, FullQueueAnswers503WithRetryAfter) {
  auto c = admin().Post("/v1/customers", R"({"kind":"person"})");
  ASSERT_EQ(c.status, 201);
  std::string target = "/v1/customers/" + std::to_string(c.json["id"].GetInt64()) + "/view";
  std::vector<std::future<HttpReply>> replies;
  uint16_t port = server_->port();
  std::string key = keys_["admin"];
  for (int i = 0; i < 6; ++i) {
    replies.push_back(std::async(std::launch::async, [port, key, target] {
      HttpClient client(port, key);
      return client.Get(target);
    }));
  }
  int ok = 0, busy = 0;
  for (auto& f : replies) {
    HttpReply r = f.get();
    if (r.status == 200) ++ok;
    if (r.status == 503) {
      ++busy;
      EXPECT_EQ(r.header("retry-after"), "1");
      ExpectProblem(r, 503);
    }
  }
  EXPECT_EQ(ok + busy, 6);
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
}

}  // namespace
}  // namespace rapport::server::testing

namespace rapport::server::testing {
namespace {

// Issue #12, "bad data is stored and served", end to end: each finding is a
// problem document naming the field, and money is shown exactly.
TEST_F(ApiTest, BadDataIsRefusedNamingTheField) {
  ExpectProblem(admin().Post("/v1/customers", "{\"kind\":\"person\",\"attributes\":{\"firstName\":\"Bad\xC3\"}}"), 400,
                "/attributes/firstName");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":"Ann\u0000e"}})"), 400,
                "/attributes/firstName");
  ExpectProblem(admin().Post("/v1/customers", R"({"kind":"person","identifiers":["billing:88231\r\nSet-Cookie: a=1"]})"),
                400, "/identifiers/0");
  int64_t id = CreatePerson("Ada", "Lovelace", "ada@example.com");
  std::string s = std::to_string(id);
  auto tx = [&](const std::string& fields) {
    return admin().Post("/v1/transactions", R"({"customerId":)" + s + R"(,"source":"shop")" + fields + "}");
  };
  ExpectProblem(tx(R"(,"amount":10,"occurredAt":"0000-01-01T00:00:00Z")"), 400, "/occurredAt");
  ExpectProblem(tx(R"(,"amount":1e308)"), 400, "/amount");
  ExpectProblem(tx(R"(,"amount":0.00001)"), 400, "/amount");
  ExpectProblem(tx(R"(,"amount":10,"quantity":-1000000)"), 400, "/quantity");
  ExpectProblem(tx(R"(,"amount":10,"currency":"DOGECOIN")"), 400, "/currency");
  ExpectProblem(tx(R"(,"amount":10,"sourceKey":"k\r\nX: 1")"), 400, "/sourceKey");
  ExpectProblem(admin().Post("/v1/accounts", R"({"customerId":)" + s +
                                                 R"(,"sourceKey":"A","product":"p","balance":1e308})"),
                400, "/balance");
  ExpectProblem(admin().Get("/v1/customers/" + s + "/view?asOf=0000-01-01T00:00:00Z"), 400, "asOf");
  // Two of the landed code's 1e308 made revenue null; in range, sums are exact.
  auto big = tx(R"(,"amount":100000000000)");
  ASSERT_EQ(big.status, 201) << big.body;
  ASSERT_EQ(tx(R"(,"amount":100000000000)").status, 201);
  auto eur = tx(R"(,"amount":0.1,"currency":"eur")");
  ASSERT_EQ(eur.status, 201) << eur.body;
  EXPECT_EQ(Str(eur.json["currency"]), "EUR");
  EXPECT_NE(eur.body.find("\"amount\":0.1,"), std::string::npos) << eur.body;
  auto v = admin().Get("/v1/customers/" + s + "/view");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_NE(v.body.find("\"revenue\":200000000000.1,"), std::string::npos) << v.body;
}

TEST_F(ApiTest, ManyCentsShowExactly) {
  int64_t id = CreatePerson("Emmy", "Noether", "emmy@example.com");
  std::string s = std::to_string(id);
  // 753811.93 from amounts whose double sum is 753811.9299999997-ish.
  for (int i = 0; i < 100; ++i) {
    auto r = admin().Post("/v1/transactions", R"({"customerId":)" + s + R"(,"source":"shop","amount":7538.1193})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  auto v = admin().Get("/v1/customers/" + s + "/view");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_NE(v.body.find("\"revenue\":753811.93,"), std::string::npos) << v.body;
}

}  // namespace
}  // namespace rapport::server::testing
