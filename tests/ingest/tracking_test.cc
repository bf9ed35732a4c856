// The Tracker over a real SQLite database: exactly-once by messageId, id
// resolution and merges, traits, groups, e-commerce transactions, the change
// feed, reads, back-pressure and the replay of derived writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "ingest/tracking.h"

namespace rapport::ingest {
namespace {

using customer::CustomerId;
using customer::CustomerStore;

class TrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rapport-tracking-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
    auto s = CreateSource(*db_, "web", clock_.Now());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    source_ = *s;
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open(TrackerOptions options = {}) {
    storage::SqliteOptions o;
    o.durable = false;
    auto db = storage::OpenSqlite((dir_ / "t.db").string(), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto store = CustomerStore::Open(db_.get(), &clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto derived = storage::OpenSqlite((dir_ / "t.db").string(), o);
    ASSERT_TRUE(derived.ok());
    derived_db_ = std::move(*derived);
    options.derived_db = derived_db_.get();
    auto t = Tracker::Open(db_.get(), store_.get(), options);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tracker_ = std::move(*t);
  }
  void Close() {
    tracker_.reset();
    derived_db_.reset();
    store_.reset();
    db_.reset();
  }

  // Decodes a /v1/batch body and writes it.
  WriteOutcome Send(const std::string& batch) {
    auto d = DecodeBatch("{\"batch\":[" + batch + "]}", clock_.Now());
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_TRUE(d->rejected.empty()) << d->rejected[0].status.ToString();
    auto r = tracker_->Write(source_, std::move(d->events));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : WriteOutcome{};
  }

  CustomerId UserCustomer(const std::string& user_id) {
    auto id = store_->FindByIdentifier({"segment.user", user_id});
    EXPECT_TRUE(id.ok() && id->has_value()) << user_id;
    return id.ok() && *id ? **id : 0;
  }

  std::vector<StoredEvent> Events(CustomerId id, std::optional<EventType> type = std::nullopt) {
    EventQuery q;
    q.customer_id = id;
    q.type = type;
    q.limit = 1000;
    auto page = tracker_->ListEvents(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<StoredEvent>{};
  }

  ManualClock clock_{*ParseRfc3339("2026-03-01T12:00:00Z")};
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<CustomerStore> store_;
  std::unique_ptr<storage::Database> derived_db_;
  std::unique_ptr<Tracker> tracker_;
  Source source_;
};

TEST_F(TrackerTest, AuthenticatesByWriteKey) {
  auto s = tracker_->Authenticate(source_.write_key);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "web");
  EXPECT_EQ(tracker_->Authenticate("nope").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(tracker_->Authenticate("").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(CreateSource(*db_, "web", clock_.Now()).status().code(), StatusCode::kConflict);
  EXPECT_EQ(CreateSource(*db_, "Web Site", clock_.Now()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrackerTest, DuplicateMessageIdsAreIgnored) {
  std::string e = R"({"type":"track","userId":"u1","event":"Clicked","messageId":"m-1"})";
  WriteOutcome first = Send(e + "," + e);  // twice in one request
  EXPECT_EQ(first.accepted, 1);
  EXPECT_EQ(first.duplicates, 1);
  WriteOutcome again = Send(e);  // and again later
  EXPECT_EQ(again.accepted, 0);
  EXPECT_EQ(again.duplicates, 1);
  EXPECT_EQ(Events(UserCustomer("u1")).size(), 1u);
  // The same message id from another source is another message.
  auto other = CreateSource(*db_, "app", clock_.Now());
  ASSERT_TRUE(other.ok());
  auto d = DecodeBatch("{\"batch\":[" + e + "]}", clock_.Now());
  auto r = tracker_->Write(*other, std::move(d->events));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 1);
}

TEST_F(TrackerTest, IdentifySetsTraitsWithTheSourceAndLinksTheAnonymousVisitor) {
  Send(R"({"type":"page","anonymousId":"anon-7","name":"Pricing","messageId":"p1"},
          {"type":"track","anonymousId":"anon-7","event":"Signup Started","messageId":"t1"})");
  Send(R"({"type":"identify","anonymousId":"anon-7","userId":"u7","messageId":"i1",
           "traits":{"email":"Ada@Example.com","firstName":"Ada","lastName":"Lovelace","plan":"pro",
                     "address":{"city":"London","postalCode":"N1"}},
           "timestamp":"2026-03-01T11:00:00Z"})");
  CustomerId c = UserCustomer("u7");
  auto events = Events(c);
  ASSERT_EQ(events.size(), 3u) << "the anonymous page and track joined the customer";
  EXPECT_EQ(events[0].event.type, EventType::kIdentify);
  auto got = store_->Get(c);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::get<std::string>(got->attributes.at("email")), "ada@example.com");
  EXPECT_EQ(std::get<std::string>(got->attributes.at("city")), "London");
  EXPECT_EQ(std::get<std::string>(got->attributes.at("postcode")), "N1");
  EXPECT_EQ(got->attributes.count("plan"), 0u) << "traits outside the catalog stay in the event";
  auto history = store_->History(c);
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->back().source, "web");
  EXPECT_EQ(FormatRfc3339(history->back().valid_from), "2026-03-01T11:00:00Z");
  // Later anonymous events of the linked id go straight to the customer.
  Send(R"({"type":"page","anonymousId":"anon-7","name":"Docs","messageId":"p2"})");
  EXPECT_EQ(Events(c).size(), 4u);
}

TEST_F(TrackerTest, AliasMergesTheEarlierProfileIntoTheKnownCustomer) {
  Send(R"({"type":"track","userId":"old-id","event":"A","messageId":"a"},
          {"type":"track","userId":"new-id","event":"B","messageId":"b"})");
  CustomerId old_c = UserCustomer("old-id");
  CustomerId new_c = UserCustomer("new-id");
  ASSERT_NE(old_c, new_c);
  Send(R"({"type":"alias","previousId":"old-id","userId":"new-id","messageId":"al"})");
  EXPECT_EQ(Events(new_c).size(), 3u);
  EXPECT_TRUE(Events(old_c).empty());
  // Calls with the old id now land on the merged customer.
  Send(R"({"type":"track","userId":"old-id","event":"C","messageId":"c"})");
  EXPECT_EQ(Events(new_c).size(), 4u);
  // Alias of an anonymous id.
  Send(R"({"type":"page","anonymousId":"z","name":"Home","messageId":"z1"})");
  Send(R"({"type":"alias","previousId":"z","userId":"new-id","messageId":"al2"})");
  EXPECT_EQ(Events(new_c).size(), 6u);
  // Alias to a userId never seen: the id joins the existing customer.
  Send(R"({"type":"alias","previousId":"new-id","userId":"newest-id","messageId":"al3"})");
  auto newest = store_->FindByIdentifier({"segment.user", "newest-id"});
  ASSERT_TRUE(newest.ok());
  EXPECT_FALSE(newest->has_value()) << "no new customer is created for it";
  Send(R"({"type":"track","userId":"newest-id","event":"D","messageId":"d"})");
  EXPECT_EQ(Events(new_c).size(), 8u);
}

TEST_F(TrackerTest, GroupLinksThePersonToTheOrganizationOnce) {
  Send(R"({"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme Ltd","industry":"Retail"},"messageId":"g1"})");
  Send(R"({"type":"group","userId":"u1","groupId":"acme","messageId":"g2"})");
  auto org = store_->FindByIdentifier({"segment.group", "acme"});
  ASSERT_TRUE(org.ok() && org->has_value());
  auto view = store_->View(UserCustomer("u1"));
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->links.size(), 1u);
  EXPECT_EQ(view->links[0].relationship.type, "works_for");
  EXPECT_EQ(view->links[0].relationship.to, **org);
  EXPECT_EQ(view->links[0].relationship.source, "web");
  auto o = store_->Get(**org);
  EXPECT_EQ(o->kind, customer::Kind::kOrganization);
  EXPECT_EQ(o->display_name, "Acme Ltd");
}

TEST_F(TrackerTest, OrderEventsBecomeTransactions) {
  Send(R"({"type":"track","userId":"u1","event":"Order Completed","messageId":"o1",
           "properties":{"order_id":"50314b8e","revenue":25,"currency":"eur","products":[
             {"product_id":"507f1f77","sku":"45790-32","name":"Monopoly","price":19,"quantity":1,"category":"Games"},
             {"product_id":"505bd76785ebb509fc183733","sku":"46493-32","name":"Uno","price":3,"quantity":2}]}},
          {"type":"track","userId":"u1","event":"Order Refunded","messageId":"o2","properties":{"order_id":"50314b8e","total":6}},
          {"type":"track","userId":"u1","event":"Product Added","messageId":"o3","properties":{"sku":"x","price":5}})");
  auto view = store_->View(UserCustomer("u1"));
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->recent_transactions.size(), 3u);
  EXPECT_EQ(view->transaction_summary.count, 3);
  EXPECT_EQ(view->transaction_summary.revenue, Money::FromWhole(19 + 6 - 6));
  for (const auto& t : view->recent_transactions) {
    EXPECT_EQ(t.source, "web");
    if (t.sku == "46493-32") {
      EXPECT_EQ(t.amount, Money::FromWhole(6));
      EXPECT_DOUBLE_EQ(t.quantity, 2);
      EXPECT_EQ(t.currency, "EUR");
    }
  }
  EXPECT_EQ(Events(UserCustomer("u1"), EventType::kTrack).size(), 3u);
}

