#include "decision/triggers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "decision/trigger_fixture.h"
#include "ingest/tracking.h"

namespace rapport::decision {
namespace {

using testing::TriggerTest;

constexpr const char* kComplaintToService = R"({
  "name": "complaint to service",
  "event": {"type": "track", "name": "Complaint Filed"},
  "action": {"type": "case", "team": "service", "priority": "high",
             "title": "\"Complaint: \" + event.properties.subject", "dueInHours": 24}
})";

constexpr const char* kBigOrderAlert = R"j({
  "name": "big order",
  "event": {"type": "track", "name": "Order Completed", "where": "event.properties.total > 500"},
  "action": {"type": "alert", "severity": "info",
             "message": "\"Order of \" + string(event.properties.total)"}
})j";

// ---- definitions ---------------------------------------------------------------

struct BadDefinition {
  const char* json;
  const char* field;
};

TEST(TriggerDefinitionTest, RejectsBadMembersByPointer) {
  const BadDefinition cases[] = {
      {R"({"event": {"type": "track"}, "action": {"type": "alert", "message": "\"x\""}})", "/name"},
      {R"({"name": "a", "action": {"type": "alert", "message": "\"x\""}})", "/event"},
      {R"({"name": "a", "event": {"type": "click"}, "action": {"type": "alert", "message": "\"x\""}})",
       "/event/type"},
      {R"({"name": "a", "event": {"type": "identify", "name": "x"}, "action": {"type": "alert", "message": "\"x\""}})",
       "/event/name"},
      {R"({"name": "a", "event": {"type": "track"}})", "/action"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "sms"}})", "/action/type"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "case", "team": "legal", "title": "\"t\""}})",
       "/action/team"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "case", "team": "sales"}})", "/action/title"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "case", "team": "sales", "title": "\"t\"",
          "priority": "asap"}})",
       "/action/priority"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "webhook", "url": "ftp://x"}})", "/action/url"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "webhook", "url": "http://x.test/h",
          "secret": "short"}})",
       "/action/secret"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "alert", "message": "\"x\"",
          "url": "http://x.test"}})",
       "/action/url"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "decide", "channel": "email"}})",
       "/action/decisionPoint"},
      {R"({"name": "a", "event": {"type": "track"}, "action": {"type": "alert", "message": "\"x\""}, "when": 1})",
       "/when"},
      {R"({"name": "a", "enabled": "yes", "event": {"type": "track"}, "action": {"type": "alert", "message": "1"}})",
       "/enabled"},
  };
  for (const auto& c : cases) {
    auto d = ParseTriggerDefinition(c.json);
    ASSERT_FALSE(d.ok()) << c.json;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(d.status().field(), c.field) << c.json << " -> " << d.status().ToString();
  }
}

TEST(TriggerDefinitionTest, RoundTripsThroughJson) {
  auto d = ParseTriggerDefinition(kComplaintToService);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  Trigger t;
  t.id = 3;
  t.definition = *d;
  std::string json = TriggerToJson(t);
  EXPECT_NE(json.find(R"("team":"service")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("dueInHours":24)"), std::string::npos) << json;
  EXPECT_EQ(d->action.priority, "high");
  EXPECT_EQ(d->action.due_in_hours, 24);
  EXPECT_TRUE(d->enabled);
}

TEST_F(TriggerTest, FeelErrorsNameTheMemberAndPosition) {
  auto create = [&](const std::string& json) {
    auto d = ParseTriggerDefinition(json);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return engine_->Create(*d).status();
  };
  Status s = create(R"({"name": "a", "event": {"type": "track"}, "condition": "revenue >",
                        "action": {"type": "alert", "message": "\"x\""}})");
  EXPECT_EQ(s.field(), "/condition") << s.ToString();
  EXPECT_NE(s.message().find("position"), std::string::npos) << s.ToString();

  s = create(R"({"name": "a", "event": {"type": "track"}, "condition": "revenu > 10",
                 "action": {"type": "alert", "message": "\"x\""}})");
  EXPECT_EQ(s.field(), "/condition") << s.ToString();
  EXPECT_NE(s.message().find("unknown variable 'revenu'"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("position 0"), std::string::npos) << s.ToString();

  // `where` sees only the event, not the profile.
  s = create(R"({"name": "a", "event": {"type": "track", "where": "revenue > 10"},
                 "action": {"type": "alert", "message": "\"x\""}})");
  EXPECT_EQ(s.field(), "/event/where") << s.ToString();

  // A plain-text title must be written as a FEEL string.
  s = create(R"({"name": "a", "event": {"type": "track"}, "action": {"type": "case", "team": "sales",
                 "title": "Call back"}})");
  EXPECT_EQ(s.field(), "/action/title") << s.ToString();

  EXPECT_TRUE(engine_->List().empty());
}

