// Triggers end to end on a real server: a tracked complaint opens exactly one
// service case (even when the same messageId is posted twice), seen through
// GET /v1/cases and the 360 view; a big order sends a signed webhook to a
// real local receiver; an interaction raises an alert in the 360 view until
// it is acknowledged; the routes' errors and permissions.

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <thread>

#include "decision/triggers.h"
#include "decision/webhook_receiver.h"
#include "ingest/tracking.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

// The webhook receiver listens on 127.0.0.1, which the outbound policy
// denies: the fixture allows exactly that address, as `rapport serve
// --outbound-allow 127.0.0.1/32` would.
class TriggerRoutesTest : public TrackingServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    TrackingServerTest::Configure(o);
    o.outbound_allow = "127.0.0.1/32";
  }
  HttpReply MustPost(const std::string& role, const std::string& path, const std::string& body, int status) {
    HttpReply r = As(role).Post(path, body);
    EXPECT_EQ(r.status, status) << path << ": " << r.body;
    return r;
  }
};

TEST_F(TriggerRoutesTest, ComplaintOpensOneServiceCase) {
  HttpReply t = MustPost("marketing", "/v1/triggers", R"({
      "name": "complaint to service",
      "event": {"type": "track", "name": "Complaint Filed"},
      "action": {"type": "case", "team": "service", "priority": "high",
                 "title": "\"Complaint: \" + event.properties.subject"}})",
                         201);
  ASSERT_TRUE(t.json.IsObject());
  int64_t trigger_id = t.json["id"].GetInt64();
  EXPECT_EQ(t.header("location"), "/v1/triggers/" + std::to_string(trigger_id));

  const std::string complaint =
      R"({"userId": "u-1", "event": "Complaint Filed", "messageId": "complaint-1", "properties": {"subject": "late"}})";
  ASSERT_EQ(Track(complaint).status, 200);
  ASSERT_EQ(Track(complaint).status, 200);  // a retry by the SDK: the same messageId
  // Another customer's complaint after them: once its case is there, the
  // engine (one thread, in feed order) has seen both posts above.
  ASSERT_EQ(Track(R"({"userId": "u-2", "event": "Complaint Filed", "messageId": "complaint-2",
                      "properties": {"subject": "rude"}})")
                .status,
            200);
  HttpReply cases;
  ASSERT_TRUE(Eventually([&] {
    cases = admin().Get("/v1/cases?team=service");
    return cases.status == 200 && cases.json["items"].Size() == 2;
  })) << cases.body;
  const auto& first = cases.json["items"][1];  // newest first
  EXPECT_STREQ(first["title"].GetString(), "Complaint: late");
  EXPECT_STREQ(first["status"].GetString(), "open");
  EXPECT_STREQ(first["priority"].GetString(), "high");
  EXPECT_EQ(first["triggerId"].GetInt64(), trigger_id);
  int64_t customer = first["customerId"].GetInt64();
  int64_t case_id = first["id"].GetInt64();

  HttpReply mine = As("analyst").Get("/v1/cases?customerId=" + std::to_string(customer));
  ASSERT_EQ(mine.status, 200) << mine.body;
  ASSERT_EQ(mine.json["items"].Size(), 1u);

  HttpReply view = As("service").Get("/v1/customers/" + std::to_string(customer) + "/view");
  ASSERT_EQ(view.status, 200) << view.body;
  const auto& section = view.json["sections"]["cases"];
  EXPECT_EQ(section["openCases"].GetInt(), 1) << view.body;
  ASSERT_EQ(section["items"].Size(), 1u);
  EXPECT_EQ(section["items"][0]["id"].GetInt64(), case_id);

  HttpReply firings = admin().Get("/v1/triggers/" + std::to_string(trigger_id) + "/firings");
  ASSERT_EQ(firings.status, 200) << firings.body;
  EXPECT_EQ(firings.json["items"].Size(), 2u);
  EXPECT_STREQ(firings.json["items"][0]["outcome"].GetString(), "done");

  // The service agent works the case; an analyst may only read it.
  ExpectProblem(As("analyst").Patch("/v1/cases/" + std::to_string(case_id), R"({"status": "closed"})"), 403);
  HttpReply working =
      As("service").Patch("/v1/cases/" + std::to_string(case_id), R"({"status": "in_progress", "assignee": "maria"})");
  ASSERT_EQ(working.status, 200) << working.body;
  EXPECT_STREQ(working.json["assignee"].GetString(), "maria");
  ExpectProblem(As("service").Patch("/v1/cases/" + std::to_string(case_id), R"({"status": "done"})"), 400, "/status");
  HttpReply closed = As("service").Patch("/v1/cases/" + std::to_string(case_id), R"({"status": "closed"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_TRUE(closed.json["closedAt"].IsString());
  view = As("service").Get("/v1/customers/" + std::to_string(customer) + "/view");
  EXPECT_EQ(view.json["sections"]["cases"]["openCases"].GetInt(), 0) << view.body;

  // Agents open cases by hand too.
  HttpReply manual = MustPost("sales", "/v1/cases",
                              R"({"customerId": )" + std::to_string(customer) +
                                  R"(, "kind": "task", "team": "sales", "title": "Offer a voucher"})",
                              201);
  EXPECT_EQ(manual.json["triggerId"].IsNull(), true);
  EXPECT_EQ(std::string(manual.json["createdBy"].GetString()).rfind("key:", 0), 0u);
  HttpReply got = As("service").Get(manual.header("location"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_STREQ(got.json["title"].GetString(), "Offer a voucher");
  // A title is free text that may name the person: masked without pii:read,
  // in the case, the list and the 360 view.
  got = As("analyst").Get(manual.header("location"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_STREQ(got.json["title"].GetString(), "***");
  got = As("analyst").Get("/v1/cases?customerId=" + std::to_string(customer));
  ASSERT_EQ(got.status, 200) << got.body;
  ASSERT_GE(got.json["items"].Size(), 1u);
  for (const auto& k : got.json["items"].GetArray()) EXPECT_STREQ(k["title"].GetString(), "***") << got.body;
  got = As("analyst").Get("/v1/customers/" + std::to_string(customer) + "/view");
  ASSERT_EQ(got.status, 200) << got.body;
  for (const auto& k : got.json["sections"]["cases"]["items"].GetArray()) EXPECT_STREQ(k["title"].GetString(), "***");
  ExpectProblem(As("sales").Post("/v1/cases", R"({"customerId": 999999, "team": "sales", "title": "x"})"), 422,
                "/customerId");
  ExpectProblem(As("sales").Get("/v1/cases?status=done"), 400, "status");
  ExpectProblem(As("sales").Get("/v1/cases/777777"), 404);
}

TEST_F(TriggerRoutesTest, BigOrderSendsASignedWebhook) {
  rapport::decision::testing::WebhookReceiver receiver;
  const std::string secret = "whsec_e2e_secret_0123456789";
  HttpReply t = MustPost("admin", "/v1/triggers",
                         R"({"name": "big order", "event": {"type": "track", "name": "Order Completed",
                              "where": "event.properties.total > 500"},
                             "action": {"type": "webhook", "url": ")" +
                             receiver.url("/orders") + R"(", "secret": ")" + secret + R"("}})",
                         201);
  ASSERT_TRUE(t.json.IsObject()) << t.body;
  EXPECT_STREQ(t.json["action"]["secret"].GetString(), secret.c_str());  // shown once
  int64_t trigger_id = t.json["id"].GetInt64();
  HttpReply listed = As("analyst").Get("/v1/triggers/" + std::to_string(trigger_id));
  ASSERT_EQ(listed.status, 200);
  EXPECT_FALSE(listed.json["action"].HasMember("secret")) << listed.body;

  ASSERT_EQ(Track(R"({"userId": "u-9", "event": "Order Completed", "messageId": "o-1",
                      "properties": {"orderId": "o-1", "total": 120}})")
                .status,
            200);
  ASSERT_EQ(Track(R"({"userId": "u-9", "event": "Order Completed", "messageId": "o-2",
                      "properties": {"orderId": "o-2", "total": 900}})")
                .status,
            200);
  ASSERT_TRUE(receiver.WaitFor(1));
  auto got = receiver.requests();
  ASSERT_EQ(got.size(), 1u);
  Status verified = decision::VerifyWebhookSignature(got[0].headers["rapport-signature"], secret, got[0].body,
                                                     SystemClock::Default()->Now());
  EXPECT_TRUE(verified.ok()) << verified.ToString() << " header=" << got[0].headers["rapport-signature"];
  rapidjson::Document body;
  body.Parse(got[0].body.c_str());
  ASSERT_TRUE(body.IsObject()) << got[0].body;
  EXPECT_EQ(body["event"]["properties"]["total"].GetInt(), 900);
  EXPECT_STREQ(body["event"]["messageId"].GetString(), "o-2");

  // The delivery log shows what receivers answered: only for the roles that
  // manage triggers.
  for (const char* reader : {"analyst", "sales", "service"}) {
    ExpectProblem(As(reader).Get("/v1/triggers/" + std::to_string(trigger_id) + "/deliveries"), 403);
  }
  HttpReply deliveries;
  ASSERT_TRUE(Eventually([&] {
    deliveries = As("marketing").Get("/v1/triggers/" + std::to_string(trigger_id) + "/deliveries");
    return deliveries.status == 200 && deliveries.json["items"].Size() == 1 &&
           std::string(deliveries.json["items"][0]["status"].GetString()) == "delivered";
  })) << deliveries.body;
  EXPECT_EQ(deliveries.json["items"][0]["lastHttpStatus"].GetInt(), 200);
  ASSERT_EQ(deliveries.json["items"][0]["log"].Size(), 1u);
  EXPECT_EQ(deliveries.json["items"][0]["log"][0]["httpStatus"].GetInt(), 200);
  EXPECT_STREQ(deliveries.json["items"][0]["log"][0]["response"].GetString(), "thanks");
}

