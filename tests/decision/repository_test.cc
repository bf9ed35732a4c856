#include <gtest/gtest.h>

#include "decision/decision_fixture.h"
#include "decision/internal/model_text.h"

namespace rapport::decision::testing {
namespace {

using Repository = DecisionTest;

const std::vector<RuleRow> kV1 = {{"\"north\"", ">= 100", "gold-card", "r1"},
                                  {"-", "-", "newsletter", "r2"},
                                  {"-", "-", "service-call", "r3"}};

TEST_F(Repository, LifecycleIsRecordedAndFourEyesHold) {
  OpenEngine();
  StandardSetup();  // offers v1 published
  auto up = engine_->UploadModel(OffersModel({{"\"north\"", ">= 50", "gold-card", "r1"}}), author_);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->version, 2);
  EXPECT_EQ(up->state, VersionState::kDraft);
  // Not yet approved: cannot publish; not in review: cannot approve.
  EXPECT_EQ(engine_->Publish("offers", 2, reviewer_).status().code(), StatusCode::kConflict);
  EXPECT_EQ(engine_->Approve("offers", 2, reviewer_).status().code(), StatusCode::kConflict);
  ASSERT_TRUE(engine_->Submit("offers", 2, author_, "lower the threshold").ok());
  // The author may not approve their own version; an admin may.
  EXPECT_EQ(engine_->Approve("offers", 2, author_).status().code(), StatusCode::kPermissionDenied);
  auto rejected = engine_->Reject("offers", 2, reviewer_, "too generous");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->state, VersionState::kDraft);
  ASSERT_TRUE(engine_->Submit("offers", 2, author_).ok());
  Actor admin_author{author_.key, true};
  ASSERT_TRUE(engine_->Approve("offers", 2, admin_author).ok());
  clock_.Advance(kMicrosPerSecond);
  auto pub = engine_->Publish("offers", 2, reviewer_);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->state, VersionState::kPublished);
  std::vector<std::string> steps;
  for (const auto& e : pub->audit) steps.push_back(e.action + " by " + e.actor);
  EXPECT_EQ(steps, (std::vector<std::string>{"uploaded by rpk_author", "submitted by rpk_author",
                                             "rejected by rpk_reviewer", "submitted by rpk_author",
                                             "approved by rpk_author", "published by rpk_reviewer"}));
  EXPECT_EQ(pub->audit[1].comment, "lower the threshold");
  auto v1 = engine_->GetVersion("offers", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->state, VersionState::kSuperseded);
  EXPECT_EQ(v1->audit.back().action, "superseded");

  auto models = engine_->ListModels();
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->size(), 1u);
  EXPECT_EQ((*models)[0].latest_version, 2);
  EXPECT_EQ((*models)[0].published_version, 2);
}

TEST_F(Repository, RollbackRestoresAnEarlierPublishedVersionWithoutRestart) {
  AddCustomer("north", 70);
  OpenEngine();
  StandardSetup();
  auto c = store_->Search({});
  customer::CustomerId id = c->items[0].id;
  auto before = Decide(id);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(Ids(*before), (std::vector<std::string>{"newsletter", "service-call"}));  // revenue 70 < 100

  int v2 = PublishModel(OffersModel({{"\"north\"", ">= 50", "gold-card", "r1"}, {"-", "-", "newsletter", "r2"}}));
  ASSERT_EQ(v2, 2);
  auto after = Decide(id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->model_version, 2);
  EXPECT_EQ(Ids(*after), (std::vector<std::string>{"gold-card", "newsletter"}));

  // A draft or the live version cannot be rolled back to.
  EXPECT_EQ(engine_->Rollback("offers", 2, reviewer_).status().code(), StatusCode::kConflict);
  auto rolled = engine_->Rollback("offers", 1, reviewer_);
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(rolled->state, VersionState::kPublished);
  EXPECT_EQ(rolled->audit.back().action, "rolled_back");
  auto back = Decide(id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->model_version, 1);
  EXPECT_EQ(Ids(*back), (std::vector<std::string>{"newsletter", "service-call"}));

  // The live version survives a restart.
  OpenEngine();
  auto reopened = Decide(id);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->model_version, 1);
}

