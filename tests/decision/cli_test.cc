// `rapport decision ...` as a user runs it, against a data directory also
// written in process (the catalog and a second reviewer).

#include <gtest/gtest.h>

#include "decision/decision.h"
#include "decision/decision_fixture.h"
#include "testing/rapport_cli.h"

namespace rapport::decision::testing {
namespace {

class DecisionCli : public rapport::testing::RapportCliTest {};

TEST_F(DecisionCli, UploadReviewPublishDiffAndPreview) {
  std::string data = (dir_ / "data").string();
  int64_t customer = 0;
  {
    std::filesystem::create_directories(data);
    auto db = storage::OpenSqlite(data + "/rapport.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto store = customer::CustomerStore::Open(db->get(), SystemClock::Default());
    ASSERT_TRUE(store.ok());
    customer::NewCustomer c;
    c.attributes["region"] = std::string("north");
    customer = (*store)->Create(c)->id;
    auto engine = DecisionEngine::Open(db->get(), nullptr, nullptr);
    ASSERT_TRUE(engine.ok());
    for (const char* id : {"gold-card", "newsletter"}) {
      ASSERT_TRUE((*engine)->PutAction(*ParseAction(R"({"kind":"offer","name":"x"})", id)).ok());
    }
  }
  std::ofstream(dir_ / "offers.dmn") << OffersModel({{"\"north\"", "-", "gold-card", "r1"}, {"-", "-", "newsletter", "r2"}});
  auto up = Rapport({"decision", "upload", "offers.dmn", "--data", data});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("offers v1  draft"), std::string::npos) << up.out;
  ASSERT_EQ(Rapport({"decision", "submit", "offers", "1", "--comment", "first", "--data", data}).exit_code, 0);
  // Four eyes: the same user cannot approve.
  auto self = Rapport({"decision", "approve", "offers", "1", "--data", data});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_NE(self.err.find("four eyes"), std::string::npos) << self.err;
  {
    auto db = storage::OpenSqlite(data + "/rapport.db");
    auto engine = DecisionEngine::Open(db->get(), nullptr, nullptr);
    ASSERT_TRUE((*engine)->Approve("offers", 1, {"reviewer", false}).ok());
  }
  auto pub = Rapport({"decision", "publish", "offers", "1", "--data", data});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_NE(Rapport({"decision", "models", "--data", data}).out.find("offers  latest v1  published v1"), std::string::npos);
  {
    auto db = storage::OpenSqlite(data + "/rapport.db");
    auto engine = DecisionEngine::Open(db->get(), nullptr, nullptr);
    ASSERT_TRUE((*engine)->PutDecisionPoint(*ParseDecisionPoint(R"({"model":"offers","decision":"Next Offers"})", "home")).ok());
  }
  auto d = Rapport({"decision", "decide", "--customer", std::to_string(customer), "--point", "home", "--explain",
                    "--context", R"({"revenue": 10})", "--data", data});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find(R"("actionId":"gold-card")"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find(R"("revenue":10)"), std::string::npos) << d.out;
  EXPECT_EQ(d.out.find("decisionId"), std::string::npos);  // a preview

  std::ofstream(dir_ / "offers.dmn") << OffersModel({{"\"south\"", "-", "gold-card", "r1"}, {"-", "-", "newsletter", "r2"}});
  ASSERT_EQ(Rapport({"decision", "upload", "offers.dmn", "--data", data}).exit_code, 0);
  auto diff = Rapport({"decision", "diff", "offers", "2", "--data", data});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("changed Next Offers rule r1\n  - \"north\" | - | \"gold-card\"\n  + \"south\" | - | \"gold-card\""),
            std::string::npos)
      << diff.out;
  auto versions = Rapport({"decision", "versions", "offers", "--data", data});
  EXPECT_NE(versions.out.find("offers v2  draft"), std::string::npos);
  EXPECT_NE(versions.out.find("offers v1  published"), std::string::npos);
  EXPECT_EQ(Rapport({"decision", "publish", "offers", "2", "--data", data}).exit_code, 1);  // not approved
}

}  // namespace
}  // namespace rapport::decision::testing
