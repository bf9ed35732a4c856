// Decisioning's two halves together on a real server: a tracked complaint
// opens a service case through a trigger, and while that case is open a
// suppression policy over the `openCases` fact keeps marketing actions from
// the customer (the explanation names the policy); closing the case lets
// marketing back in. A decide-and-deliver trigger asks the same engine.

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <thread>

#include "ingest/tracking.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

constexpr const char* kModel = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:e2e:care" name="care" id="care">
  <inputData id="in_region" name="region"><variable name="region" typeRef="string"/></inputData>
  <decision id="next" name="Next">
    <informationRequirement><requiredInput href="#in_region"/></informationRequirement>
    <decisionTable id="t" hitPolicy="COLLECT">
      <input label="region"><inputExpression typeRef="string"><text>region</text></inputExpression></input>
      <output name="action" typeRef="string"/>
      <rule id="r1"><inputEntry><text>-</text></inputEntry><outputEntry><text>"gold-card"</text></outputEntry></rule>
      <rule id="r2"><inputEntry><text>-</text></inputEntry><outputEntry><text>"apology-call"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
)";

class DecisionTriggersTest : public TrackingServerTest {
 protected:
  void Expect(const HttpReply& r, int status) { ASSERT_EQ(r.status, status) << r.body; }

  // Catalog, model v1 published, decision point and the suppression policy.
  void SetUpDecisioning() {
    Expect(As("marketing").Put("/v1/actions/gold-card",
                               R"({"kind":"offer","name":"Gold card","purpose":"marketing","value":100,"channels":["web"]})"),
           200);
    Expect(As("marketing").Put("/v1/actions/apology-call",
                               R"({"kind":"service","name":"Apology call","purpose":"service","value":5})"),
           200);
    auto up = As("marketing").Send("POST", "/v1/decision-models", kModel, {{"Content-Type", "application/xml"}});
    Expect(up, 201);
    Expect(As("marketing").Post("/v1/decision-models/care/versions/1/submit", "{}"), 200);
    Expect(admin().Post("/v1/decision-models/care/versions/1/approve", ""), 200);
    Expect(admin().Post("/v1/decision-models/care/publish", R"({"version":1})"), 200);
    Expect(As("marketing").Put("/v1/decision-points/web-home", R"({"model":"care","decision":"Next"})"), 200);
    Expect(As("marketing").Put("/v1/contact-policies/no-marketing-while-case-open",
                               R"({"kind":"suppression","purposes":["marketing"],"condition":"openCases > 0"})"),
           200);
  }

  std::vector<std::string> Decide(int64_t customer, HttpReply* reply = nullptr) {
    HttpReply r = As("sales").Post("/v1/decide", R"({"customerId":)" + std::to_string(customer) +
                                                     R"(,"channel":"web","decisionPoint":"web-home","explain":true})");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    if (r.status == 200) {
      for (const auto& a : r.json["actions"].GetArray()) ids.emplace_back(a["actionId"].GetString());
    }
    if (reply) *reply = std::move(r);
    return ids;
  }

};

TEST_F(DecisionTriggersTest, ComplaintOpensACaseThroughATriggerAndSuppressesMarketingUntilItIsClosed) {
  SetUpDecisioning();
  Expect(As("marketing").Post("/v1/triggers", R"({
      "name": "complaint to service",
      "event": {"type": "track", "name": "Complaint Filed"},
      "action": {"type": "case", "team": "service", "title": "\"Complaint: \" + event.properties.subject"}})"),
         201);
  auto created = admin().Post(
      "/v1/customers", R"({"kind":"person","attributes":{"region":"north"},"identifiers":["segment.user:u-7"]})");
  Expect(created, 201);
  int64_t customer = created.json["id"].GetInt64();
  // The profile store follows the change feed: wait until it has the customer.
  ASSERT_TRUE(Eventually([&] {
    return As("sales").Post("/v1/decide", R"({"customerId":)" + std::to_string(customer) +
                                              R"(,"channel":"web","decisionPoint":"web-home"})").status == 200;
  }));

  EXPECT_EQ(Decide(customer), (std::vector<std::string>{"gold-card", "apology-call"}));

  Expect(Track(R"({"userId":"u-7","event":"Complaint Filed","messageId":"c-1","properties":{"subject":"late delivery"}})"),
         200);
  HttpReply cases;
  ASSERT_TRUE(Eventually([&] {
    cases = As("service").Get("/v1/cases?customerId=" + std::to_string(customer));
    return cases.status == 200 && cases.json["items"].Size() == 1;
  })) << cases.body;
  EXPECT_STREQ(cases.json["items"][0]["title"].GetString(), "Complaint: late delivery");
  int64_t case_id = cases.json["items"][0]["id"].GetInt64();

  HttpReply suppressed;
  EXPECT_EQ(Decide(customer, &suppressed), (std::vector<std::string>{"apology-call"}));
  bool named = false;
  for (const auto& m : suppressed.json["explanation"]["removed"].GetArray()) {
    if (std::string(m["actionId"].GetString()) != "gold-card") continue;
    EXPECT_STREQ(m["stage"].GetString(), "suppression");
    EXPECT_STREQ(m["by"].GetString(), "no-marketing-while-case-open");
    named = true;
  }
  EXPECT_TRUE(named) << suppressed.body;

  Expect(As("service").Send("PATCH", "/v1/cases/" + std::to_string(case_id), R"({"status":"closed"})",
                            {{"Content-Type", "application/json"}}),
         200);
  EXPECT_EQ(Decide(customer), (std::vector<std::string>{"gold-card", "apology-call"}));
}

TEST_F(DecisionTriggersTest, DecideAndDeliverTriggerAsksTheDecisionEngine) {
  SetUpDecisioning();
  auto t = As("marketing").Post("/v1/triggers", R"({
      "name": "welcome back",
      "event": {"type": "track", "name": "Signed In"},
      "action": {"type": "decide", "decisionPoint": "web-home", "channel": "web"}})");
  Expect(t, 201);
  int64_t trigger = t.json["id"].GetInt64();
  auto created = admin().Post(
      "/v1/customers", R"({"kind":"person","attributes":{"region":"south"},"identifiers":["segment.user:u-8"]})");
  Expect(created, 201);
  int64_t customer = created.json["id"].GetInt64();
  Expect(Track(R"({"userId":"u-8","event":"Signed In","messageId":"s-1"})"), 200);

  HttpReply firings;
  ASSERT_TRUE(Eventually([&] {
    firings = admin().Get("/v1/triggers/" + std::to_string(trigger) + "/firings");
    return firings.status == 200 && firings.json["items"].Size() == 1;
  })) << firings.body;
  // The engine logged the decision it made for the trigger.
  HttpReply view;
  ASSERT_TRUE(Eventually([&] {
    view = admin().Get("/v1/customers/" + std::to_string(customer) + "/view");
    return view.status == 200 && view.json["sections"].HasMember("recentDecisions") &&
           view.json["sections"]["recentDecisions"].IsArray() && view.json["sections"]["recentDecisions"].Size() >= 1;
  })) << view.body;
}

}  // namespace
}  // namespace rapport::server::testing
