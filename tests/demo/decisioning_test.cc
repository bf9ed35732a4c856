// The demo company's rules and its end date: what `rapport demo` serves so
// the documented revenue90d, lastPurchase and decide examples find people.
#include <set>

#include <gtest/gtest.h>

#include "decision/decision.h"
#include "demo/demo.h"
#include "profile/profile.h"
#include "testing/temp_store.h"

namespace rapport::demo {
namespace {

// A pinned end date, as every demo test has: the same data on any day.
const Timestamp kEnd{DaysFromCivil(2026, 12, 1) * kMicrosPerDay};

class DemoRulesTest : public testing::TempStoreTest {
 protected:
  DemoRulesTest() : TempStoreTest(kEnd) {}

  void Generate() {
    DemoOptions o;
    o.customers = 300;
    o.end = kEnd;
    auto stats = GenerateIntoStore(*store_, o);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    auto profile = profile::ProfileStore::Open(db_.get(), profile::DefaultProfileOptions(kEnd));
    ASSERT_TRUE(profile.ok()) << profile.status().ToString();
    profile_ = std::move(*profile);
    decision::EngineOptions eo;
    eo.clock = &clock_;
    auto engine = decision::DecisionEngine::Open(db_.get(), profile_.get(), store_.get(), eo);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  void TearDown() override {
    engine_.reset();
    profile_.reset();
    TempStoreTest::TearDown();
  }

  std::unique_ptr<profile::ProfileStore> profile_;
  std::unique_ptr<decision::DecisionEngine> engine_;
};

TEST_F(DemoRulesTest, HistoryEndsAtTheEndDateSoRollingWindowsFindPeople) {
  Generate();
  // The windows of the documented examples, at the demo's own today.
  EXPECT_GT(*profile_->Count("revenue90d > 300 and region = \"Nord\""), 0);
  EXPECT_GT(*profile_->Count("lastPurchase >= today() - duration(\"P90D\") and onlineOrders90d > 0"), 0);
  EXPECT_EQ(*profile_->Count("lastPurchase >= date(\"2026-12-01\")"), 0) << "nothing lies after the end date";
  EXPECT_EQ(*profile_->Count("region = \"North\""), 0) << "the demo's regions are Nord, Süd, Ost and West";
}

TEST_F(DemoRulesTest, PublishesItsModelOnceThroughTheFourEyesLifecycle) {
  Generate();
  auto installed = InstallDecisioning(*engine_);
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  EXPECT_TRUE(*installed);
  auto again = InstallDecisioning(*engine_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "a second run leaves the rules alone";

  auto versions = engine_->Versions(kOffersModel);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  const auto& v = versions->front();
  EXPECT_EQ(v.state, decision::VersionState::kPublished);
  EXPECT_EQ(v.xml, kOffersDmn);
  std::vector<std::string> steps;
  for (const auto& a : v.audit) steps.push_back(a.action + " by " + a.actor);
  EXPECT_EQ(steps, (std::vector<std::string>{"uploaded by demo", "submitted by demo", "approved by demo",
                                             "published by demo"}));
  EXPECT_EQ(engine_->ListActions().size(), 6u);
  EXPECT_EQ(engine_->ListDecisionPoints().size(), 2u);
  EXPECT_EQ(engine_->ListPolicies().size(), 2u);
}

TEST_F(DemoRulesTest, TheDocumentedDecisionExplainsItself) {
  Generate();
  ASSERT_TRUE(InstallDecisioning(*engine_).ok());
  decision::DecideRequest r;
  r.customer_id = 42;  // docs/api.md's customer
  r.channel = "web";
  r.decision_point = "web-home";
  r.explain = true;
  auto web = engine_->Decide(r);
  ASSERT_TRUE(web.ok()) << web.status().ToString();
  ASSERT_FALSE(web->actions.empty());
  ASSERT_TRUE(web->explanation.has_value());
  EXPECT_FALSE(web->explanation->candidates.empty());
  bool newsletter = false;
  for (const auto& a : web->actions) newsletter = newsletter || a.action_id == "newsletter";
  EXPECT_TRUE(newsletter) << "docs/api.md records a response to it";

  // Over all customers, every action of the model is offered to someone.
  std::set<std::string> offered;
  for (customer::CustomerId id = 1; id <= 300; ++id) {
    r.customer_id = id;
    r.explain = false;
    r.record = false;
    auto d = engine_->Decide(r);
    ASSERT_TRUE(d.ok()) << id << ": " << d.status().ToString();
    for (const auto& a : d->actions) offered.insert(a.action_id);
  }
  for (const char* id : {"gold-card", "welcome-voucher", "home-inspiration", "account-review", "newsletter"}) {
    EXPECT_TRUE(offered.count(id)) << id << " is offered to nobody on the web";
  }
}

}  // namespace
}  // namespace rapport::demo
