#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "decision/decision_fixture.h"

namespace rapport::decision::testing {
namespace {

using NextBestAction = DecisionTest;

TEST_F(NextBestAction, RanksByPropensityValueAndLeverAndExplains) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  auto r = DecisionTest::Decide(north);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));
  EXPECT_EQ(r->decision_id.rfind("dec_", 0), 0u);
  EXPECT_EQ(r->model, "offers");
  EXPECT_EQ(r->model_version, 1);
  // Prior Beta(1, 9): propensity 0.1; score = 0.1 x value x lever x 1.
  EXPECT_DOUBLE_EQ(r->actions[0].propensity, 0.1);
  EXPECT_DOUBLE_EQ(r->actions[0].score, 0.1 * 100);
  ASSERT_TRUE(r->explanation);
  const auto& ex = *r->explanation;
  EXPECT_EQ(ex.model, "offers");
  ASSERT_EQ(ex.inputs.size(), 2u);
  EXPECT_EQ(ex.inputs[0].first, "region");
  EXPECT_EQ(ex.inputs[0].second.string(), "north");
  EXPECT_EQ(ex.inputs[1].second.number().ToDouble(), 150);
  ASSERT_EQ(ex.rules.tables.size(), 1u);
  EXPECT_EQ(ex.rules.tables[0].matched_rules, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ex.candidates, (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));
  std::string json = ToJson(*r);
  EXPECT_NE(json.find("\"rulesMatched\""), std::string::npos);
  EXPECT_NE(json.find("\"contextWeight\":1"), std::string::npos);

  DecideRequest limited;
  limited.customer_id = north;
  limited.channel = "web";
  limited.decision_point = "web-home";
  limited.limit = 1;
  auto one = engine_->Decide(limited);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Ids(*one), (std::vector<std::string>{"gold-card"}));
  EXPECT_FALSE(one->explanation);
}

TEST_F(NextBestAction, RequestContextFillsInputsAndConditionsFilter) {
  auto south = AddCustomer("south", 20);
  OpenEngine();
  StandardSetup();
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,"channels":["web"],
                             "eligibility":"revenue >= 100 or vip = true",
                             "suitability":"age = null or age >= 18"})");
  DecideRequest r;
  r.customer_id = south;
  r.channel = "web";
  r.decision_point = "web-home";
  r.explain = true;
  // The context overrides the profile's region and revenue for the model,
  // but eligibility reads revenue from the context too, so it needs vip.
  r.context = feel::Value::Context({{"region", feel::Value::String("north")}, {"revenue", feel::Value::Number(500)}});
  auto a = engine_->Decide(r);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->actions[0].action_id, "gold-card");
  r.context = feel::Value::Context({{"region", feel::Value::String("north")}, {"revenue", feel::Value::Number(100)}});
  a = engine_->Decide(r);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->actions[0].action_id, "gold-card");

  // The profile's revenue (20) fails eligibility when the context names
  // only the region.
  r.context = feel::Value::Context({{"region", feel::Value::String("north")}, {"vip", feel::Value::Boolean(false)}});
  auto b = engine_->Decide(r);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Ids(*b), (std::vector<std::string>{"newsletter", "service-call"}));
  // Only the model said gold-card when the context made region north; with
  // revenue 20 the table does not match rule 1, so nothing is removed.
  EXPECT_EQ(RemovalOf(*b, "gold-card"), nullptr);

  // Not on this channel.
  auto c = DecisionTest::Decide(south, "email");
  ASSERT_TRUE(c.ok());
  for (const auto& x : c->actions) EXPECT_NE(x.action_id, "gold-card");
}

TEST_F(NextBestAction, EligibilityRemovalIsExplained) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,"eligibility":"revenue > 1000"})");
  auto r = DecisionTest::Decide(north);
  ASSERT_TRUE(r.ok());
  const Removal* m = RemovalOf(*r, "gold-card");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->stage, "eligibility");
  EXPECT_EQ(m->by, "revenue > 1000");
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,"validTo":"2026-03-01T00:00:00Z"})");
  r = DecisionTest::Decide(north);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(RemovalOf(*r, "gold-card"), nullptr);
  EXPECT_EQ(RemovalOf(*r, "gold-card")->stage, "validity");
}

TEST_F(NextBestAction, ErrorsNameTheField) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  EXPECT_EQ(DecisionTest::Decide(north, "web", "nowhere").status().field(), "/decisionPoint");
  EXPECT_EQ(DecisionTest::Decide(99999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(DecisionTest::Decide(99999).status().field(), "/customerId");
  PutPoint("call-centre", R"({"model":"offers","decision":"Next Offers","channels":["call_centre"]})");
  auto wrong = DecisionTest::Decide(north, "web", "call-centre");
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(wrong.status().field(), "/channel");
}

// A stored rule cannot hold a worker: each decision runs under a step and
// memory budget, one deadline, and the request's cancellation.
TEST_F(NextBestAction, EveryDecisionRunsUnderItsBudget) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,
                             "eligibility":"count(for i in 1..100000 return i) > 0"})");
  ASSERT_TRUE(DecisionTest::Decide(north).ok());  // within the default budget

  engine_options_.limits.max_steps = 50'000;
  OpenEngine();
  auto steps = DecisionTest::Decide(north);
  ASSERT_FALSE(steps.ok());
  EXPECT_EQ(steps.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(steps.status().field(), "/decisionPoint");
  EXPECT_NE(steps.status().message().find("step limit"), std::string::npos) << steps.status().message();

  engine_options_.limits = feel::EvalLimits{};
  engine_options_.decide_time_limit = std::chrono::milliseconds(0);
  OpenEngine();
  auto late = DecisionTest::Decide(north);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(late.status().field(), "/decisionPoint");
  EXPECT_NE(late.status().message().find("time limit"), std::string::npos) << late.status().message();

  engine_options_ = EngineOptions{};
  OpenEngine();
  std::atomic<bool> gone{true};
  DecideRequest r;
  r.customer_id = north;
  r.channel = "web";
  r.decision_point = "web-home";
  r.cancelled = &gone;
  auto cancelled = engine_->Decide(r);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(cancelled.status().message().find("cancelled"), std::string::npos) << cancelled.status().message();
  gone = false;
  EXPECT_TRUE(engine_->Decide(r).ok());
}