// A stored trigger whose column went away (profile.json changed) stays
// listed with the reason, never fires, and can be fixed by Replace.
TEST_F(TriggerTest, TriggerThatNoLongerCompilesIsKeptInactive) {
  Trigger t = MustCreate(R"({"name": "vip order", "event": {"type": "track", "name": "Order Completed"},
      "condition": "revenue365d > 100", "action": {"type": "alert", "message": "\"VIP\""}})");
  engine_.reset();
  TriggerEngineOptions o;
  o.db = db_.get();
  o.customers = store_.get();
  o.profile = nullptr;  // a profile without the column
  o.clock = &clock_;
  o.http = &http_;
  o.deliver_in_background = false;
  auto reopened = TriggerEngine::Open(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  engine_ = std::move(*reopened);
  auto got = engine_->Get(t.id);
  ASSERT_TRUE(got.ok());
  EXPECT_NE(got->error.find("unknown variable 'revenue365d'"), std::string::npos) << got->error;
  EXPECT_NE(TriggerToJson(*got).find(R"("error":)"), std::string::npos);
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed")});
  EXPECT_EQ(engine_->stats().matched, 0);

  auto fixed = *ParseTriggerDefinition(R"({"name": "vip order", "event": {"type": "track", "name": "Order Completed"},
      "action": {"type": "alert", "message": "\"VIP\""}})");
  auto replaced = engine_->Replace(t.id, fixed);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_TRUE(engine_->Get(t.id)->error.empty());
  engine_->Process({Track(2, ada, "Order Completed")});
  EXPECT_EQ(engine_->stats().fired, 1);
}

TEST_F(TriggerTest, NamesAreUniqueAndDecideNeedsAnEngine) {
  MustCreate(kComplaintToService);
  auto again = engine_->Create(*ParseTriggerDefinition(kComplaintToService));
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_EQ(again.status().field(), "/name");
  auto decide = ParseTriggerDefinition(R"({"name": "d", "event": {"type": "identify"},
      "action": {"type": "decide", "decisionPoint": "welcome", "channel": "email"}})");
  ASSERT_TRUE(decide.ok());
  EXPECT_EQ(engine_->Create(*decide).status().code(), StatusCode::kUnprocessable);
}

// ---- matching ------------------------------------------------------------------------

TEST_F(TriggerTest, MatchesTypeNameAndWhere) {
  MustCreate(kBigOrderAlert);
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 100})"),
                    Track(2, ada, "Order Completed", R"({"total": 600.5})"),
                    Track(3, ada, "Product Viewed", R"({"total": 900})"),
                    Track(4, 0, "Order Completed", R"({"total": 900})")});  // anonymous: no customer
  auto alerts = engine_->ListAlerts(ada, true, 0, 50);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->items.size(), 1u);
  EXPECT_EQ(alerts->items[0].message, "Order of 600.5");
  EXPECT_EQ(alerts->items[0].event_key, "seq:2");
  EXPECT_EQ(alerts->items[0].severity, "info");
  EXPECT_EQ(engine_->stats().fired, 1);
  EXPECT_EQ(engine_->stats().events, 4);
}

TEST_F(TriggerTest, ConditionReadsTheProfile) {
  MustCreate(R"({"name": "northern complaints", "event": {"type": "track", "name": "Complaint Filed"},
                 "condition": "region = \"north\" and event.properties.severity >= 2",
                 "action": {"type": "case", "kind": "task", "team": "sales", "title": "\"Visit \" + region"}})");
  customer::CustomerId north = NewCustomer("north"), south = NewCustomer("south");
  engine_->Process({Track(1, north, "Complaint Filed", R"({"severity": 3})"),
                    Track(2, south, "Complaint Filed", R"({"severity": 3})"),
                    Track(3, north, "Complaint Filed", R"({"severity": 1})")});
  auto cases = CasesOf(north);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].title, "Visit north");
  EXPECT_EQ(cases[0].kind, "task");
  EXPECT_EQ(cases[0].team, "sales");
  EXPECT_TRUE(CasesOf(south).empty());
  EXPECT_EQ(engine_->OpenCases(north), 0);  // a task is not a case
}

