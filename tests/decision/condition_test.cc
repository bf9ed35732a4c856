// Action conditions given as decisions of published DMN models: they pass
// only on true, follow publishes and rollbacks of the model, and are
// validated when the action is put and when the model is published.

#include <gtest/gtest.h>

#include "decision/decision_fixture.h"

namespace rapport::decision::testing {
namespace {

// A model "gate" with inputs revenue (a profile column) and complaints (a
// registered fact): decision `decision` is "revenue >= threshold and
// complaints = 0"; "Label" is the string "yes" (not a boolean).
std::string GateModel(int threshold, const std::string& decision = "Gold Eligible") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:rapport:test:gate" name="gate" id="d_gate">
  <inputData id="in_revenue" name="revenue"><variable name="revenue" typeRef="number"/></inputData>
  <inputData id="in_complaints" name="complaints"><variable name="complaints" typeRef="number"/></inputData>
  <decision id="ok" name=")" + decision + R"(">
    <informationRequirement><requiredInput href="#in_revenue"/></informationRequirement>
    <informationRequirement><requiredInput href="#in_complaints"/></informationRequirement>
    <literalExpression><text>revenue >= )" + std::to_string(threshold) + R"( and complaints = 0</text></literalExpression>
  </decision>
  <decision id="label" name="Label"><literalExpression><text>"yes"</text></literalExpression></decision>
</definitions>
)";
}

class DmnCondition : public DecisionTest {
 protected:
  void Prepare() {
    north_ = AddCustomer("north", 150);
    OpenEngine();
    StandardSetup();
    engine_->RegisterFact("complaints", [this](CustomerId id) { return feel::Value::Number(id == complained_ ? 2 : 0); });
    ASSERT_EQ(PublishModel(GateModel(120)), 1);
  }

  Status Put(const std::string& id, const std::string& body) {
    auto a = ParseAction(body, id);
    if (!a.ok()) return a.status();
    return engine_->PutAction(*a).status();
  }

  CustomerId north_ = 0;
  CustomerId complained_ = -1;
};

TEST_F(DmnCondition, PassesOnTrueAndRemovesOtherwise) {
  Prepare();
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,
                             "eligibility":{"model":"gate","decision":"Gold Eligible"}})");
  auto r = Decide(north_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"gold-card", "newsletter", "service-call"}));

  // The fact fills the model's input `complaints` by name.
  complained_ = north_;
  r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"newsletter", "service-call"}));
  const Removal* m = RemovalOf(*r, "gold-card");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->stage, "eligibility");
  EXPECT_EQ(m->by, "gate:Gold Eligible v1");
  complained_ = -1;

  // The request context overrides the profile's revenue, as for FEEL.
  DecideRequest q;
  q.customer_id = north_;
  q.channel = "web";
  q.decision_point = "web-home";
  q.explain = true;
  q.limit = 10;
  q.context = feel::Value::Context({{"revenue", feel::Value::Number(110)}});
  auto c = engine_->Decide(q);
  ASSERT_TRUE(c.ok());
  ASSERT_NE(RemovalOf(*c, "gold-card"), nullptr);  // 110 < 120 for the gate (the model's rule 1 still holds)

  // A decision whose value is not a boolean removes the action.
  PutAction("newsletter", R"({"kind":"message","name":"Newsletter","value":10,
                              "applicability":{"model":"gate","decision":"Label"}})");
  r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"gold-card", "service-call"}));
  ASSERT_NE(RemovalOf(*r, "newsletter"), nullptr);
  EXPECT_EQ(RemovalOf(*r, "newsletter")->stage, "applicability");
  EXPECT_EQ(RemovalOf(*r, "newsletter")->by, "gate:Label v1");
}

