#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "decision/trigger_fixture.h"
#include "decision/triggers.h"
#include "decision/webhook_receiver.h"

namespace rapport::decision {
namespace {

using testing::Header;
using testing::TriggerTest;
using testing::ScriptedAnswer;
using testing::WebhookReceiver;

constexpr const char* kSecret = "whsec_test_0123456789abcdef";

// ---- signatures -------------------------------------------------------------------

TEST(WebhookSignatureTest, SignsTimestampDotBody) {
  Timestamp t = Timestamp::FromSeconds(1'700'000'000);
  std::string header = SignWebhook(kSecret, t, R"({"a":1})");
  ASSERT_EQ(header.rfind("t=1700000000,v1=", 0), 0u) << header;
  EXPECT_EQ(header.size(), std::string("t=1700000000,v1=").size() + 64);
  EXPECT_TRUE(VerifyWebhookSignature(header, kSecret, R"({"a":1})", t).ok());
  // A known answer, computed independently:
  //   printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test_0123456789abcdef
  EXPECT_EQ(header.substr(header.find("v1=") + 3), "07728d7e7b1736bac3de36a46c9bc0b660d59aa4a6f251544124fede1dc42a6c");
}

TEST(WebhookSignatureTest, RefusesTamperingOtherSecretsAndOldTimestamps) {
  Timestamp t = Timestamp::FromSeconds(1'700'000'000);
  std::string header = SignWebhook(kSecret, t, "body");
  EXPECT_EQ(VerifyWebhookSignature(header, kSecret, "bodY", t).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyWebhookSignature(header, "whsec_another_secret_00", "body", t).code(), StatusCode::kUnauthenticated);
  Timestamp late = Timestamp::FromSeconds(1'700'000'000 + 301);
  EXPECT_EQ(VerifyWebhookSignature(header, kSecret, "body", late).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(VerifyWebhookSignature(header, kSecret, "body", Timestamp::FromSeconds(1'700'000'000 + 299)).ok());
  // Rotation: any v1 may match; unknown schemes are ignored.
  std::string old_v1 = SignWebhook("whsec_old_secret_000000", t, "body").substr(13);
  EXPECT_TRUE(VerifyWebhookSignature(header + "," + old_v1 + ",v0=abc", kSecret, "body", t).ok());
}

TEST(WebhookSignatureTest, MalformedHeadersAreInvalid) {
  Timestamp t = Timestamp::FromSeconds(1'700'000'000);
  std::string v1 = "v1=" + std::string(64, 'a');
  for (std::string header : {std::string(""), std::string("t=1700000000"), v1, "t=abc," + v1, "t=-5," + v1,
                             "t=1,t=2," + v1, std::string("t=1700000000,v1=zz"), "t=1700000000,," + v1,
                             "=x,t=1700000000," + v1}) {
    Status s = VerifyWebhookSignature(header, kSecret, "body", t);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << header << "': " << s.ToString();
    EXPECT_EQ(s.field(), "Rapport-Signature");
  }
}

// ---- the outbox with a scripted client --------------------------------------------------------

class WebhookTest : public TriggerTest {
 protected:
  void Configure(TriggerEngineOptions& o) override {
    o.retry_base = std::chrono::seconds(10);
    o.retry_max = std::chrono::seconds(25);
    o.max_attempts = 4;
  }

  Trigger BigOrderWebhook(const std::string& url) {
    return MustCreate(R"({"name": "big order", "event": {"type": "track", "name": "Order Completed"},
                          "condition": "event.properties.total > 500",
                          "action": {"type": "webhook", "url": ")" +
                      url + R"(", "secret": ")" + kSecret + R"("}})");
  }

  Delivery OnlyDelivery(int64_t trigger_id) {
    auto page = engine_->Deliveries(trigger_id, 0, 10);
    EXPECT_TRUE(page.ok());
    EXPECT_EQ(page->items.size(), 1u);
    return page->items.empty() ? Delivery{} : page->items[0];
  }
};

TEST_F(WebhookTest, RetriesServerErrorsWithBackoffThenDelivers) {
  Trigger t = BigOrderWebhook("http://hooks.test/orders");
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 900})"),
                    Track(2, ada, "Order Completed", R"({"total": 90})")});
  http_.Answer(503);
  http_.Answer(500);
  http_.FailTransport();
  http_.Answer(204);

  EXPECT_EQ(engine_->DeliverDue(), 1);  // attempt 1: 503
  Delivery d = OnlyDelivery(t.id);
  EXPECT_EQ(d.status, "pending");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_http_status, 503);
  EXPECT_EQ(d.next_attempt_at.micros - clock_.Now().micros, 10 * kMicrosPerSecond);
  EXPECT_EQ(engine_->DeliverDue(), 0);  // not due yet

  clock_.Advance(10 * kMicrosPerSecond);
  EXPECT_EQ(engine_->DeliverDue(), 1);  // attempt 2: 500, then wait 20 s
  EXPECT_EQ(OnlyDelivery(t.id).next_attempt_at.micros - clock_.Now().micros, 20 * kMicrosPerSecond);
  clock_.Advance(20 * kMicrosPerSecond);
  EXPECT_EQ(engine_->DeliverDue(), 1);  // attempt 3: transport error, then wait 25 s (the cap)
  d = OnlyDelivery(t.id);
  EXPECT_EQ(d.last_http_status, 0);
  EXPECT_NE(d.last_error.find("Connection refused"), std::string::npos) << d.last_error;
  EXPECT_EQ(d.next_attempt_at.micros - clock_.Now().micros, 25 * kMicrosPerSecond);
  clock_.Advance(25 * kMicrosPerSecond);
  EXPECT_EQ(engine_->DeliverDue(), 1);  // attempt 4: 204
  d = OnlyDelivery(t.id);
  EXPECT_EQ(d.status, "delivered");
  EXPECT_EQ(d.attempts, 4);
  ASSERT_TRUE(d.delivered_at.has_value());
  // The delivery log, newest first.
  ASSERT_EQ(d.log.size(), 4u);
  EXPECT_EQ(d.log[0].http_status, 204);
  EXPECT_EQ(d.log[1].http_status, 0);
  EXPECT_NE(d.log[1].error.find("Connection refused"), std::string::npos);
  EXPECT_EQ(d.log[2].http_status, 500);
  EXPECT_EQ(d.log[3].http_status, 503);
  EXPECT_EQ(d.log[3].at.micros, clock_.Now().micros - 55 * kMicrosPerSecond);
  EXPECT_NE(DeliveryToJson(d).find(R"("log":[{"at":)"), std::string::npos) << DeliveryToJson(d);

  // Every attempt carries the same body and delivery id, signed at its own time.
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 4u);
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].url, "http://hooks.test/orders");
    EXPECT_EQ(sent[i].body, sent[0].body);
    EXPECT_EQ(Header(sent[i], "Rapport-Delivery"), std::to_string(d.id));
    EXPECT_EQ(Header(sent[i], "Rapport-Attempt"), std::to_string(i + 1));
    EXPECT_EQ(Header(sent[i], "Content-Type"), "application/json");
  }
  EXPECT_TRUE(VerifyWebhookSignature(Header(sent[3], "Rapport-Signature"), kSecret, sent[3].body, clock_.Now()).ok());
  rapidjson::Document body;
  body.Parse(sent[0].body.c_str());
  ASSERT_TRUE(body.IsObject()) << sent[0].body;
  EXPECT_STREQ(body["type"].GetString(), "trigger.fired");
  EXPECT_EQ(body["customerId"].GetInt64(), ada);
  EXPECT_EQ(body["trigger"]["id"].GetInt64(), t.id);
  EXPECT_STREQ(body["event"]["name"].GetString(), "Order Completed");
  EXPECT_EQ(body["event"]["properties"]["total"].GetInt(), 900);
}