// The order just tracked is in the operational store before the feed
// publishes it; the condition must count it even though the profile store's
// updater has not run.
TEST_F(TriggerTest, ConditionSeesTheEventsOwnEffect) {
  MustCreate(R"({"name": "third order", "event": {"type": "track", "name": "Order Completed"},
                 "condition": "orders = 1", "action": {"type": "alert", "message": "\"First order\""}})");
  customer::CustomerId ada = NewCustomer();
  customer::Transaction order;
  order.customer_id = ada;
  order.source = "web";
  order.source_key = "o-1";
  order.occurred_at = clock_.Now();
  order.amount = Money::FromWhole(40);
  ASSERT_TRUE(store_->AddTransaction(order).ok());
  ASSERT_EQ(*profile_->ValueOf(ada, "orders"), "0");  // the updater has not run
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 40})")});
  EXPECT_EQ(engine_->ListAlerts(ada, true, 0, 10)->items.size(), 1u);
  EXPECT_EQ(*profile_->ValueOf(ada, "orders"), "1");
}

TEST_F(TriggerTest, FiresAtMostOncePerEventAcrossRestarts) {
  Trigger t = MustCreate(kComplaintToService);
  customer::CustomerId ada = NewCustomer();
  auto complaint = Track(7, ada, "Complaint Filed", R"({"subject": "late delivery"})");
  engine_->Process({complaint, complaint});
  ASSERT_EQ(CasesOf(ada).size(), 1u);
  EXPECT_EQ(CasesOf(ada)[0].title, "Complaint: late delivery");
  EXPECT_EQ(CasesOf(ada)[0].created_by, "trigger:" + std::to_string(t.id));
  ASSERT_TRUE(CasesOf(ada)[0].due_at.has_value());
  EXPECT_EQ(CasesOf(ada)[0].due_at->micros - clock_.Now().micros, 24 * 3600 * kMicrosPerSecond);
  EXPECT_EQ(engine_->OpenCases(ada), 1);
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 1);
  EXPECT_EQ(engine_->OpenCases(ada, "marketing"), 0);

  OpenEngine();  // a restart on the same database
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 1);
  engine_->Process({complaint});
  EXPECT_EQ(CasesOf(ada).size(), 1u);
  EXPECT_EQ(engine_->stats().matched, 1);
  EXPECT_EQ(engine_->stats().fired, 0);

  engine_->Process({Track(8, ada, "Complaint Filed", R"({"subject": "rude driver"})")});
  EXPECT_EQ(CasesOf(ada).size(), 2u);
  auto firings = engine_->Firings(t.id, 0, 10);
  ASSERT_TRUE(firings.ok());
  ASSERT_EQ(firings->items.size(), 2u);
  EXPECT_EQ(firings->items[0].event_key, "seq:8");
  EXPECT_EQ(firings->items[0].outcome, "done");
  EXPECT_EQ(firings->items[0].event, "track Complaint Filed");
  EXPECT_EQ(firings->items[1].event_key, "seq:7");
  auto first_page = engine_->Firings(t.id, 0, 1);
  ASSERT_TRUE(first_page.ok());
  EXPECT_EQ(first_page->next_cursor, std::to_string(firings->items[0].id));
}