TEST_F(TrackerTest, ChangeFeedGetsEveryAcceptedEventInOrder) {
  std::vector<StoredEvent> seen;
  int64_t h = tracker_->Subscribe([&](const std::vector<StoredEvent>& events) {
    seen.insert(seen.end(), events.begin(), events.end());
  });
  Send(R"({"type":"track","userId":"u1","event":"A","messageId":"1"},{"type":"track","userId":"u1","event":"B","messageId":"2"})");
  Send(R"({"type":"track","userId":"u1","event":"A","messageId":"1"})");  // a duplicate: not published
  tracker_->Unsubscribe(h);
  Send(R"({"type":"track","userId":"u1","event":"C","messageId":"3"})");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].event.event, "A");
  EXPECT_EQ(seen[1].event.event, "B");
  EXPECT_LT(seen[0].seq, seen[1].seq);
  EXPECT_EQ(seen[0].customer_id, UserCustomer("u1"));
}

TEST_F(TrackerTest, ListEventsFiltersAndPages) {
  Send(R"({"type":"page","userId":"u1","name":"A","messageId":"1","timestamp":"2026-02-01T00:00:00Z"},
          {"type":"track","userId":"u1","event":"B","messageId":"2","timestamp":"2026-02-10T00:00:00Z"},
          {"type":"page","userId":"u1","name":"C","messageId":"3","timestamp":"2026-02-20T00:00:00Z"})");
  CustomerId c = UserCustomer("u1");
  EXPECT_EQ(Events(c, EventType::kPage).size(), 2u);
  EventQuery q;
  q.customer_id = c;
  q.since = *ParseRfc3339("2026-02-05T00:00:00Z");
  EXPECT_EQ(tracker_->ListEvents(q)->items.size(), 2u);
  q = {};
  q.customer_id = c;
  q.limit = 2;
  auto first = tracker_->ListEvents(q);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].event.name, "C");
  ASSERT_FALSE(first->next_cursor.empty());
  q.after_seq = std::stoll(first->next_cursor);
  auto second = tracker_->ListEvents(q);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].event.name, "A");
  EXPECT_TRUE(second->next_cursor.empty());
  q.limit = 0;
  EXPECT_EQ(tracker_->ListEvents(q).status().field(), "limit");
}