TEST_F(WebhookTest, GivesUpOnClientErrorsAndAfterMaxAttempts) {
  Trigger t = BigOrderWebhook("http://hooks.test/orders");
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 900})")});
  http_.Answer(410);
  engine_->DeliverDue();
  Delivery d = OnlyDelivery(t.id);
  EXPECT_EQ(d.status, "failed");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_error, "HTTP 410");

  engine_->Process({Track(2, ada, "Order Completed", R"({"total": 900})")});
  for (int i = 0; i < 4; ++i) {
    http_.Answer(502);
    engine_->DeliverDue();
    clock_.Advance(60 * kMicrosPerSecond);
  }
  auto page = engine_->Deliveries(t.id, 0, 10);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].status, "failed");
  EXPECT_EQ(page->items[0].attempts, 4);
  EXPECT_EQ(engine_->DeliverDue(), 0);
  EXPECT_EQ(http_.requests().size(), 5u);
}

TEST_F(WebhookTest, PendingDeliverySurvivesARestart) {
  Trigger t = BigOrderWebhook("http://hooks.test/orders");
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 900})")});
  http_.Answer(503);
  engine_->DeliverDue();
  OpenEngine();  // the process restarts; the message is a row
  clock_.Advance(10 * kMicrosPerSecond);
  EXPECT_EQ(engine_->DeliverDue(), 1);
  EXPECT_EQ(OnlyDelivery(t.id).status, "delivered");
  // And the firing is not repeated by the same event after the restart.
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 900})")});
  EXPECT_EQ(engine_->Deliveries(t.id, 0, 10)->items.size(), 1u);
}

