// Decisioning part 1 end to end through the real server: upload a DMN model,
// review and publish it, decide; publish v2 and see the answer change
// without a restart; roll back; caps and their explanation; decisions while
// versions are published.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

// With `gate`, the model also has a decision "Gold Eligible": revenue >= gate.
std::string Model(const std::string& rich_threshold, bool with_gold = true, const std::string& gate = "") {
  std::string x = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:e2e:offers" name="offers" id="offers">
  <inputData id="in_region" name="region"><variable name="region" typeRef="string"/></inputData>
  <inputData id="in_revenue" name="revenue"><variable name="revenue" typeRef="number"/></inputData>
  <decision id="next" name="Next Offers">
    <informationRequirement><requiredInput href="#in_region"/></informationRequirement>
    <informationRequirement><requiredInput href="#in_revenue"/></informationRequirement>
    <decisionTable id="t" hitPolicy="COLLECT">
      <input label="region"><inputExpression typeRef="string"><text>region</text></inputExpression></input>
      <input label="revenue"><inputExpression typeRef="number"><text>revenue</text></inputExpression></input>
      <output name="action" typeRef="string"/>
)";
  if (with_gold) {
    x += R"(      <rule id="r1"><inputEntry><text>"north"</text></inputEntry><inputEntry><text>>= )" + rich_threshold +
         R"(</text></inputEntry><outputEntry><text>"gold-card"</text></outputEntry></rule>
)";
  }
  x += R"(      <rule id="r2"><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry><outputEntry><text>"newsletter"</text></outputEntry></rule>
      <rule id="r3"><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry><outputEntry><text>"service-call"</text></outputEntry></rule>
    </decisionTable>
  </decision>
)";
  if (!gate.empty()) {
    x += R"(  <decision id="gate" name="Gold Eligible">
    <informationRequirement><requiredInput href="#in_revenue"/></informationRequirement>
    <literalExpression><text>revenue >= )" + gate + R"(</text></literalExpression>
  </decision>
)";
  }
  x += "</definitions>\n";
  return x;
}

const std::map<std::string, std::string> kXml = {{"Content-Type", "application/xml"}};

class DecisionRoutesTest : public ServerTest {
 protected:
  int64_t Customer(const std::string& region, double revenue) {
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"region":")" + region + R"("}})");
    EXPECT_EQ(r.status, 201) << r.body;
    int64_t id = r.json["id"].GetInt64();
    if (revenue > 0) {
      auto t = admin().Post("/v1/transactions", R"({"customerId":)" + std::to_string(id) + R"(,"amount":)" +
                                                    std::to_string(revenue) + R"(,"occurredAt":"2026-01-10T10:00:00Z"})");
      EXPECT_EQ(t.status, 201) << t.body;
    }
    return id;
  }

  // marketing uploads and submits, admin approves and publishes.
  int Publish(const std::string& xml) {
    auto up = As("marketing").Send("POST", "/v1/decision-models", xml, kXml);
    EXPECT_EQ(up.status, 201) << up.body;
    int v = up.json["version"].GetInt();
    std::string base = "/v1/decision-models/offers/versions/" + std::to_string(v);
    EXPECT_EQ(As("marketing").Post(base + "/submit", R"({"comment":"please review"})").status, 200);
    auto ap = admin().Post(base + "/approve", "");
    EXPECT_EQ(ap.status, 200) << ap.body;
    auto pub = admin().Post("/v1/decision-models/offers/publish", R"({"version":)" + std::to_string(v) + "}");
    EXPECT_EQ(pub.status, 200) << pub.body;
    return v;
  }

  void Catalog() {
    ASSERT_EQ(As("marketing").Put("/v1/actions/gold-card", R"({"kind":"offer","name":"Gold card","value":100,"channels":["web","email"]})").status, 200);
    ASSERT_EQ(As("marketing").Put("/v1/actions/newsletter", R"({"kind":"message","name":"Newsletter","value":10})").status, 200);
    ASSERT_EQ(As("marketing").Put("/v1/actions/service-call", R"({"kind":"service","name":"Call","purpose":"service","value":5})").status, 200);
  }

  HttpReply Decide(int64_t id, const std::string& channel = "web", bool explain = false, const std::string& role = "sales") {
    return As(role).Post("/v1/decide", R"({"customerId":)" + std::to_string(id) + R"(,"channel":")" + channel +
                                           R"(","decisionPoint":"web-home","limit":5,"explain":)" +
                                           (explain ? "true" : "false") + "}");
  }

  static std::vector<std::string> Ids(const HttpReply& r) {
    std::vector<std::string> out;
    if (!r.json.IsObject()) return out;
    for (const auto& a : r.json["actions"].GetArray()) out.emplace_back(a["actionId"].GetString());
    return out;
  }
};

