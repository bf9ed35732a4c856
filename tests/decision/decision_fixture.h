#pragma once
// A decision engine over a real SQLite database, customer store and
// profile store, with a manual clock, and the DMN models the tests publish.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "decision/decision.h"
#include "profile/profile.h"
#include "testing/temp_store.h"

namespace rapport::decision::testing {

// A model "offers" with inputs region (string) and revenue (number) and a
// COLLECT decision "Next Offers" naming action ids. `rules` are
// (region test, revenue test, action id, rule id) rows.
struct RuleRow {
  std::string region, revenue, action, id;
};

inline std::string OffersModel(const std::vector<RuleRow>& rules, const std::string& name = "offers") {
  std::string x = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:rapport:test:)" + name +
                  R"(" name=")" + name + R"(" id="d_)" + name + R"(">
  <inputData id="in_region" name="region"><variable name="region" typeRef="string"/></inputData>
  <inputData id="in_revenue" name="revenue"><variable name="revenue" typeRef="number"/></inputData>
  <decision id="next" name="Next Offers">
    <informationRequirement><requiredInput href="#in_region"/></informationRequirement>
    <informationRequirement><requiredInput href="#in_revenue"/></informationRequirement>
    <decisionTable id="t_next" hitPolicy="COLLECT">
      <input label="region"><inputExpression typeRef="string"><text>region</text></inputExpression></input>
      <input label="revenue"><inputExpression typeRef="number"><text>revenue</text></inputExpression></input>
      <output name="action" typeRef="string"/>
)";
  for (const auto& r : rules) {
    x += "      <rule id=\"" + r.id + "\"><inputEntry><text>" + r.region + "</text></inputEntry><inputEntry><text>" +
         r.revenue + "</text></inputEntry><outputEntry><text>\"" + r.action + "\"</text></outputEntry></rule>\n";
  }
  x += "    </decisionTable>\n  </decision>\n</definitions>\n";
  return x;
}

// 2026-03-02T12:00:00Z, a Monday.
inline constexpr int64_t kNoonUtc = 1772452800LL * 1'000'000;

class DecisionTest : public rapport::testing::TempStoreTest {
 protected:
  DecisionTest() : TempStoreTest(Timestamp{kNoonUtc}) {}

  void SetUp() override {
    TempStoreTest::SetUp();
    ASSERT_TRUE(store_->DefineAttribute({"timeZone", customer::AttributeType::kString, false, "IANA zone"}).ok());
  }

  void TearDown() override {
    engine_.reset();
    profile_.reset();
    TempStoreTest::TearDown();
  }

  customer::CustomerId AddCustomer(const std::string& region, double revenue, const std::string& zone = "") {
    customer::NewCustomer c;
    c.attributes["region"] = region;
    if (!zone.empty()) c.attributes["timeZone"] = zone;
    auto made = store_->Create(c);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (revenue > 0) {
      customer::Transaction t;
      t.customer_id = made->id;
      t.source = "test";
      t.occurred_at = Timestamp{kNoonUtc - kMicrosPerDay};
      t.amount = *Money::FromDouble(revenue);
      t.channel = "web";
      EXPECT_TRUE(store_->AddTransaction(t).ok());
    }
    return made->id;
  }

  // Builds the profile store over what the test wrote, then the engine.
  void OpenEngine() {
    engine_.reset();
    profile::ProfileOptions po = profile::DefaultProfileOptions(clock_.Now());
    po.attributes.push_back({"timeZone", "", profile::ColumnType::kString});
    if (!profile_) {
      auto p = profile::ProfileStore::Open(db_.get(), po);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      profile_ = std::move(*p);
    }
    EngineOptions eo = engine_options_;
    eo.clock = &clock_;
    eo.log_interval_micros = 1000;
    auto e = DecisionEngine::Open(db_.get(), profile_.get(), store_.get(), eo);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }

  void PutAction(const std::string& id, const std::string& body) {
    auto a = ParseAction(body, id);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto put = engine_->PutAction(*a);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  void PutPolicy(const std::string& name, const std::string& body) {
    auto p = ParseContactPolicy(body, name);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto put = engine_->PutPolicy(*p);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  // Upload, submit, approve (by another key), publish; returns the version.
  int PublishModel(const std::string& xml) {
    auto up = engine_->UploadModel(xml, author_);
    EXPECT_TRUE(up.ok()) << up.status().ToString();
    if (!up.ok()) return 0;
    EXPECT_TRUE(engine_->Submit(up->name, up->version, author_).ok());
    EXPECT_TRUE(engine_->Approve(up->name, up->version, reviewer_).ok());
    auto pub = engine_->Publish(up->name, up->version, reviewer_);
    EXPECT_TRUE(pub.ok()) << pub.status().ToString();
    return up->version;
  }

  void PutPoint(const std::string& name, const std::string& body) {
    auto p = ParseDecisionPoint(body, name);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto put = engine_->PutDecisionPoint(*p);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  // The standard catalog: two marketing offers (email and web) and a
  // service message, and a model and decision point "web-home" over them.
  void StandardSetup() {
    PutAction("gold-card", R"({"kind":"offer","name":"Gold card","value":100,"businessLever":1})");
    PutAction("newsletter", R"({"kind":"message","name":"Newsletter","value":10})");
    PutAction("service-call", R"({"kind":"service","name":"Service call","purpose":"service","value":5})");
    PublishModel(OffersModel({{"\"north\"", ">= 100", "gold-card", "r1"},
                              {"-", "-", "newsletter", "r2"},
                              {"-", "-", "service-call", "r3"}}));
    PutPoint("web-home", R"({"model":"offers","decision":"Next Offers","showIn360":true})");
  }

  Result<DecideResult> Decide(customer::CustomerId id, const std::string& channel = "web",
                              const std::string& point = "web-home", bool explain = true) {
    DecideRequest r;
    r.customer_id = id;
    r.channel = channel;
    r.decision_point = point;
    r.explain = explain;
    r.limit = 10;
    return engine_->Decide(r);
  }

  static std::vector<std::string> Ids(const DecideResult& r) {
    std::vector<std::string> out;
    for (const auto& a : r.actions) out.push_back(a.action_id);
    return out;
  }

  static const Removal* RemovalOf(const DecideResult& r, const std::string& action) {
    for (const auto& m : r.explanation->removed) {
      if (m.action_id == action) return &m;
    }
    return nullptr;
  }

  EngineOptions engine_options_;  // OpenEngine sets the clock and log interval
  Actor author_{"rpk_author", false};
  Actor reviewer_{"rpk_reviewer", false};
  std::unique_ptr<profile::ProfileStore> profile_;
  std::shared_ptr<DecisionEngine> engine_;
};

}  // namespace rapport::decision::testing