TEST_F(TriggerTest, SegmentEventsAreKeyedBySegmentCustomerAndTime) {
  MustCreate(R"({"name": "churn risk", "event": {"type": "segment.entered", "where": "event.properties.segmentId = 4"},
                 "action": {"type": "alert", "severity": "warning", "message": "\"Entered churn risk\""}})");
  customer::CustomerId ada = NewCustomer();
  auto entered = [&](int segment, int64_t seconds) {
    ingest::StoredEvent e;
    e.customer_id = ada;
    e.event.type = ingest::EventType::kTrack;
    e.event.event = "segment.entered";
    e.event.properties_json = "{\"segmentId\":" + std::to_string(segment) + "}";
    e.event.timestamp = Timestamp::FromSeconds(seconds);
    return e;
  };
  engine_->Process({entered(4, 100), entered(4, 100), entered(5, 100)});
  auto alerts = engine_->ListAlerts(ada, true, 0, 50);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->items.size(), 1u);
  EXPECT_EQ(alerts->items[0].event_key, "segment:4:" + std::to_string(ada) + ":100000000");
  engine_->Process({entered(4, 200)});  // entered again later: a new event
  EXPECT_EQ(engine_->ListAlerts(ada, true, 0, 50)->items.size(), 2u);
}

TEST_F(TriggerTest, DisabledAndDeletedTriggersDoNotFire) {
  Trigger t = MustCreate(kBigOrderAlert);
  customer::CustomerId ada = NewCustomer();
  auto def = *ParseTriggerDefinition(kBigOrderAlert);
  def.enabled = false;
  ASSERT_TRUE(engine_->Replace(t.id, def).ok());
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 900})")});
  EXPECT_TRUE(engine_->ListAlerts(ada, true, 0, 50)->items.empty());
  EXPECT_FALSE(engine_->Get(t.id)->definition.enabled);

  def.enabled = true;
  ASSERT_TRUE(engine_->Replace(t.id, def).ok());
  engine_->Process({Track(2, ada, "Order Completed", R"({"total": 900})")});
  EXPECT_EQ(engine_->ListAlerts(ada, true, 0, 50)->items.size(), 1u);

  ASSERT_TRUE(engine_->Delete(t.id).ok());
  EXPECT_TRUE(engine_->Get(t.id).status().IsNotFound());
  EXPECT_TRUE(engine_->Delete(t.id).IsNotFound());
  engine_->Process({Track(3, ada, "Order Completed", R"({"total": 900})")});
  EXPECT_EQ(engine_->ListAlerts(ada, true, 0, 50)->items.size(), 1u);
  EXPECT_TRUE(engine_->Replace(t.id, def).status().IsNotFound());
}

TEST_F(TriggerTest, AlertsShowInTheViewUntilAcknowledged) {
  MustCreate(kBigOrderAlert);
  customer::CustomerId ada = NewCustomer();
  engine_->Process({Track(1, ada, "Order Completed", R"({"total": 900})")});
  auto view = store_->View(ada);
  ASSERT_TRUE(view.ok());
  std::string alerts;
  for (const auto& [name, json] : view->sections) {
    if (name == "alerts") alerts = json;
  }
  EXPECT_NE(alerts.find("Order of 900"), std::string::npos) << alerts;
  int64_t id = engine_->ListAlerts(ada, true, 0, 50)->items.at(0).id;
  auto acked = engine_->AcknowledgeAlert(id, "key:abc");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->acknowledged_by, "key:abc");
  EXPECT_TRUE(engine_->AcknowledgeAlert(id, "key:other").ok());
  EXPECT_EQ(engine_->AcknowledgeAlert(id, "key:other")->acknowledged_by, "key:abc");  // the first one stays
  EXPECT_TRUE(engine_->ListAlerts(ada, true, 0, 50)->items.empty());
  EXPECT_EQ(engine_->ListAlerts(ada, false, 0, 50)->items.size(), 1u);
  EXPECT_TRUE(engine_->AcknowledgeAlert(999, "key:abc").status().IsNotFound());
  auto after = store_->View(ada);
  ASSERT_TRUE(after.ok());
  for (const auto& [name, json] : after->sections) {
    if (name == "alerts") {
      EXPECT_EQ(json, "[]");
    }
  }
}

TEST_F(TriggerTest, TitleThatEvaluatesToNullFailsTheFiringOnce) {
  Trigger t = MustCreate(kComplaintToService);
  customer::CustomerId ada = NewCustomer();
  // No subject: "Complaint: " + null is null.
  engine_->Process({Track(1, ada, "Complaint Filed"), Track(1, ada, "Complaint Filed")});
  EXPECT_TRUE(CasesOf(ada).empty());
  auto firings = engine_->Firings(t.id, 0, 10);
  ASSERT_EQ(firings->items.size(), 1u);
  EXPECT_EQ(firings->items[0].outcome, "failed");
  EXPECT_NE(firings->items[0].detail.find("the title evaluated to null"), std::string::npos)
      << firings->items[0].detail;
  EXPECT_EQ(engine_->stats().failed, 1);
}