TEST_F(DecisionRoutesTest, PublishDecideChangeAndRollBackWithoutRestart) {
  int64_t north = Customer("north", 150);
  Catalog();
  // The author cannot approve their own version (four eyes).
  auto up = As("marketing").Send("POST", "/v1/decision-models", Model("100"), kXml);
  ASSERT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(up.header("location"), "/v1/decision-models/offers/versions/1");
  EXPECT_EQ(std::string(up.json["state"].GetString()), "draft");
  ASSERT_EQ(As("marketing").Post("/v1/decision-models/offers/versions/1/submit", "").status, 200);
  ExpectProblem(As("marketing").Post("/v1/decision-models/offers/versions/1/approve", ""), 403);
  ExpectProblem(As("sales").Post("/v1/decision-models/offers/versions/1/approve", ""), 403);  // no rules:approve
  ExpectProblem(admin().Post("/v1/decision-models/offers/publish", R"({"version":1})"), 409);  // not approved yet
  ASSERT_EQ(admin().Post("/v1/decision-models/offers/versions/1/approve", R"({"comment":"ok"})").status, 200);
  auto pub = admin().Post("/v1/decision-models/offers/publish", R"({"version":1})");
  ASSERT_EQ(pub.status, 200) << pub.body;
  EXPECT_EQ(std::string(pub.json["state"].GetString()), "published");
  auto point = As("marketing").Put("/v1/decision-points/web-home",
                                   R"({"model":"offers","decision":"Next Offers","channels":["web","email"],"showIn360":true})");
  ASSERT_EQ(point.status, 200) << point.body;

  auto d1 = Decide(north, "web", true);
  ASSERT_EQ(d1.status, 200) << d1.body;
  EXPECT_EQ(Ids(d1), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));
  EXPECT_EQ(d1.json["model"]["version"].GetInt(), 1);
  const auto& ex = d1.json["explanation"];
  EXPECT_EQ(std::string(ex["inputs"]["region"].GetString()), "north");
  EXPECT_EQ(ex["inputs"]["revenue"].GetDouble(), 150);
  EXPECT_EQ(ex["rulesMatched"][0]["rules"][0]["ruleId"], "r1");
  EXPECT_TRUE(d1.json["actions"][0]["components"].HasMember("propensity"));

  // v2 raises the threshold: the same customer no longer gets the gold card.
  ASSERT_EQ(Publish(Model("200")), 2);
  auto d2 = Decide(north);
  ASSERT_EQ(d2.status, 200);
  EXPECT_EQ(d2.json["model"]["version"].GetInt(), 2);
  EXPECT_EQ(Ids(d2), (std::vector<std::string>{"newsletter", "service-call"}));
  auto diff = As("analyst").Get("/v1/decision-models/offers/versions/2/diff?against=1");
  ASSERT_EQ(diff.status, 200) << diff.body;
  EXPECT_EQ(std::string(diff.json["rules"][0]["change"].GetString()), "changed");
  EXPECT_EQ(std::string(diff.json["rules"][0]["after"][1].GetString()), ">= 200");

  auto back = admin().Post("/v1/decision-models/offers/rollback", R"({"version":1})");
  ASSERT_EQ(back.status, 200) << back.body;
  auto d3 = Decide(north);
  EXPECT_EQ(d3.json["model"]["version"].GetInt(), 1);
  EXPECT_EQ(Ids(d3), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));

  auto versions = As("analyst").Get("/v1/decision-models/offers/versions");
  ASSERT_EQ(versions.status, 200);
  ASSERT_EQ(versions.json["items"].Size(), 2u);
  EXPECT_EQ(std::string(versions.json["items"][0]["state"].GetString()), "superseded");
  auto v1 = As("analyst").Get("/v1/decision-models/offers/versions/1");
  EXPECT_NE(std::string(v1.json["xml"].GetString()).find("gold-card"), std::string::npos);
  const auto& audit = v1.json["audit"];
  EXPECT_EQ(std::string(audit[audit.Size() - 1]["action"].GetString()), "rolled_back");

  // Responses are recorded against the decision; the 360 view shows both sections.
  auto resp = As("sales").Post("/v1/responses", R"({"decisionId":")" + std::string(d3.json["decisionId"].GetString()) +
                                                    R"(","actionId":"gold-card","outcome":"accepted"})");
  ASSERT_EQ(resp.status, 201) << resp.body;
  ExpectProblem(As("sales").Post("/v1/responses", R"({"decisionId":"dec_x","actionId":"gold-card","outcome":"accepted"})"),
                404, "/decisionId");
  ExpectProblem(As("sales").Post("/v1/responses", R"({"decisionId":"dec_x","actionId":"gold-card","outcome":"maybe"})"),
                400, "/outcome");
  auto view = admin().Get("/v1/customers/" + std::to_string(north) + "/view");
  ASSERT_EQ(view.status, 200);
  ASSERT_TRUE(view.json["sections"].IsObject()) << view.body.substr(0, 300);
  EXPECT_TRUE(view.json["sections"]["nextBestActions"]["actions"].IsArray()) << view.body;
  EXPECT_GE(view.json["sections"]["recentDecisions"].Size(), 3u);
}

