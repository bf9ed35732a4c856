// The decision engine on PostgreSQL (the tested second storage driver):
// migrations, the repository lifecycle, a decision, a durable response and
// the learning rebuilt from it. Skipped unless RAPPORT_TEST_POSTGRES is set
// (scripts/with-postgres.sh). Names carry the process id: the database is
// shared by every test binary of the run.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "decision/decision.h"
#include "decision/decision_fixture.h"

namespace rapport::decision::testing {
namespace {

TEST(DecisionPostgres, PublishDecideRespondAndRestart) {
  const char* conninfo = std::getenv("RAPPORT_TEST_POSTGRES");
  if (!conninfo) GTEST_SKIP() << "RAPPORT_TEST_POSTGRES not set: run through scripts/with-postgres.sh";
  auto db = storage::OpenPostgres(conninfo);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ManualClock clock(Timestamp{kNoonUtc});
  auto store = customer::CustomerStore::Open(db->get(), &clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  customer::NewCustomer c;
  c.attributes["region"] = std::string("north");
  auto made = (*store)->Create(c);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto profile = profile::ProfileStore::Open(db->get(), profile::DefaultProfileOptions(clock.Now()));
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();

  std::string tag = std::to_string(::getpid());
  std::string model = "offers" + tag, gold = "gold" + tag, news = "news" + tag, point = "home" + tag;
  EngineOptions eo;
  eo.clock = &clock;
  eo.log_interval_micros = 1000;
  auto engine = DecisionEngine::Open(db->get(), profile->get(), store->get(), eo);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  for (const auto& id : {gold, news}) {
    ASSERT_TRUE((*engine)->PutAction(*ParseAction(R"({"kind":"offer","name":"x","value":10})", id)).ok());
  }
  auto up = (*engine)->UploadModel(OffersModel({{"\"north\"", "-", gold, "r1"}, {"-", "-", news, "r2"}}, model),
                                   {"author", false});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_TRUE((*engine)->Submit(model, 1, {"author", false}).ok());
  ASSERT_TRUE((*engine)->Approve(model, 1, {"reviewer", false}).ok());
  auto pub = (*engine)->Publish(model, 1, {"reviewer", false});
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->audit.size(), 4u);
  auto p = ParseDecisionPoint(R"({"model":")" + model + R"(","decision":"Next Offers"})", point);
  ASSERT_TRUE((*engine)->PutDecisionPoint(*p).ok());
  DecideRequest req;
  req.customer_id = made->id;
  req.channel = "web";
  req.decision_point = point;
  auto r = (*engine)->Decide(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->actions.size(), 2u);
  auto resp = (*engine)->RecordResponse(r->decision_id, gold, Outcome::kAccepted);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_GT(resp->id, 0);
  ASSERT_TRUE((*engine)->FlushLog().ok());
  auto recent = (*engine)->RecentDecisions(made->id, 5);
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  ASSERT_EQ(recent->size(), 1u);
  engine->reset();
  auto again = DecisionEngine::Open(db->get(), profile->get(), store->get(), eo);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->PropensityOf(gold)->accepted, 1);
  auto diff = (*again)->Diff(model, 1, 1);
  ASSERT_TRUE(diff.ok());
  EXPECT_TRUE(diff->rules.empty());
}

}  // namespace
}  // namespace rapport::decision::testing