// SSRF: a marketing key points a webhook at an internal service or the
// cloud metadata address; the public write key would fire it.
TEST_F(TriggerRoutesTest, WebhooksToInternalAddressesAreRefused) {
  // (localhost is allowed here: it resolves to 127.0.0.1 as well as ::1.)
  rapport::decision::testing::WebhookReceiver internal("127.0.0.2");  // loopback, not allowed
  const std::string port = std::to_string(internal.port());
  for (const std::string& url :
       {internal.url("/admin"), std::string("http://169.254.169.254/latest/meta-data/"),
        "http://2130706434:" + port + "/", "http://[::ffff:127.0.0.2]:" + port + "/",
        std::string("http://[fd00:ec2::254]/"), std::string("http://192.168.0.1/"), std::string("http://100.64.0.1/"),
        std::string("http://me:pw@example.com/hook"), std::string("http://0.0.0.0:") + port + "/"}) {
    HttpReply r = As("marketing").Post("/v1/triggers", R"({"name": "leak", "event": {"type": "track"},
        "action": {"type": "webhook", "url": ")" + url + R"("}})");
    ExpectProblem(r, 422, "/action/url");
    if (url.find("169.254") != std::string::npos) {
      EXPECT_NE(r.body.find("169.254.169.254 is cloud metadata"), std::string::npos) << r.body;
    }
  }
  // The allowed address is accepted, and replacing it by a denied one is not.
  HttpReply ok = MustPost("marketing", "/v1/triggers", R"({"name": "own crm", "event": {"type": "track"},
      "action": {"type": "webhook", "url": "http://127.0.0.1:9/crm"}})", 201);
  ASSERT_TRUE(ok.json.IsObject()) << ok.body;
  HttpReply replaced = As("marketing").Put("/v1/triggers/" + std::to_string(ok.json["id"].GetInt64()),
                                           R"({"name": "own crm", "event": {"type": "track"},
      "action": {"type": "webhook", "url": "http://169.254.169.254/"}})");
  ExpectProblem(replaced, 422, "/action/url");
  EXPECT_TRUE(internal.requests().empty());
}