// Definitions change while events are processed: each event sees one whole
// set of triggers (old or new), never a half-replaced one, and nothing fires
// twice.
TEST_F(TriggerTest, ReplacingTriggersWhileEventsFlow) {
  Trigger t = MustCreate(kBigOrderAlert);
  customer::CustomerId ada = NewCustomer();
  std::atomic<bool> done{false};
  std::thread editor([&] {
    auto def = *ParseTriggerDefinition(kBigOrderAlert);
    for (int i = 0; !done.load(); ++i) {
      def.enabled = i % 2 == 0;
      def.event.where = i % 3 == 0 ? "event.properties.total > 500" : "event.properties.total > 400";
      ASSERT_TRUE(engine_->Replace(t.id, def).ok());
    }
  });
  for (int64_t seq = 1; seq <= 400; ++seq) {
    engine_->Process({Track(seq, ada, "Order Completed", R"({"total": 900})"),
                      Track(seq, ada, "Order Completed", R"({"total": 900})")});
  }
  done = true;
  editor.join();
  auto alerts = engine_->ListAlerts(ada, true, 0, 500);
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(static_cast<int64_t>(alerts->items.size()), engine_->stats().fired);
  EXPECT_LE(engine_->stats().fired, 400);
  std::set<std::string> keys;
  for (const Alert& a : alerts->items) EXPECT_TRUE(keys.insert(a.event_key).second) << a.event_key;
}