TEST_F(Repository, PublishRefusesUnknownActionsAndUnboundDecisions) {
  OpenEngine();
  PutAction("newsletter", R"({"kind":"message","name":"Newsletter"})");
  auto up = engine_->UploadModel(OffersModel({{"-", "-", "newsletter", "r1"}, {"-", "-", "mystery-box", "r2"},
                                              {"-", "-", "free-lunch", "r3"}}),
                                 author_);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(engine_->Submit("offers", 1, author_).ok());
  ASSERT_TRUE(engine_->Approve("offers", 1, reviewer_).ok());
  auto pub = engine_->Publish("offers", 1, reviewer_);
  ASSERT_EQ(pub.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(pub.status().message().find("free-lunch, mystery-box"), std::string::npos) << pub.status().message();
  EXPECT_EQ(engine_->GetVersion("offers", 1)->state, VersionState::kApproved);  // nothing changed

  // A decision point cannot bind an unpublished model or a missing decision.
  auto p = ParseDecisionPoint(R"({"model":"offers","decision":"Next Offers"})", "web-home");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(engine_->PutDecisionPoint(*p).status().code(), StatusCode::kUnprocessable);
}

TEST_F(Repository, NewVersionMustKeepTheDecisionsItsPointsUse) {
  OpenEngine();
  StandardSetup();
  std::string renamed = OffersModel(kV1);
  renamed.replace(renamed.find("name=\"Next Offers\""), 18, "name=\"Other\"");
  auto up = engine_->UploadModel(renamed, author_);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(engine_->Submit("offers", 2, author_).ok());
  ASSERT_TRUE(engine_->Approve("offers", 2, reviewer_).ok());
  auto pub = engine_->Publish("offers", 2, reviewer_);
  ASSERT_EQ(pub.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(pub.status().message().find("web-home"), std::string::npos);
}

TEST_F(Repository, UploadRefusesModelsThatDoNotLoad) {
  OpenEngine();
  auto bad = engine_->UploadModel("<definitions", author_);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnprocessable);
  std::string broken = OffersModel({{"-", ">= >=", "x", "r1"}});
  auto feel_error = engine_->UploadModel(broken, author_);
  EXPECT_EQ(feel_error.status().code(), StatusCode::kUnprocessable);
  EXPECT_TRUE(engine_->ListModels()->empty());
}

TEST_F(Repository, DiffListsRulesAddedRemovedAndChanged) {
  OpenEngine();
  ASSERT_TRUE(engine_->UploadModel(OffersModel(kV1), author_).ok());
  ASSERT_TRUE(engine_->UploadModel(OffersModel({{"\"north\"", ">= 50", "gold-card", "r1"},
                                                {"-", "-", "service-call", "r3"},
                                                {"\"south\"", "-", "sun-hat", "r4"}}),
                                   author_)
                  .ok());
  auto d = engine_->Diff("offers", 2, 1);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->rules.size(), 3u);
  EXPECT_EQ(d->rules[0].kind, RuleChange::Kind::kChanged);
  EXPECT_EQ(d->rules[0].rule_id, "r1");
  EXPECT_EQ(d->rules[0].before, (std::vector<std::string>{"\"north\"", ">= 100", "\"gold-card\""}));
  EXPECT_EQ(d->rules[0].after, (std::vector<std::string>{"\"north\"", ">= 50", "\"gold-card\""}));
  EXPECT_EQ(d->rules[1].kind, RuleChange::Kind::kRemoved);
  EXPECT_EQ(d->rules[1].rule_id, "r2");
  EXPECT_EQ(d->rules[2].kind, RuleChange::Kind::kAdded);
  EXPECT_EQ(d->rules[2].rule_id, "r4");
  EXPECT_EQ(d->rules[2].to_rule, 3);
  ASSERT_FALSE(d->text.empty());
  EXPECT_EQ(d->text[0].rfind("@@ line", 0), 0u);
  EXPECT_EQ(engine_->Diff("offers", 2, 7).status().field(), "against");
  auto same = engine_->Diff("offers", 1, 1);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->rules.empty());
  EXPECT_TRUE(same->text.empty());
}

TEST(LineDiffTest, ShowsRemovedAndAddedLinesWithTheirPlace) {
  auto d = internal::LineDiff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
  EXPECT_EQ(d, (std::vector<std::string>{"@@ line 2", "- b", "+ B", "@@ line 5", "+ e"}));
  EXPECT_TRUE(internal::LineDiff("same\n", "same\n").empty());
}

TEST(ModelTextTest, ReadsTablesOfPrefixedDmnAndRejectsMalformedXml) {
  auto t = internal::ReadDecisionTables(
      R"(<dmn:definitions xmlns:dmn="https://www.omg.org/spec/DMN/20191111/MODEL/"><dmn:decision name="D">)"
      R"(<dmn:decisionTable><dmn:output name="o"/><dmn:rule><dmn:inputEntry><dmn:text> 1 </dmn:text></dmn:inputEntry>)"
      R"(<dmn:outputEntry><dmn:text>"x"</dmn:text></dmn:outputEntry></dmn:rule></dmn:decisionTable></dmn:decision>)"
      R"(</dmn:definitions>)");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].decision, "D");
  EXPECT_EQ((*t)[0].rules[0].inputs, (std::vector<std::string>{"1"}));
  EXPECT_EQ(internal::StringLiteral((*t)[0].rules[0].outputs[0]), "x");
  EXPECT_EQ(internal::StringLiteral("\"a\" + \"b\""), "");
  auto bad = internal::ReadDecisionTables("<a><b></a>");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("offset"), std::string::npos);
}

}  // namespace
}  // namespace rapport::decision::testing