TEST_F(TriggerRoutesTest, InteractionRaisesAnAlertInTheView) {
  MustPost("admin", "/v1/triggers", R"({"name": "complaint call",
      "event": {"type": "interaction.created", "where": "event.properties.type = \"complaint\""},
      "action": {"type": "alert", "severity": "critical",
                 "message": "\"Complaint by \" + event.properties.channel"}})",
           201);
  HttpReply c = MustPost("admin", "/v1/customers", R"({"kind": "person", "attributes": {"firstName": "Ada"}})", 201);
  const std::string id = std::to_string(c.json["id"].GetInt64());
  const std::string call = R"({"customerId": )" + id +
                           R"(, "type": "complaint", "channel": "phone", "source": "pbx", "sourceKey": "call-1"})";
  MustPost("service", "/v1/interactions", call, 201);
  MustPost("service", "/v1/interactions", call, 201);  // the same call again: one interaction, one alert
  MustPost("service", "/v1/interactions",
           R"({"customerId": )" + id + R"(, "type": "complaint", "channel": "email", "source": "pbx", "sourceKey": "call-2"})",
           201);
  HttpReply view;
  ASSERT_TRUE(Eventually([&] {
    view = As("service").Get("/v1/customers/" + id + "/view");
    return view.status == 200 && view.json["sections"]["alerts"].Size() == 2;
  })) << view.body;
  const auto& alerts = view.json["sections"]["alerts"];
  EXPECT_STREQ(alerts[0]["message"].GetString(), "Complaint by email");  // newest first
  EXPECT_STREQ(alerts[1]["message"].GetString(), "Complaint by phone");
  EXPECT_STREQ(alerts[1]["severity"].GetString(), "critical");
  int64_t alert = alerts[1]["id"].GetInt64();
  // Messages are free text that may name the person: masked without pii:read.
  HttpReply masked = As("analyst").Get("/v1/customers/" + id + "/view");
  ASSERT_EQ(masked.status, 200) << masked.body;
  for (const auto& a : masked.json["sections"]["alerts"].GetArray()) EXPECT_STREQ(a["message"].GetString(), "***");
  masked = As("analyst").Get("/v1/alerts?customerId=" + id);
  ASSERT_EQ(masked.status, 200) << masked.body;
  for (const auto& a : masked.json["items"].GetArray()) EXPECT_STREQ(a["message"].GetString(), "***");

  ExpectProblem(As("analyst").Post("/v1/alerts/" + std::to_string(alert) + "/acknowledge", ""), 403);
  HttpReply acked = As("service").Post("/v1/alerts/" + std::to_string(alert) + "/acknowledge", "");
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_TRUE(acked.json["acknowledgedAt"].IsString());
  view = As("analyst").Get("/v1/customers/" + id + "/view");
  EXPECT_EQ(view.json["sections"]["alerts"].Size(), 1u) << view.body;
  HttpReply all = As("analyst").Get("/v1/alerts?customerId=" + id + "&status=all");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json["items"].Size(), 2u);
  ExpectProblem(As("analyst").Get("/v1/alerts?status=new"), 400, "status");
}