TEST_F(TrackerTest, EventsAfterReadsWhatTheFeedPublishedOldestFirst) {
  EXPECT_EQ(tracker_->LastPublishedSeq(), 0);
  auto none = tracker_->EventsAfter(0, 10);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  // The published mark is raised before the subscribers run: a reader that
  // read up to it and subscribed earlier gets every later event on the feed.
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> seen;  // (last seq of a batch, LastPublishedSeq then)
  int64_t h = tracker_->Subscribe([&](const std::vector<StoredEvent>& events) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(events.back().seq, tracker_->LastPublishedSeq());
  });
  Send(R"({"type":"track","anonymousId":"anon-1","event":"A","messageId":"1"},
          {"type":"track","userId":"u1","event":"B","messageId":"2"},
          {"type":"page","userId":"u2","name":"C","messageId":"3"})");
  Send(R"({"type":"track","userId":"u1","event":"D","messageId":"4"})");
  // Write answers before the events are published: wait for the feed.
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (seen.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  tracker_->Unsubscribe(h);
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& [last, published] : seen) EXPECT_EQ(last, published);
  const int64_t last = tracker_->LastPublishedSeq();
  EXPECT_EQ(last, seen.back().first);

  auto first = tracker_->EventsAfter(0, 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].event.event, "A");
  EXPECT_EQ((*first)[0].customer_id, 0) << "an anonymous visitor not linked yet";
  EXPECT_EQ((*first)[1].event.event, "B");
  EXPECT_EQ((*first)[1].customer_id, UserCustomer("u1"));
  EXPECT_LT((*first)[0].seq, (*first)[1].seq);
  auto rest = tracker_->EventsAfter((*first)[1].seq, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].event.name, "C");
  EXPECT_EQ((*rest)[0].event.type, EventType::kPage);
  EXPECT_EQ((*rest)[1].event.event, "D");
  EXPECT_EQ((*rest)[1].seq, last);
  EXPECT_TRUE(tracker_->EventsAfter(last, 10)->empty());

  // Read back after linking: the event belongs to its customer now.
  Send(R"({"type":"identify","anonymousId":"anon-1","userId":"u9","messageId":"5"})");
  auto relinked = tracker_->EventsAfter(0, 1);
  ASSERT_TRUE(relinked.ok());
  ASSERT_EQ(relinked->size(), 1u);
  EXPECT_EQ((*relinked)[0].customer_id, UserCustomer("u9"));

  // A new tracker on the same data starts with every stored event readable.
  Close();
  Open();
  auto all = tracker_->EventsAfter(0, 10'000);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->back().event.type, EventType::kIdentify);
  EXPECT_EQ(tracker_->LastPublishedSeq(), all->back().seq);

  EXPECT_EQ(tracker_->EventsAfter(-1, 10).status().field(), "afterSeq");
  EXPECT_EQ(tracker_->EventsAfter(0, 0).status().field(), "limit");
  EXPECT_EQ(tracker_->EventsAfter(0, 10'001).status().field(), "limit");
}

TEST_F(TrackerTest, FullQueueIsUnavailableNotUnboundedMemory) {
  Close();
  TrackerOptions o;
  o.queue_capacity = 3;
  Open(o);
  auto d = DecodeBatch(R"({"batch":[{"type":"track","userId":"u","event":"e"},{"type":"track","userId":"u","event":"e"},
                                    {"type":"track","userId":"u","event":"e"},{"type":"track","userId":"u","event":"e"}]})",
                       clock_.Now());
  ASSERT_TRUE(d.ok());
  Status s = tracker_->Submit(source_, d->events, [](Result<WriteOutcome>) { FAIL() << "must not be called"; });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  d->events.pop_back();
  auto r = tracker_->Write(source_, d->events);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 3);
}