TEST_F(DecisionRoutesTest, ConditionByDmnDecisionFollowsPublishAndRollback) {
  int64_t north = Customer("north", 150);
  Catalog();
  ASSERT_EQ(Publish(Model("100", true, "120")), 1);
  ASSERT_EQ(As("marketing").Put("/v1/decision-points/web-home", R"({"model":"offers","decision":"Next Offers"})").status, 200);
  ExpectProblem(As("marketing").Put("/v1/actions/gold-card", R"({"kind":"offer","name":"Gold card","eligibility":{"model":"none","decision":"Gold Eligible"}})"),
                422, "/eligibility/model");
  ExpectProblem(As("marketing").Put("/v1/actions/gold-card", R"({"kind":"offer","name":"Gold card","suitability":{"model":"offers","decision":"Platinum"}})"),
                422, "/suitability/decision");
  ExpectProblem(As("marketing").Put("/v1/actions/gold-card", R"({"kind":"offer","name":"Gold card","eligibility":{"model":"offers"}})"),
                400, "/eligibility/decision");
  auto put = As("marketing").Put("/v1/actions/gold-card", R"({"kind":"offer","name":"Gold card","value":100,
      "eligibility":{"model":"offers","decision":"Gold Eligible"},"applicability":"channel = \"web\""})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto got = As("analyst").Get("/v1/actions/gold-card");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(std::string(got.json["eligibility"]["model"].GetString()), "offers");
  EXPECT_EQ(std::string(got.json["eligibility"]["decision"].GetString()), "Gold Eligible");
  EXPECT_EQ(std::string(got.json["applicability"].GetString()), "channel = \"web\"");
  EXPECT_EQ(Ids(Decide(north)), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));

  // v2 raises the gate: the condition removes the gold card, and says which version did.
  ASSERT_EQ(Publish(Model("100", true, "200")), 2);
  auto d2 = Decide(north, "web", true);
  ASSERT_EQ(d2.status, 200) << d2.body;
  EXPECT_EQ(Ids(d2), (std::vector<std::string>{"newsletter", "service-call"}));
  bool named = false;
  for (const auto& m : d2.json["explanation"]["removed"].GetArray()) {
    if (std::string(m["actionId"].GetString()) != "gold-card") continue;
    EXPECT_EQ(std::string(m["stage"].GetString()), "eligibility");
    EXPECT_EQ(std::string(m["by"].GetString()), "offers:Gold Eligible v2");
    named = true;
  }
  EXPECT_TRUE(named) << d2.body;

  // A version without the decision cannot be published while the action uses it.
  auto up = As("marketing").Send("POST", "/v1/decision-models", Model("100"), kXml);
  ASSERT_EQ(up.status, 201) << up.body;
  ASSERT_EQ(As("marketing").Post("/v1/decision-models/offers/versions/3/submit", "").status, 200);
  ASSERT_EQ(admin().Post("/v1/decision-models/offers/versions/3/approve", "").status, 200);
  ExpectProblem(admin().Post("/v1/decision-models/offers/publish", R"({"version":3})"), 422,
                "/actions/gold-card/eligibility");

  ASSERT_EQ(admin().Post("/v1/decision-models/offers/rollback", R"({"version":1})").status, 200);
  EXPECT_EQ(Ids(Decide(north)), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));
}