// The feed path: a real Tracker, its writer thread, the engine's own thread.
class FeedTest : public TriggerTest {
 protected:
  void OpenOnFeed(size_t max_queued) {
    OpenTracker();
    OpenEngineOnFeed(max_queued);
  }
  void OpenTracker() {
    auto tracker = ingest::Tracker::Open(db_.get(), store_.get());
    ASSERT_TRUE(tracker.ok()) << tracker.status().ToString();
    tracker_ = std::move(*tracker);
    auto source = ingest::CreateSource(*db_, "web", clock_.Now());
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    source_ = *source;
  }
  // Opens (or reopens: a restart) the engine on the tracker's feed.
  void OpenEngineOnFeed(size_t max_queued) {
    engine_.reset();
    TriggerEngineOptions o;
    o.db = db_.get();
    o.customers = store_.get();
    o.profile = profile_.get();
    o.feed = tracker_.get();
    o.clock = &clock_;
    o.http = &http_;
    o.deliver_in_background = false;
    o.max_queued_events = max_queued;
    auto opened = TriggerEngine::Open(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
    engine_->Flush();  // the catch-up at Open is done: the engine takes tracked events from the feed
  }
  void TearDown() override {
    engine_.reset();  // unsubscribes before the tracker goes
    tracker_.reset();
    TriggerTest::TearDown();
  }
  ingest::TrackingEvent Complaint(const std::string& message_id, const std::string& user_id = "u-1") {
    ingest::TrackingEvent e;
    e.type = ingest::EventType::kTrack;
    e.user_id = user_id;
    e.event = "Complaint Filed";
    e.message_id = message_id;
    e.properties_json = R"({"subject": "broken lid"})";
    e.timestamp = e.received_at = clock_.Now();
    return e;
  }
  // The tracker answers a write before it publishes the write's events, so
  // Flush alone could run before they are queued: wait until they are seen.
  bool SeenOnFeed(const std::function<bool(const TriggerEngine::Stats&)>& ready) {
    for (int i = 0; i < 1000; ++i) {
      engine_->Flush();
      if (ready(engine_->stats())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Write answers before the tracker publishes (and so before EventsAfter
  // can read) the events: wait until n events are published.
  bool Published(size_t n) {
    for (int i = 0; i < 1000; ++i) {
      auto all = tracker_->EventsAfter(0, 10'000);
      if (all.ok() && all->size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  std::vector<Case> ServiceCases() {
    CaseQuery q;
    q.team = "service";
    q.limit = 500;
    auto cases = engine_->ListCases(q);
    EXPECT_TRUE(cases.ok()) << cases.status().ToString();
    return cases.ok() ? cases->items : std::vector<Case>{};
  }
  Status SetStoredMark(int64_t seq) {
    return db_->WithConnection([&](storage::Connection& c) {
      return c.Execute("UPDATE trigger_state SET value = ? WHERE name = 'events_through_seq'", {seq}).status();
    });
  }
  std::unique_ptr<ingest::Tracker> tracker_;
  ingest::Source source_;
};

// A queue with no room at all: the tracker never waits, and the events it
// committed are read back from it and fire all the same, once each.
TEST_F(FeedTest, FullQueueLeavesTrackedEventsToTheCatchUp) {
  OpenOnFeed(0);
  MustCreate(kComplaintToService);
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("c-1", "u-1"), Complaint("c-2", "u-2")}).ok());
  ASSERT_TRUE(Published(2));
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired == 2; }));
  EXPECT_GE(engine_->stats().dropped, 1);
  EXPECT_EQ(engine_->stats().replayed, 2);
  EXPECT_EQ(ServiceCases().size(), 2u);
  EXPECT_EQ(engine_->stats().mark, tracker_->LastPublishedSeq());
}

// Requests of 10 events through a queue of 3: every publish overflows, so
// the engine keeps switching between the feed and reading back; each
// complaint still opens exactly one case.
TEST_F(FeedTest, OverflowingQueueFiresEveryTrackedEventExactlyOnce) {
  OpenOnFeed(3);
  MustCreate(kComplaintToService);
  constexpr int kRequests = 20, kPerRequest = 10;
  for (int r = 0; r < kRequests; ++r) {
    std::vector<ingest::TrackingEvent> events;
    for (int i = 0; i < kPerRequest; ++i) {
      std::string id = std::to_string(r) + "-" + std::to_string(i);
      events.push_back(Complaint("c-" + id, "u-" + id));
    }
    ASSERT_TRUE(tracker_->Write(source_, std::move(events)).ok());
  }
  constexpr size_t kAll = kRequests * kPerRequest;
  ASSERT_TRUE(Published(kAll));
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired >= static_cast<int64_t>(kAll); }));
  EXPECT_GT(engine_->stats().dropped, 0);
  std::vector<Case> cases = ServiceCases();
  ASSERT_EQ(cases.size(), kAll);
  std::set<std::string> keys;
  std::set<customer::CustomerId> customers;
  for (const Case& c : cases) {
    EXPECT_TRUE(keys.insert(c.event_key).second) << c.event_key;
    customers.insert(c.customer_id);
  }
  EXPECT_EQ(customers.size(), kAll);
  EXPECT_EQ(engine_->stats().fired, static_cast<int64_t>(kAll));
  EXPECT_EQ(engine_->stats().mark, tracker_->LastPublishedSeq());
}

// A crash, or a server whose engine is down while ingestion goes on: the
// tracked events committed meanwhile fire when the engine opens, once; the
// stored mark spares a second open from reading them again, and a mark lost
// (a crash before it was written) re-reads them without acting twice.
TEST_F(FeedTest, EventsCommittedWhileTheEngineIsDownFireOnceAfterOpen) {
  OpenOnFeed(1000);
  MustCreate(kComplaintToService);
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("c-1", "u-1")}).ok());
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired == 1; }));

  engine_.reset();
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("c-2", "u-2"), Complaint("c-3", "u-3")}).ok());
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("c-4", "u-4")}).ok());
  ASSERT_TRUE(Published(4));

  OpenEngineOnFeed(1000);  // waits for the catch-up
  EXPECT_EQ(engine_->stats().replayed, 3) << "only the events after the stored mark";
  EXPECT_EQ(engine_->stats().fired, 3);
  EXPECT_EQ(engine_->stats().mark, tracker_->LastPublishedSeq());
  std::vector<Case> cases = ServiceCases();
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_EQ(cases[0].title, "Complaint: broken lid");
  // Live again after catching up.
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("c-5", "u-5")}).ok());
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired == 4; }));
  EXPECT_EQ(engine_->stats().replayed, 3);

  OpenEngineOnFeed(1000);
  EXPECT_EQ(engine_->stats().replayed, 0);
  EXPECT_EQ(engine_->stats().fired, 0);
  EXPECT_EQ(ServiceCases().size(), 5u);

  engine_.reset();
  ASSERT_TRUE(SetStoredMark(0).ok());
  OpenEngineOnFeed(1000);
  EXPECT_EQ(engine_->stats().replayed, 5);
  EXPECT_EQ(engine_->stats().matched, 5);
  EXPECT_EQ(engine_->stats().fired, 0) << "every firing was claimed before";
  EXPECT_EQ(ServiceCases().size(), 5u);
}