TEST_F(NextBestAction, WeightsAndContextWeightFromTheModel) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  PutAction("a", R"({"kind":"offer","name":"A","value":10})");
  PutAction("b", R"({"kind":"offer","name":"B","value":10,"businessLever":3})");
  // A table whose outputs carry a weight per action.
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:w" name="weighted" id="w">
  <decision id="d" name="Pick">
    <decisionTable hitPolicy="COLLECT">
      <output name="action" typeRef="string"/><output name="weight" typeRef="number"/>
      <rule id="r1"><outputEntry><text>"a"</text></outputEntry><outputEntry><text>5</text></outputEntry></rule>
      <rule id="r2"><outputEntry><text>"b"</text></outputEntry><outputEntry><text>1</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>)";
  ASSERT_EQ(PublishModel(xml), 1);
  PutPoint("p", R"({"model":"weighted","decision":"Pick"})");
  auto r = DecisionTest::Decide(north, "web", "p");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"a", "b"}));  // 5 > 3
  EXPECT_DOUBLE_EQ(r->actions[0].context_weight, 5);
  // Leaving the context weight out of arbitration: the lever wins.
  PutPoint("p", R"({"model":"weighted","decision":"Pick","weights":{"contextWeight":0}})");
  r = DecisionTest::Decide(north, "web", "p");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"b", "a"}));
}

TEST_F(NextBestAction, PublishingNeverTearsADecision) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  // v1 answers gold-card first for this customer; v2 answers only newsletter.
  std::string v1 = OffersModel({{"\"north\"", ">= 100", "gold-card", "r1"}, {"-", "-", "newsletter", "r2"},
                                {"-", "-", "service-call", "r3"}});
  std::string v2 = OffersModel({{"-", "-", "newsletter", "r2"}});
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, done{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto r = DecisionTest::Decide(north, "web", "web-home", false);
        if (!r.ok()) {
          ++bad;
          continue;
        }
        auto ids = Ids(*r);
        bool is_v1 = r->model_version % 2 == 1 &&
                     ids == std::vector<std::string>{"gold-card", "newsletter", "service-call"};
        bool is_v2 = r->model_version % 2 == 0 && ids == std::vector<std::string>{"newsletter"};
        if (!is_v1 && !is_v2) ++bad;
        ++done;
      }
    });
  }
  // Readers decide before the first publish and between every two, so each
  // version is read while the next one is being published.
  auto decisions_made = [&](int n) {
    int target = done.load() + bad.load() + n;
    while (done.load() + bad.load() < target) std::this_thread::yield();
  };
  decisions_made(2);
  for (int i = 0; i < 6; ++i) {
    PublishModel(i % 2 == 0 ? v2 : v1);
    decisions_made(2);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(done.load(), 0);
}

TEST_F(NextBestAction, FactsAreVisibleToConditionsAndPolicies) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  engine_->RegisterFact("complaints30d", [north](CustomerId id) { return feel::Value::Number(id == north ? 1 : 0); });
  PutPolicy("after-complaint", R"({"kind":"suppression","condition":"complaints30d > 0","purposes":["marketing"]})");
  auto other = AddCustomer("north", 0);
  ASSERT_TRUE(profile_->Apply(other).ok());
  auto r = DecisionTest::Decide(north);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"service-call"}));
  ASSERT_NE(RemovalOf(*r, "gold-card"), nullptr);
  EXPECT_EQ(RemovalOf(*r, "gold-card")->by, "after-complaint");
  EXPECT_EQ(RemovalOf(*r, "gold-card")->stage, "suppression");
  auto s = DecisionTest::Decide(other);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Ids(*s), (std::vector<std::string>{"newsletter", "service-call"}));
}

TEST_F(NextBestAction, DecisionsAreLoggedAndShownInThe360View) {
  auto north = AddCustomer("north", 150);
  OpenEngine();
  StandardSetup();
  RegisterViewSections(*store_, engine_);
  auto r = DecisionTest::Decide(north);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(engine_->FlushLog().ok());
  auto recent = engine_->RecentDecisions(north, 10);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].decision_id, r->decision_id);
  EXPECT_EQ((*recent)[0].actions, Ids(*r));
  auto view = store_->View(north);
  ASSERT_TRUE(view.ok());
  std::map<std::string, std::string> sections(view->sections.begin(), view->sections.end());
  ASSERT_TRUE(sections.count("nextBestActions"));
  EXPECT_NE(sections["nextBestActions"].find("gold-card"), std::string::npos);
  EXPECT_EQ(sections["nextBestActions"].find("decisionId"), std::string::npos);  // a preview is not logged
  EXPECT_NE(sections["recentDecisions"].find(r->decision_id), std::string::npos);
  // The preview did not add a log entry.
  EXPECT_EQ(engine_->RecentDecisions(north, 10)->size(), 1u);
}

}  // namespace
}  // namespace rapport::decision::testing