TEST_F(TrackerTest, DerivedWritesOfACrashAreReplayedOnceOnOpen) {
  Send(R"({"type":"track","userId":"u1","event":"Order Completed","messageId":"o1","properties":{"total":10}},
          {"type":"identify","userId":"u1","messageId":"i1","traits":{"firstName":"Grace"}})");
  CustomerId c = UserCustomer("u1");
  Close();
  // As if the process died after the events' commit, before the derived
  // writes: the mark is behind and the derived rows are gone.
  {
    auto db = storage::OpenSqlite((dir_ / "t.db").string());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->WithConnection([](storage::Connection& conn) -> Status {
                       RP_RETURN_IF_ERROR(conn.Execute("UPDATE tracking_state SET value = 0").status());
                       return conn.Execute("DELETE FROM customer_transactions").status();
                     }).ok());
  }
  Open();
  auto view = store_->View(c);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->transaction_summary.count, 1) << "replayed";
  EXPECT_EQ(std::get<std::string>(view->customer.attributes.at("firstName")), "Grace");
  Close();
  Open();  // replay again from a behind mark: idempotent
  {
    ASSERT_TRUE(db_->WithConnection([](storage::Connection& conn) -> Status {
                   return conn.Execute("UPDATE tracking_state SET value = 0").status();
                 }).ok());
  }
  Close();
  Open();
  EXPECT_EQ(store_->View(c)->transaction_summary.count, 1);
}

TEST_F(TrackerTest, ConcurrentRequestsShareCommits) {
  std::vector<std::thread> threads;
  std::atomic<int64_t> accepted{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        std::string batch;
        for (int i = 0; i < 10; ++i) {
          batch += std::string(i ? "," : "") + R"({"type":"track","userId":"u)" + std::to_string(t) +
                   R"(","event":"e","messageId":")" + std::to_string(t) + "-" + std::to_string(r) + "-" +
                   std::to_string(i) + "\"}";
        }
        accepted += Send(batch).accepted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 8 * 20 * 10);
  for (int t = 0; t < 8; ++t) EXPECT_EQ(Events(UserCustomer("u" + std::to_string(t))).size(), 200u);
}

}  // namespace
}  // namespace rapport::ingest