TEST_F(DecisionRoutesTest, CappedCustomerGetsNoMarketingAndTheExplanationNamesTheCap) {
  int64_t north = Customer("north", 150);
  Catalog();
  Publish(Model("100"));
  ASSERT_EQ(As("marketing").Put("/v1/decision-points/web-home", R"({"model":"offers","decision":"Next Offers"})").status, 200);
  auto cap = As("marketing").Put("/v1/contact-policies/marketing-email-weekly",
                                 R"({"kind":"frequencyCap","channels":["email"],"purposes":["marketing"],"max":2,"windowDays":7})");
  ASSERT_EQ(cap.status, 200) << cap.body;
  auto first = Decide(north, "email");
  EXPECT_EQ(Ids(first), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));
  auto capped = Decide(north, "email", true);
  ASSERT_EQ(capped.status, 200);
  EXPECT_EQ(Ids(capped), (std::vector<std::string>{"service-call"}));
  bool named = false;
  for (const auto& m : capped.json["explanation"]["removed"].GetArray()) {
    if (std::string(m["actionId"].GetString()) == "gold-card") {
      EXPECT_EQ(std::string(m["stage"].GetString()), "frequencyCap");
      EXPECT_EQ(std::string(m["by"].GetString()), "marketing-email-weekly");
      named = true;
    }
  }
  EXPECT_TRUE(named) << capped.body;
  auto got = As("analyst").Get("/v1/contact-policies/marketing-email-weekly");
  EXPECT_EQ(got.json["windowDays"].GetInt(), 7);
}