TEST_F(WebhookTest, SecretIsGeneratedShownOnceAndKeptOnReplace) {
  Trigger t = MustCreate(R"({"name": "hook", "event": {"type": "identify"},
                             "action": {"type": "webhook", "url": "http://hooks.test/x"}})");
  ASSERT_EQ(t.definition.action.secret.rfind("whsec_", 0), 0u);
  EXPECT_EQ(t.definition.action.secret.size(), 6u + 48u);
  EXPECT_TRUE(engine_->Get(t.id)->definition.action.secret.empty());
  EXPECT_EQ(TriggerToJson(*engine_->Get(t.id)).find("secret"), std::string::npos);
  auto replaced = engine_->Replace(t.id, engine_->Get(t.id)->definition);
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(replaced->definition.action.secret.empty());  // kept, not shown

  customer::CustomerId ada = NewCustomer();
  ingest::StoredEvent identify = Track(5, ada, "");
  identify.event.type = ingest::EventType::kIdentify;
  engine_->Process({identify});
  engine_->DeliverDue();
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(VerifyWebhookSignature(Header(sent[0], "Rapport-Signature"), t.definition.action.secret, sent[0].body,
                                     clock_.Now())
                  .ok());
}

// ---- decide and deliver -------------------------------------------------------------------

class DecideTest : public TriggerTest {
 protected:
  void Configure(TriggerEngineOptions& o) override {
    o.decide = [this](customer::CustomerId id, const std::string& point, const std::string& channel)
        -> Result<std::string> {
      asked_.push_back(point + "/" + channel + "/" + std::to_string(id));
      if (point == "broken") return Status::Unavailable("no published model");
      return std::string(R"({"actions":[{"id":"welcome-10","score":0.4}]})");
    };
  }
  std::vector<std::string> asked_;
};

TEST_F(DecideTest, DeliversTheDecisionByWebhookOrAsAnInteraction) {
  Trigger hook = MustCreate(R"({"name": "welcome by webhook", "event": {"type": "track", "name": "Signed Up"},
      "action": {"type": "decide", "decisionPoint": "welcome", "channel": "email", "url": "http://esp.test/send"}})");
  MustCreate(R"({"name": "welcome in history", "event": {"type": "track", "name": "Signed Up"},
      "action": {"type": "decide", "decisionPoint": "welcome", "channel": "app"}})");
  Trigger broken = MustCreate(R"({"name": "broken", "event": {"type": "track", "name": "Signed Up"},
      "action": {"type": "decide", "decisionPoint": "broken", "channel": "app"}})");
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Signed Up"), Track(1, ada, "Signed Up")});
  ASSERT_EQ(asked_.size(), 3u);
  EXPECT_EQ(asked_[0], "welcome/email/" + std::to_string(ada));

  engine_->DeliverDue();
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 1u);
  rapidjson::Document body;
  body.Parse(sent[0].body.c_str());
  ASSERT_TRUE(body.IsObject());
  EXPECT_STREQ(body["type"].GetString(), "trigger.decided");
  EXPECT_STREQ(body["decision"]["actions"][0]["id"].GetString(), "welcome-10");
  EXPECT_EQ(engine_->Firings(hook.id, 0, 5)->items.at(0).outcome, "done");

  auto view = store_->View(ada);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->recent_interactions.size(), 1u);
  const customer::Interaction& i = view->recent_interactions[0];
  EXPECT_EQ(i.type, "decision");
  EXPECT_EQ(i.direction, "outbound");
  EXPECT_EQ(i.channel, "app");
  EXPECT_EQ(i.purpose, "welcome");
  EXPECT_NE(i.properties_json.find("welcome-10"), std::string::npos);

  auto failed = engine_->Firings(broken.id, 0, 5);
  ASSERT_EQ(failed->items.size(), 1u);
  EXPECT_EQ(failed->items[0].outcome, "failed");
  EXPECT_NE(failed->items[0].detail.find("no published model"), std::string::npos);
}

