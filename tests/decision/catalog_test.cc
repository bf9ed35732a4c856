#include <gtest/gtest.h>

#include "decision/decision.h"

namespace rapport::decision {
namespace {

TEST(CatalogTest, ActionRoundTrips) {
  auto a = ParseAction(R"({"kind":"offer","name":"Gold","channels":["web","email"],"purpose":"marketing",
      "value":100,"cost":2.5,"businessLever":1.5,"validFrom":"2026-01-01T00:00:00Z","validTo":"2027-01-01",
      "eligibility":"revenue > 10"})",
                       "gold");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->channels, (std::vector<std::string>{"web", "email"}));
  EXPECT_EQ(a->cost, 2.5);
  auto again = ParseAction(ToJson(*a), "gold");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ToJson(*again), ToJson(*a));
}

struct BadInput {
  const char* json;
  const char* field;
  const char* message_part;
};

TEST(CatalogTest, ActionErrorsNameTheMember) {
  for (const BadInput& c : std::vector<BadInput>{
           {R"({"name":"x"})", "/kind", ""},
           {R"({"kind":"coupon","name":"x"})", "/kind", "coupon"},
           {R"({"kind":"offer","name":"x","value":-1})", "/value", ">= 0"},
           {R"({"kind":"offer","name":"x","eligibility":"revenue >"})", "/eligibility", "position"},
           {R"({"kind":"offer","name":"x","validFrom":"2026-02-01","validTo":"2026-01-01"})", "/validTo", ""},
           {R"({"kind":"offer","name":"x","colour":"red"})", "/colour", "unknown"},
           {R"({"kind":"offer","name":"x","channels":[""]})", "/channels/0", ""},
           {R"({"kind":"offer","name":"x","id":"other"})", "/id", ""},
       }) {
    auto a = ParseAction(c.json, "x");
    ASSERT_FALSE(a.ok()) << c.json;
    EXPECT_EQ(a.status().field(), c.field) << c.json << " " << a.status().ToString();
    EXPECT_NE(a.status().message().find(c.message_part), std::string::npos) << a.status().ToString();
  }
  EXPECT_EQ(ParseAction(R"({"kind":"offer","name":"x"})", "a b").status().field(), "id");
}

TEST(CatalogTest, PolicyKindsAndErrors) {
  auto cap = ParseContactPolicy(R"({"kind":"frequencyCap","scope":"household","max":4,"windowDays":30})", "c");
  ASSERT_TRUE(cap.ok()) << cap.status().ToString();
  EXPECT_EQ(cap->window_micros, 30 * kMicrosPerDay);
  EXPECT_EQ(ParseContactPolicy(ToJson(*cap), "c").ok(), true);
  auto quiet = ParseContactPolicy(R"({"kind":"quietHours","start":"21:30","end":"07:00"})", "q");
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(quiet->start_minute, 21 * 60 + 30);
  EXPECT_NE(ToJson(*quiet).find("\"start\":\"21:30\""), std::string::npos);
  for (const BadInput& c : std::vector<BadInput>{
           {R"({"kind":"cap"})", "/kind", "frequencyCap"},
           {R"({"kind":"frequencyCap","max":2})", "/windowDays", ""},
           {R"({"kind":"frequencyCap","max":2,"windowDays":7,"windowHours":1})", "/windowDays", ""},
           {R"({"kind":"frequencyCap","max":2,"windowDays":7,"scope":"street"})", "/scope", ""},
           {R"({"kind":"quietHours","start":"25:00","end":"07:00"})", "/start", "HH:MM"},
           {R"({"kind":"quietHours","start":"21:00","end":"07:00","defaultTimeZone":"Mars/Olympus"})", "/defaultTimeZone", "IANA"},
           {R"({"kind":"suppression","condition":"complaints30d >"})", "/condition", "position"},
           {R"({"kind":"controlGroup","percent":101})", "/percent", ""},
           {R"({"kind":"consent","percent":5})", "/percent", "unknown"},
       }) {
    auto p = ParseContactPolicy(c.json, "p");
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().field(), c.field) << c.json << " " << p.status().ToString();
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos) << p.status().ToString();
  }
}

TEST(CatalogTest, DecisionPointWeights) {
  auto p = ParseDecisionPoint(R"({"model":"m","decision":"d","channels":["web"],"weights":{"value":0.5}})", "home");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->value_weight, 0.5);
  EXPECT_EQ(p->lever_weight, 1);
  EXPECT_EQ(ParseDecisionPoint(R"({"model":"m","decision":"d","weights":{"value":-1}})", "h").status().field(),
            "/weights/value");
  EXPECT_EQ(ParseDecisionPoint(R"({"model":"m"})", "h").status().field(), "/decision");
  EXPECT_TRUE(ParseDecisionPoint(ToJson(*p), "home").ok());
}

}  // namespace
}  // namespace rapport::decision