TEST_F(TriggerRoutesTest, DefinitionsAreCheckedAndManaged) {
  ExpectProblem(As("analyst").Post("/v1/triggers", R"({"name": "x"})"), 403);
  HttpReply typo = As("marketing").Post("/v1/triggers", R"({"name": "x", "event": {"type": "track"},
      "condition": "orders > 1 and revenu > 10", "action": {"type": "alert", "message": "\"x\""}})");
  ExpectProblem(typo, 400, "/condition");
  EXPECT_EQ(typo.json["errors"][0]["position"].GetInt(), 15) << typo.body;  // where the editor puts the cursor
  ExpectProblem(As("marketing").Post("/v1/triggers", R"({"name": "x", "event": {"type": "track"},
      "condition": "revenue >", "action": {"type": "alert", "message": "\"x\""}})"),
                400, "/condition");
  ExpectProblem(As("marketing").Post("/v1/triggers", R"({"name": "x", "event": {"type": "track"},
      "action": {"type": "case", "team": "legal", "title": "\"x\""}})"),
                400, "/action/team");
  ExpectProblem(As("marketing").Post("/v1/triggers", "{"), 400);
  ExpectProblem(As("analyst").Get("/v1/triggers/12345"), 404);

  const std::string def = R"({"name": "vip", "event": {"type": "identify"}, "condition": "revenue365d > 1000",
      "action": {"type": "alert", "message": "\"VIP\""}})";
  HttpReply created = MustPost("marketing", "/v1/triggers", def, 201);
  ExpectProblem(As("marketing").Post("/v1/triggers", def), 409, "/name");
  const std::string path = "/v1/triggers/" + std::to_string(created.json["id"].GetInt64());

  HttpReply disabled = As("marketing").Put(path, R"({"name": "vip", "enabled": false, "event": {"type": "identify"},
      "condition": "revenue365d > 2000", "action": {"type": "alert", "message": "\"VIP\""}})");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_FALSE(disabled.json["enabled"].GetBool());
  EXPECT_STREQ(disabled.json["condition"].GetString(), "revenue365d > 2000");
  HttpReply list = As("analyst").Get("/v1/triggers");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["items"].Size(), 1u);
  EXPECT_FALSE(list.json["items"][0]["enabled"].GetBool());

  HttpReply gone = As("marketing").Send("DELETE", path, "");
  EXPECT_EQ(gone.status, 204) << gone.body;
  ExpectProblem(As("marketing").Send("DELETE", path, ""), 404);
  EXPECT_EQ(As("analyst").Get("/v1/triggers").json["items"].Size(), 0u);
}

}  // namespace
}  // namespace rapport::server::testing