// ---- the real libcurl client against a real receiver ------------------------------------------

// The receiver listens on 127.0.0.1, which the outbound policy denies: the
// fixture allows exactly that address, as a company allows its own targets.
class CurlWebhookTest : public WebhookTest {
 protected:
  void Configure(TriggerEngineOptions& o) override {
    WebhookTest::Configure(o);
    policy_ = *net::OutboundPolicy::Parse("127.0.0.1/32", Dns());
    o.outbound = &policy_;
    curl_ = MakeCurlHttpClient(policy_);
    o.http = curl_.get();
    o.webhook_timeout = std::chrono::milliseconds(5000);
  }
  // The test's DNS: names the system resolver does not know.
  virtual net::Resolver Dns() { return nullptr; }

  net::OutboundPolicy policy_;
  std::unique_ptr<HttpClient> curl_;
  WebhookReceiver receiver_;
};

TEST_F(CurlWebhookTest, ReceiverVerifiesTheSignatureAndRetriesAfter500) {
  Trigger t = BigOrderWebhook(receiver_.url("/orders"));
  customer::CustomerId ada = NewCustomer();
  receiver_.Answer(500);
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 1200, "currency": "EUR"})")});
  EXPECT_EQ(engine_->DeliverDue(), 1);
  ASSERT_TRUE(receiver_.WaitFor(1));
  EXPECT_EQ(OnlyDelivery(t.id).status, "pending");
  EXPECT_EQ(OnlyDelivery(t.id).last_http_status, 500);
  clock_.Advance(10 * kMicrosPerSecond);
  EXPECT_EQ(engine_->DeliverDue(), 1);
  ASSERT_TRUE(receiver_.WaitFor(2));
  EXPECT_EQ(OnlyDelivery(t.id).status, "delivered");

  auto got = receiver_.requests();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/orders");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    // The receiver checks with the system clock: the engine signed with the
    // test's manual clock, so verify at that time.
    Status s = VerifyWebhookSignature(r.headers.at("rapport-signature"), kSecret, r.body, clock_.Now());
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_FALSE(VerifyWebhookSignature(r.headers.at("rapport-signature"), kSecret, r.body + " ", clock_.Now()).ok());
  }
  rapidjson::Document body;
  body.Parse(got[1].body.c_str());
  ASSERT_TRUE(body.IsObject()) << got[1].body;
  EXPECT_EQ(body["event"]["properties"]["total"].GetInt(), 1200);
  EXPECT_STREQ(body["event"]["properties"]["currency"].GetString(), "EUR");
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port = 0;
  {
    WebhookReceiver closed;  // a port that was just free
    port = closed.port();
  }
  auto client = MakeCurlHttpClient(*net::OutboundPolicy::Parse("127.0.0.1"));
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  req.body = "{}";
  req.timeout = std::chrono::milliseconds(2000);
  auto res = client->Post(req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable) << res.status().ToString();
  req.url = "file:///etc/passwd";
  EXPECT_EQ(client->Post(req).status().code(), StatusCode::kInvalidArgument);
}

// ---- SSRF: where webhooks may go ------------------------------------------------------------