// The mark starts at the tracker's newest event the first time the engine
// runs on a feed: history from before is not replayed into new triggers.
TEST_F(FeedTest, FirstOpenStartsAtTheNewestEvent) {
  MustCreate(kComplaintToService);  // on the engine without a feed
  OpenTracker();
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("old-1", "u-1")}).ok());
  ASSERT_TRUE(Published(1));
  OpenEngineOnFeed(1000);
  EXPECT_EQ(engine_->stats().replayed, 0);
  EXPECT_EQ(engine_->stats().mark, tracker_->LastPublishedSeq());
  EXPECT_TRUE(ServiceCases().empty());
  ASSERT_TRUE(tracker_->Write(source_, {Complaint("new-1", "u-1")}).ok());
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired == 1; }));
  EXPECT_EQ(ServiceCases().size(), 1u);
}

// Derived events (seq 0) are not in the tracker's table: the queue is
// their only way in, so a full queue loses them, and no open brings them back.
TEST_F(FeedTest, DerivedEventsAreAtMostOnceWithoutReplay) {
  OpenOnFeed(0);
  MustCreate(R"({"name": "churn risk", "event": {"type": "segment.entered"},
                 "action": {"type": "alert", "message": "\"Entered churn risk\""}})");
  customer::CustomerId ada = NewCustomer();
  auto entered = [&](int64_t seconds) {
    ingest::StoredEvent e;
    e.customer_id = ada;
    e.event.type = ingest::EventType::kTrack;
    e.event.event = "segment.entered";
    e.event.properties_json = R"({"segmentId": 4})";
    e.event.timestamp = Timestamp::FromSeconds(seconds);
    return e;
  };
  tracker_->Publish({entered(100)});
  EXPECT_EQ(engine_->stats().dropped, 1);
  OpenEngineOnFeed(0);
  EXPECT_EQ(engine_->stats().replayed, 0);
  EXPECT_TRUE(engine_->ListAlerts(ada, true, 0, 10)->items.empty());
  OpenEngineOnFeed(1000);
  tracker_->Publish({entered(200)});
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired == 1; }));
  EXPECT_EQ(engine_->ListAlerts(ada, true, 0, 10)->items.size(), 1u);
  EXPECT_EQ(engine_->stats().mark, 0) << "derived events do not move the mark";
}

TEST_F(FeedTest, RunsOnTheChangeFeed) {
  OpenOnFeed(1000);
  ASSERT_NE(engine_, nullptr);
  MustCreate(kComplaintToService);
  ingest::TrackingEvent e = Complaint("complaint-1");
  ASSERT_TRUE(tracker_->Write(source_, {e}).ok());
  ASSERT_TRUE(tracker_->Write(source_, {e}).ok());  // the same messageId again: a duplicate, not an event
  // A later event of its own: once it is processed, so are the two above.
  ingest::TrackingEvent later = Complaint("complaint-2");
  later.user_id = "u-2";
  ASSERT_TRUE(tracker_->Write(source_, {later}).ok());
  // fired counts after the commit (events counts as evaluation starts).
  ASSERT_TRUE(SeenOnFeed([](const TriggerEngine::Stats& s) { return s.fired == 2; }));
  EXPECT_EQ(engine_->stats().events, 2);
  CaseQuery q;
  q.team = "service";
  auto cases = engine_->ListCases(q);
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->items.size(), 2u);
  EXPECT_EQ(cases->items[1].title, "Complaint: broken lid");
  EXPECT_NE(cases->items[0].customer_id, cases->items[1].customer_id);
  EXPECT_EQ(engine_->OpenCases(cases->items[1].customer_id, "service"), 1);
  EXPECT_EQ(engine_->stats().dropped, 0);
}

}  // namespace
}  // namespace rapport::decision
