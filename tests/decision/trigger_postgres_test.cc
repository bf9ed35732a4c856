// The trigger engine on PostgreSQL (scripts/with-postgres.sh): migrations,
// the firing claim (INSERT ... ON CONFLICT DO NOTHING RETURNING id), cases,
// alerts and the webhook outbox, and at most once across a restart; the
// catch-up from the tracker after the high-water mark.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "customer/customer.h"
#include "decision/trigger_fixture.h"
#include "decision/triggers.h"
#include "ingest/tracking.h"
#include "testing/test_database.h"

namespace rapport::decision {
namespace {

TEST(TriggerPostgresTest, FiresOnceActsAndDelivers) {
  if (!rapport::testing::PostgresAvailable()) GTEST_SKIP() << "RAPPORT_TEST_POSTGRES not set: run through scripts/with-postgres.sh";
  auto db = rapport::testing::OpenTestDatabase(true, {}, "t_triggers");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ManualClock clock(Timestamp::FromSeconds(1'790'000'000));
  auto customers = customer::CustomerStore::Open(db->get(), &clock);
  ASSERT_TRUE(customers.ok()) << customers.status().ToString();
  customer::NewCustomer nc;
  nc.attributes["firstName"] = std::string("Ada");
  auto ada = (*customers)->Create(nc);
  ASSERT_TRUE(ada.ok()) << ada.status().ToString();

  testing::ScriptedHttpClient http;
  auto open = [&]() {
    TriggerEngineOptions o;
    o.db = db->get();
    o.customers = customers->get();
    o.clock = &clock;
    o.http = &http;
    o.deliver_in_background = false;
    auto e = TriggerEngine::Open(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  };
  auto engine = open();
  ASSERT_NE(engine, nullptr);
  for (const char* def : {R"({"name": "complaint", "event": {"type": "track", "name": "Complaint Filed"},
                             "action": {"type": "case", "team": "service", "title": "\"Complaint\""}})",
                          R"({"name": "alert", "event": {"type": "track", "name": "Complaint Filed"},
                             "action": {"type": "alert", "message": "\"Complaint\""}})",
                          R"({"name": "hook", "event": {"type": "track", "name": "Complaint Filed"},
                             "action": {"type": "webhook", "url": "http://hooks.test/x"}})"}) {
    auto t = engine->Create(*ParseTriggerDefinition(def));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }
  auto complaint = testing::TrackedEvent(1, ada->id, "Complaint Filed");
  engine->Process({complaint, complaint});
  EXPECT_EQ(engine->stats().fired, 3);
  engine.reset();  // a restart
  engine = open();  // restart
  engine->Process({complaint});
  EXPECT_EQ(engine->stats().fired, 0);
  CaseQuery q;
  q.customer_id = ada->id;
  auto cases = engine->ListCases(q);
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  ASSERT_EQ(cases->items.size(), 1u);
  EXPECT_EQ(engine->OpenCases(ada->id, "service"), 1);
  CasePatch close;
  close.status = "closed";
  ASSERT_TRUE(engine->UpdateCase(cases->items[0].id, close).ok());
  EXPECT_EQ(engine->OpenCases(ada->id), 0);
  auto alerts = engine->ListAlerts(ada->id, true, 0, 10);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->items.size(), 1u);
  ASSERT_TRUE(engine->AcknowledgeAlert(alerts->items[0].id, "key:pg").ok());
  http.Answer(503);
  EXPECT_EQ(engine->DeliverDue(), 1);
  clock.Advance(10 * kMicrosPerSecond);
  EXPECT_EQ(engine->DeliverDue(), 1);
  auto hook = engine->List().back();
  auto deliveries = engine->Deliveries(hook.id, 0, 10);
  ASSERT_TRUE(deliveries.ok());
  ASSERT_EQ(deliveries->items.size(), 1u);
  EXPECT_EQ(deliveries->items[0].status, "delivered");
  EXPECT_EQ(deliveries->items[0].attempts, 2);
  engine.reset();
}

// Tracked events committed while the engine is down fire once after it
// opens; a second open reads nothing again (the mark, upserted in PostgreSQL).
TEST(TriggerPostgresTest, CatchesUpOnEventsCommittedWhileDown) {
  if (!rapport::testing::PostgresAvailable()) GTEST_SKIP() << "RAPPORT_TEST_POSTGRES not set: run through scripts/with-postgres.sh";
  auto db = rapport::testing::OpenTestDatabase(true, {}, "t_triggers_catchup");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ManualClock clock(Timestamp::FromSeconds(1'790'000'000));
  auto customers = customer::CustomerStore::Open(db->get(), &clock);
  ASSERT_TRUE(customers.ok()) << customers.status().ToString();
  auto tracker = ingest::Tracker::Open(db->get(), customers->get());
  ASSERT_TRUE(tracker.ok()) << tracker.status().ToString();
  auto source = ingest::CreateSource(**db, "web", clock.Now());
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  testing::ScriptedHttpClient http;
  auto open = [&]() {
    TriggerEngineOptions o;
    o.db = db->get();
    o.customers = customers->get();
    o.feed = tracker->get();
    o.clock = &clock;
    o.http = &http;
    o.deliver_in_background = false;
    auto e = TriggerEngine::Open(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (e.ok()) (*e)->Flush();
    return e.ok() ? std::move(*e) : nullptr;
  };
  auto engine = open();
  ASSERT_NE(engine, nullptr);
  auto t = engine->Create(*ParseTriggerDefinition(
      R"({"name": "complaint", "event": {"type": "track", "name": "Complaint Filed"},
          "action": {"type": "case", "team": "service", "title": "\"Complaint\""}})"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  engine.reset();

  std::vector<ingest::TrackingEvent> events;
  for (int i = 0; i < 3; ++i) {
    ingest::TrackingEvent e;
    e.type = ingest::EventType::kTrack;
    e.user_id = "u-" + std::to_string(i);
    e.event = "Complaint Filed";
    e.message_id = "c-" + std::to_string(i);
    e.timestamp = e.received_at = clock.Now();
    events.push_back(e);
  }
  ASSERT_TRUE((*tracker)->Write(*source, events).ok());
  for (int i = 0; i < 1000 && (*tracker)->EventsAfter(0, 10)->size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ((*tracker)->EventsAfter(0, 10)->size(), 3u);

  engine = open();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->stats().replayed, 3);
  EXPECT_EQ(engine->stats().fired, 3);
  engine.reset();  // a restart
  engine = open();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->stats().replayed, 0);
  EXPECT_EQ(engine->stats().fired, 0);
  CaseQuery q;
  q.team = "service";
  auto cases = engine->ListCases(q);
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  EXPECT_EQ(cases->items.size(), 3u);
  engine.reset();
  tracker->reset();
}

}  // namespace
}  // namespace rapport::decision