TEST_F(DecisionRoutesTest, BadRequestsAreProblemsNamingTheField) {
  int64_t north = Customer("north", 150);
  ExpectProblem(As("marketing").Post("/v1/decision-models", "<x/>"), 415, "Content-Type");
  ExpectProblem(As("marketing").Send("POST", "/v1/decision-models", "<definitions", kXml), 422);
  ExpectProblem(As("marketing").Put("/v1/actions/a", R"({"kind":"offer","name":"A","eligibility":"x >"})"), 400,
                "/eligibility");
  ExpectProblem(As("marketing").Put("/v1/actions/bad%20id", R"({"kind":"offer","name":"A"})"), 400, "id");
  ExpectProblem(As("analyst").Put("/v1/actions/a", R"({"kind":"offer","name":"A"})"), 403);
  ExpectProblem(As("marketing").Put("/v1/decision-points/p", R"({"model":"none","decision":"d"})"), 422, "/model");
  ExpectProblem(As("sales").Post("/v1/decide", R"({"customerId":1,"channel":"web","decisionPoint":"nope"})"), 404,
                "/decisionPoint");
  ExpectProblem(As("sales").Post("/v1/decide", R"({"customerId":1,"channel":"web"})"), 400, "/decisionPoint");
  ExpectProblem(As("analyst").Post("/v1/decide", R"({"customerId":1,"channel":"web","decisionPoint":"x"})"), 403);
  ExpectProblem(As("analyst").Get("/v1/decision-models/offers/versions"), 404, "name");
  ExpectProblem(As("analyst").Get("/v1/decision-models/offers/versions/x"), 400, "version");
  ExpectProblem(As("analyst").Get("/v1/actions/none"), 404, "id");
  ExpectProblem(As("marketing").Put("/v1/contact-policies/q", R"({"kind":"quietHours","start":"9pm","end":"07:00"})"),
                400, "/start");
  Catalog();
  Publish(Model("100"));
  ASSERT_EQ(As("marketing").Put("/v1/decision-points/web-home", R"({"model":"offers","decision":"Next Offers"})").status, 200);
  ExpectProblem(As("sales").Post("/v1/decide", R"({"customerId":)" + std::to_string(north) +
                                                   R"(,"channel":"web","decisionPoint":"web-home","context":[1]})"),
                400, "/context");
  ExpectProblem(As("sales").Post("/v1/decide", R"({"customerId":99999,"channel":"web","decisionPoint":"web-home"})"),
                404, "/customerId");
  auto del = As("marketing").Send("DELETE", "/v1/actions/newsletter", "");
  EXPECT_EQ(del.status, 204);
  ExpectProblem(As("marketing").Send("DELETE", "/v1/actions/newsletter", ""), 404, "id");
}

TEST_F(DecisionRoutesTest, DecisionsStayWholeWhileVersionsArePublished) {
  int64_t north = Customer("north", 150);
  Catalog();
  Publish(Model("100"));
  ASSERT_EQ(As("marketing").Put("/v1/decision-points/web-home", R"({"model":"offers","decision":"Next Offers"})").status, 200);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, answered{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      HttpClient client(server_->port(), keys_["sales"]);
      while (!stop.load()) {
        auto r = client.Post("/v1/decide", R"({"customerId":)" + std::to_string(north) +
                                               R"(,"channel":"web","decisionPoint":"web-home"})");
        if (r.status != 200) {
          ++torn;
          continue;
        }
        int v = r.json["model"]["version"].GetInt();
        auto ids = Ids(r);
        // Odd versions have the gold card rule, even ones do not.
        bool ok = v % 2 == 1 ? ids == std::vector<std::string>{"gold-card", "newsletter", "service-call"}
                             : ids == std::vector<std::string>{"newsletter", "service-call"};
        if (!ok) ++torn;
        ++answered;
      }
      (void)t;
    });
  }
  // Decisions before the first publish and between every two, so each
  // version is read while the next one is being published.
  auto decisions_made = [&](int n) {
    int target = answered.load() + torn.load() + n;
    while (answered.load() + torn.load() < target) std::this_thread::yield();
  };
  decisions_made(2);
  for (int i = 0; i < 6; ++i) {
    Publish(i % 2 == 0 ? Model("100", false) : Model("100"));
    decisions_made(2);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(answered.load(), 10);
}

}  // namespace
}  // namespace rapport::server::testing

namespace rapport::server::testing {
namespace {

// Issue #12: invalid UTF-8 in a model name made GET /v1/decision-models
// answer invalid JSON. The upload is refused naming the body.
TEST_F(DecisionRoutesTest, AModelThatIsNotUtf8IsRefused) {
  std::string xml = Model("100");
  xml.replace(xml.find("name=\"offers\""), 13, "name=\"offers\xFF\"");
  ExpectProblem(As("marketing").Send("POST", "/v1/decision-models", xml, kXml), 400, "body");
  std::string nul = Model("100");
  nul.insert(nul.find("name=\"offers\"") + 7, std::string(1, '\0'));
  ExpectProblem(As("marketing").Send("POST", "/v1/decision-models", nul, kXml), 400, "body");
  auto list = admin().Get("/v1/decision-models");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(list.json.IsObject()) << list.body;
  EXPECT_EQ(list.json["items"].Size(), 0u);
}

}  // namespace
}  // namespace rapport::server::testing