TEST_F(WebhookTest, UrlsToInternalAddressesAreRefusedWhenStored) {
  WebhookReceiver internal;  // an internal service on loopback
  for (const std::string& url :
       {internal.url("/admin"), std::string("http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
        std::string("http://[fd00:ec2::254]/latest"), std::string("http://2130706433:") + std::to_string(internal.port()),
        std::string("http://[::ffff:127.0.0.1]:") + std::to_string(internal.port()),
        "http://localhost:" + std::to_string(internal.port()) + "/", std::string("http://10.0.0.8/crm"),
        std::string("http://user:pw@hooks.test/x")}) {
    for (const char* type : {"webhook", "decide"}) {
      std::string extra = std::string(type) == "decide" ? R"("decisionPoint": "p", "channel": "email", )" : "";
      std::string json = R"({"name": "leak", "event": {"type": "track"}, "action": {"type": ")" + std::string(type) +
                         R"(", )" + extra + R"("url": ")" + url + R"("}})";
      auto def = ParseTriggerDefinition(json);
      ASSERT_TRUE(def.ok()) << def.status().ToString();
      auto created = engine_->Create(*def);
      ASSERT_FALSE(created.ok()) << url;
      // decide triggers need the decision engine, which this fixture lacks:
      // the URL is checked before that, so both name the URL.
      EXPECT_EQ(created.status().code(), StatusCode::kUnprocessable) << url << " " << type;
      EXPECT_EQ(created.status().field(), "/action/url") << url << " " << created.status().ToString();
    }
  }
  // Replacing a harmless trigger with an internal URL is refused the same way.
  Trigger t = BigOrderWebhook("http://hooks.test/orders");
  auto def = ParseTriggerDefinition(R"({"name": "big order", "event": {"type": "track"},
      "action": {"type": "webhook", "url": "http://169.254.169.254/"}})");
  ASSERT_TRUE(def.ok());
  auto replaced = engine_->Replace(t.id, *def);
  EXPECT_EQ(replaced.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(replaced.status().field(), "/action/url");
  EXPECT_NE(replaced.status().message().find("169.254.169.254 is cloud metadata"), std::string::npos)
      << replaced.status().message();
  EXPECT_TRUE(internal.requests().empty());
}

TEST_F(CurlWebhookTest, AnAddressDeniedAtConnectTimeFailsTheDeliveryAndSendsNothing) {
  // Stored while the URL was allowed (an allow-list since narrowed, or a
  // name that resolved elsewhere): the client's own policy denies it now.
  Trigger t = BigOrderWebhook(receiver_.url("/orders"));
  auto strict = MakeCurlHttpClient();  // the deny list alone
  HttpRequest req;
  req.url = receiver_.url("/orders");
  req.body = "{}";
  auto res = strict->Post(req);
  EXPECT_EQ(res.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(res.status().message().find("127.0.0.1 is loopback"), std::string::npos) << res.status().message();
  req.url = "http://localhost:" + std::to_string(receiver_.port()) + "/orders";
  EXPECT_EQ(strict->Post(req).status().code(), StatusCode::kPermissionDenied);
  req.url = "http://2130706433:" + std::to_string(receiver_.port()) + "/orders";
  EXPECT_EQ(strict->Post(req).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(receiver_.requests().empty());

  // Through the engine: one attempt, failed at once, the reason in the log.
  TriggerEngineOptions o;
  o.db = db_.get();
  o.customers = store_.get();
  o.profile = profile_.get();
  o.clock = &clock_;
  o.http = strict.get();
  o.deliver_in_background = false;
  engine_.reset();
  auto reopened = TriggerEngine::Open(o);
  ASSERT_TRUE(reopened.ok());
  engine_ = std::move(*reopened);
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 1200})")});
  EXPECT_EQ(engine_->DeliverDue(), 1);
  Delivery d = OnlyDelivery(t.id);
  EXPECT_EQ(d.status, "failed");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_http_status, 0);
  ASSERT_EQ(d.log.size(), 1u);
  EXPECT_NE(d.log[0].error.find("refused by the outbound address policy: 127.0.0.1 is loopback"), std::string::npos)
      << d.log[0].error;
  EXPECT_TRUE(receiver_.requests().empty());
}