TEST_F(DmnCondition, FollowsPublishAndRollback) {
  Prepare();
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,
                             "suitability":{"model":"gate","decision":"Gold Eligible"}})");
  auto r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->actions[0].action_id, "gold-card");

  ASSERT_EQ(PublishModel(GateModel(200)), 2);
  r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Ids(*r), (std::vector<std::string>{"newsletter", "service-call"}));
  ASSERT_NE(RemovalOf(*r, "gold-card"), nullptr);
  EXPECT_EQ(RemovalOf(*r, "gold-card")->stage, "suitability");
  EXPECT_EQ(RemovalOf(*r, "gold-card")->by, "gate:Gold Eligible v2");

  ASSERT_TRUE(engine_->Rollback("gate", 1, reviewer_).ok());
  r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->actions[0].action_id, "gold-card");

  // The condition survives a restart (stored as JSON, read back); facts are
  // registered again by whoever opens the engine (without, complaints is
  // null and the gate is not true).
  OpenEngine();
  r = Decide(north_);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(RemovalOf(*r, "gold-card"), nullptr);
  EXPECT_EQ(RemovalOf(*r, "gold-card")->by, "gate:Gold Eligible v1");
  engine_->RegisterFact("complaints", [](CustomerId) { return feel::Value::Number(0); });
  auto a = engine_->GetAction("gold-card");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->suitability.model, "gate");
  EXPECT_EQ(a->suitability.decision, "Gold Eligible");
  EXPECT_TRUE(a->eligibility.empty());
  EXPECT_NE(ToJson(*a).find(R"("suitability":{"model":"gate","decision":"Gold Eligible"})"), std::string::npos);
  r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->actions[0].action_id, "gold-card");
}

TEST_F(DmnCondition, ValidatedAtPutAndAtPublish) {
  Prepare();
  // The JSON form.
  EXPECT_EQ(ParseAction(R"({"kind":"offer","name":"x","eligibility":42})", "x").status().field(), "/eligibility");
  EXPECT_EQ(ParseAction(R"({"kind":"offer","name":"x","eligibility":{"model":"gate"}})", "x").status().field(),
            "/eligibility/decision");
  EXPECT_EQ(ParseAction(R"({"kind":"offer","name":"x","applicability":{"decision":"d"}})", "x").status().field(),
            "/applicability/model");
  EXPECT_EQ(
      ParseAction(R"({"kind":"offer","name":"x","suitability":{"model":"gate","decision":"d","vesion":2}})", "x")
          .status()
          .field(),
      "/suitability/vesion");
  EXPECT_EQ(ParseAction(R"({"kind":"offer","name":"x","eligibility":{"model":"","decision":"d"}})", "x")
                .status()
                .field(),
            "/eligibility/model");

  // Against the repository.
  Status s = Put("x", R"({"kind":"offer","name":"x","eligibility":{"model":"nope","decision":"Gold Eligible"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable);
  EXPECT_EQ(s.field(), "/eligibility/model");
  s = Put("x", R"({"kind":"offer","name":"x","suitability":{"model":"gate","decision":"Platinum"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable);
  EXPECT_EQ(s.field(), "/suitability/decision");
  EXPECT_EQ(engine_->GetAction("x").status().code(), StatusCode::kNotFound);
  // A model that is uploaded but not published does not count.
  auto draft = engine_->UploadModel(GateModel(1, "Draft Only"), author_);
  ASSERT_TRUE(draft.ok());
  s = Put("x", R"({"kind":"offer","name":"x","applicability":{"model":"gate","decision":"Draft Only"}})");
  EXPECT_EQ(s.field(), "/applicability/decision");

  // A new version without the decision an action uses is refused.
  ASSERT_TRUE(Put("gold-card", R"({"kind":"offer","name":"Gold card","value":100,
                                   "eligibility":{"model":"gate","decision":"Gold Eligible"}})")
                  .ok());
  ASSERT_TRUE(engine_->Submit("gate", draft->version, author_).ok());
  ASSERT_TRUE(engine_->Approve("gate", draft->version, reviewer_).ok());
  auto pub = engine_->Publish("gate", draft->version, reviewer_);
  EXPECT_EQ(pub.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(pub.status().field(), "/actions/gold-card/eligibility");
  auto r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->actions[0].action_id, "gold-card");  // still version 1
}

TEST_F(DmnCondition, RollbackToAVersionWithoutTheDecisionIsRefused) {
  Prepare();
  ASSERT_EQ(PublishModel(GateModel(120, "Renamed")), 2);
  PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,
                             "suitability":{"model":"gate","decision":"Renamed"}})");
  auto back = engine_->Rollback("gate", 1, reviewer_);
  EXPECT_EQ(back.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(back.status().field(), "/actions/gold-card/suitability");
  auto r = Decide(north_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->actions[0].action_id, "gold-card");
  EXPECT_EQ(engine_->GetVersion("gate", 2)->state, VersionState::kPublished);
}

}  // namespace
}  // namespace rapport::decision::testing