TEST(CurlHttpClientTest, RequestHeadersWithLineBreaksAreRefused) {
  WebhookReceiver receiver;
  auto client = MakeCurlHttpClient(*net::OutboundPolicy::Parse("127.0.0.1"));
  HttpRequest req;
  req.url = receiver.url("/x");
  req.headers = {{"Rapport-Delivery", "1\r\nX-Injected: 1"}};
  EXPECT_EQ(client->Post(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(receiver.requests().empty());
}

// A name the system cannot resolve, which the test's DNS answers: first a
// public address (when stored), then whatever the test sets.
class RebindingWebhookTest : public CurlWebhookTest {
 protected:
  net::Resolver Dns() override {
    return [this](const std::string& host) -> Result<std::vector<net::IpAddress>> {
      std::lock_guard<std::mutex> lock(dns_mu_);
      if (host != "hooks.test") return Status::Unavailable("cannot resolve '" + host + "'");
      return std::vector<net::IpAddress>{*net::IpAddress::Parse(answer_)};
    };
  }
  void Point(const std::string& address) {
    std::lock_guard<std::mutex> lock(dns_mu_);
    answer_ = address;
  }
  std::mutex dns_mu_;
  std::string answer_ = "93.184.216.34";
};

TEST_F(RebindingWebhookTest, TheClientConnectsToExactlyTheAddressItVetted) {
  const std::string url = "http://hooks.test:" + std::to_string(receiver_.port()) + "/orders";
  Trigger t = BigOrderWebhook(url);  // public when stored
  customer::CustomerId ada = NewCustomer();

  // The name now points at loopback, which this policy allows: libcurl was
  // pinned to the vetted address (it cannot resolve hooks.test itself), so
  // the request reaches the receiver.
  Point("127.0.0.1");
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 1200})")});
  EXPECT_EQ(engine_->DeliverDue(), 1);
  ASSERT_TRUE(receiver_.WaitFor(1));
  EXPECT_EQ(receiver_.requests()[0].headers.at("host"), "hooks.test:" + std::to_string(receiver_.port()));
  EXPECT_EQ(OnlyDelivery(t.id).status, "delivered");

  // Rebound to the metadata service: refused at connect time, nothing sent.
  Point("169.254.169.254");
  engine_->Process({Track(2, ada, "Order Completed", R"({"total": 1300})")});
  EXPECT_EQ(engine_->DeliverDue(), 1);
  auto page = engine_->Deliveries(t.id, 0, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  const Delivery& rebound = page->items[0];
  EXPECT_EQ(rebound.status, "failed");
  ASSERT_EQ(rebound.log.size(), 1u);
  EXPECT_NE(rebound.log[0].error.find("169.254.169.254 is cloud metadata"), std::string::npos) << rebound.log[0].error;
  EXPECT_EQ(receiver_.requests().size(), 1u);
}

TEST_F(CurlWebhookTest, RedirectsAreNotFollowed) {
  WebhookReceiver elsewhere;                   // allowed, but only reachable by following
  WebhookReceiver denied("127.0.0.2");         // loopback outside the allow-list
  Trigger t = BigOrderWebhook(receiver_.url("/orders"));
  customer::CustomerId ada = NewCustomer();
  receiver_.Answer(ScriptedAnswer{302, denied.url("/latest/meta-data"), ""});
  receiver_.Answer(ScriptedAnswer{307, elsewhere.url("/x"), ""});
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 1200})"),
                    Track(2, ada, "Order Completed", R"({"total": 1300})")});
  EXPECT_EQ(engine_->DeliverDue(), 2);
  ASSERT_TRUE(receiver_.WaitFor(2));
  auto page = engine_->Deliveries(t.id, 0, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  for (const Delivery& d : page->items) {
    EXPECT_EQ(d.status, "failed");  // a 3xx is an answer, and not a success
    EXPECT_TRUE(d.last_http_status == 302 || d.last_http_status == 307) << d.last_http_status;
  }
  EXPECT_TRUE(denied.requests().empty());
  EXPECT_TRUE(elsewhere.requests().empty());
}

TEST_F(CurlWebhookTest, TheDeliveryLogKeepsOnlyAShortExcerptOfTheAnswer) {
  Trigger t = BigOrderWebhook(receiver_.url("/orders"));
  customer::CustomerId ada = NewCustomer();
  std::string page;
  for (int i = 0; i < 2000; ++i) page += "\xC3\xA9";  // 4,000 bytes of "é"
  receiver_.Answer(ScriptedAnswer{200, "", page});
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 1200})")});
  EXPECT_EQ(engine_->DeliverDue(), 1);
  Delivery d = OnlyDelivery(t.id);
  ASSERT_EQ(d.log.size(), 1u);
  EXPECT_EQ(d.log[0].http_status, 200);
  EXPECT_EQ(d.log[0].response.size(), kResponseExcerptBytes);
  EXPECT_EQ(d.log[0].response, page.substr(0, kResponseExcerptBytes));  // 128 whole characters
  std::string json = DeliveryToJson(d);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject()) << json;
  EXPECT_EQ(std::string(doc["log"][0]["response"].GetString()).size(), kResponseExcerptBytes);
}

}  // namespace
}  // namespace rapport::decision
