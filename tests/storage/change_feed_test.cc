// The change feed on SQLite and (under scripts/with-postgres.sh) PostgreSQL:
// appends in the writer's transaction, gap-free in commit order under
// concurrent writers, subscribers woken without polling, resumed from their
// durable marks, retried with backoff without stalling others, retention.

#include "storage/change_feed.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "testing/test_database.h"

namespace rapport::storage {
namespace {

using namespace std::chrono_literals;

#ifdef __SANITIZE_ADDRESS__
constexpr auto kWait = 60s;
#else
constexpr auto kWait = 20s;
#endif

ChangeRecord Record(int64_t customer, std::string key) {
  return ChangeRecord{"customer.updated", customer, "customer", std::move(key), "{\"n\":1}"};
}

// Collects what a subscriber saw.
struct Seen {
  std::mutex mu;
  std::vector<int64_t> seqs;
  void Add(const std::vector<Change>& batch) {
    std::lock_guard lock(mu);
    for (const Change& c : batch) seqs.push_back(c.seq);
  }
  std::vector<int64_t> Get() {
    std::lock_guard lock(mu);
    return seqs;
  }
};

class ChangeFeedTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool UsePostgres() { return GetParam(); }

  void SetUp() override {
    if (UsePostgres() && !rapport::testing::PostgresAvailable()) {
      GTEST_SKIP() << "RAPPORT_TEST_POSTGRES is not set (run under scripts/with-postgres.sh)";
    }
    dir_ = rapport::testing::FreshTestDir("feed");
    auto db = rapport::testing::OpenTestDatabase(UsePostgres(), dir_, "feed");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(MigrateChangeFeed(*db_).ok());
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Status Append(std::vector<ChangeRecord> records, Timestamp at = Timestamp{1'000'000}) {
    return db_->WithTransaction([&](Connection& c) { return AppendChanges(c, records, at); });
  }

  std::unique_ptr<ChangeFeed> OpenFeed(ChangeFeedOptions o = {}) {
    auto f = ChangeFeed::Open(db_.get(), o);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(*f) : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_P(ChangeFeedTest, AppendsOnlyWithItsCommittedTransaction) {
  auto feed = OpenFeed();
  ASSERT_TRUE(Append({Record(1, "1"), Record(2, "2")}).ok());
  // A failed write leaves no change behind and uses up no sequence number.
  Status failed = db_->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(AppendChanges(c, {Record(3, "3")}, Timestamp{2}));
    return Status::Conflict("the write itself failed");
  });
  EXPECT_EQ(failed.code(), StatusCode::kConflict);
  ASSERT_TRUE(Append({Record(4, "4")}, Timestamp{5'000'000}).ok());
  auto head = feed->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, 3);
  auto all = feed->Read(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].seq, 1);
  EXPECT_EQ((*all)[2].seq, 3);
  EXPECT_EQ((*all)[2].customer_id, 4);
  EXPECT_EQ((*all)[2].key, "4");
  EXPECT_EQ((*all)[2].kind, "customer.updated");
  EXPECT_EQ((*all)[2].entity, "customer");
  EXPECT_EQ((*all)[2].data, "{\"n\":1}");
  EXPECT_EQ((*all)[2].committed_at.micros, 5'000'000);
  auto after = feed->Read(2, 100);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(feed->Read(0, 0).status().field(), "limit");
}

TEST_P(ChangeFeedTest, SubscriberIsWokenAfterCommitInOrderedBoundedBatches) {
  ChangeFeedOptions o;
  o.poll_interval = 60s;  // only the wake-up (in process, or NOTIFY) can deliver in time
  // What the handlers write to outlives the feed, whose threads run them.
  Seen seen;
  std::atomic<size_t> largest{0};
  auto feed = OpenFeed(o);
  SubscribeOptions so;
  so.batch_size = 7;
  ASSERT_TRUE(feed->Subscribe("profile", [&](const std::vector<Change>& b) {
                    largest = std::max(largest.load(), b.size());
                    seen.Add(b);
                    return Status::Ok();
                  }, so).ok());
  std::vector<ChangeRecord> records;
  for (int i = 1; i <= 50; ++i) records.push_back(Record(i, std::to_string(i)));
  auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(Append(records).ok());
  ASSERT_TRUE(feed->WaitUntil("profile", 50, kWait).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - began, 30s);
  std::vector<int64_t> expect;
  for (int64_t i = 1; i <= 50; ++i) expect.push_back(i);
  EXPECT_EQ(seen.Get(), expect);
  EXPECT_LE(largest.load(), 7u);
  auto subs = feed->Subscribers();
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].mark, 50);
  EXPECT_EQ(subs[0].delivered, 50);
  EXPECT_EQ(feed->Subscribe("profile", [](const std::vector<Change>&) { return Status::Ok(); }).code(),
            StatusCode::kConflict);
  EXPECT_EQ(feed->Subscribe("Bad Name", [](const std::vector<Change>&) { return Status::Ok(); }).field(), "name");
}

TEST_P(ChangeFeedTest, ARestartResumesFromTheDurableMark) {
  Seen first, second;
  {
    auto feed = OpenFeed();
    ASSERT_TRUE(feed->Subscribe("profile", [&](const std::vector<Change>& b) {
                      first.Add(b);
                      return Status::Ok();
                    }).ok());
    ASSERT_TRUE(Append({Record(1, "1"), Record(2, "2")}).ok());
    ASSERT_TRUE(feed->WaitUntil("profile", 2, kWait).ok());
  }
  ASSERT_TRUE(Append({Record(3, "3")}).ok());  // while nobody subscribes
  auto feed = OpenFeed();
  ASSERT_TRUE(feed->Subscribe("profile", [&](const std::vector<Change>& b) {
                    second.Add(b);
                    return Status::Ok();
                  }).ok());
  ASSERT_TRUE(feed->CatchUp("profile", kWait).ok());
  EXPECT_EQ(first.Get(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(second.Get(), (std::vector<int64_t>{3}));  // nothing acknowledged comes again
}

TEST_P(ChangeFeedTest, AFailingSubscriberRetriesWithBackoffWithoutStallingOthers) {
  // What the handlers write to outlives the feed, whose threads run them.
  Seen healthy, flaky;
  std::atomic<int> attempts{0};
  auto feed = OpenFeed();
  SubscribeOptions so;
  so.initial_backoff = 20ms;
  so.max_backoff = 80ms;
  ASSERT_TRUE(feed->Subscribe("flaky", [&](const std::vector<Change>& b) -> Status {
                    for (const Change& c : b) {
                      if (c.customer_id == 2 && ++attempts <= 3) return Status::Unavailable("customer 2 is locked");
                    }
                    flaky.Add(b);
                    return Status::Ok();
                  }, so).ok());
  ASSERT_TRUE(feed->Subscribe("healthy", [&](const std::vector<Change>& b) {
                    healthy.Add(b);
                    return Status::Ok();
                  }).ok());
  ASSERT_TRUE(Append({Record(1, "1")}).ok());
  ASSERT_TRUE(Append({Record(2, "2")}).ok());
  ASSERT_TRUE(Append({Record(3, "3")}).ok());
  ASSERT_TRUE(feed->WaitUntil("healthy", 3, kWait).ok());
  ASSERT_TRUE(feed->WaitUntil("flaky", 3, kWait).ok());
  EXPECT_EQ(healthy.Get(), (std::vector<int64_t>{1, 2, 3}));
  // The failed batch came again until it succeeded: each change once, in order.
  EXPECT_EQ(flaky.Get(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(attempts.load(), 4);
  for (const auto& s : feed->Subscribers()) {
    if (s.name == "flaky") {
      EXPECT_EQ(s.failures, 3);
      EXPECT_NE(s.last_error.find("customer 2 is locked"), std::string::npos);
    } else {
      EXPECT_EQ(s.failures, 0);
    }
  }
}

TEST_P(ChangeFeedTest, ConcurrentWritersCommitGapFreeInSequenceOrder) {
  // What the handlers write to outlives the feed, whose threads run them.
  Seen seen;
  std::atomic<bool> ordered{true};
  std::atomic<int64_t> last{0};
  std::atomic<int> failures{0};
  auto feed = OpenFeed();
  SubscribeOptions so;
  so.batch_size = 13;
  ASSERT_TRUE(feed->Subscribe("checker", [&](const std::vector<Change>& b) {
                    for (const Change& c : b) {
                      if (c.seq != last + 1) ordered = false;
                      last = c.seq;
                    }
                    seen.Add(b);
                    return Status::Ok();
                  }, so).ok());
  constexpr int kThreads = 4, kEach = 60;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Some work in the transaction before and after the append, so
        // transactions overlap and would commit out of order if they could.
        Status s = db_->WithTransaction([&](Connection& c) -> Status {
          RP_RETURN_IF_ERROR(c.Query("SELECT COUNT(*) FROM changes").status());
          RP_RETURN_IF_ERROR(AppendChanges(c, {Record(t * 1000 + i, "k")}, Timestamp{1}));
          return c.Query("SELECT COUNT(*) FROM change_subscribers").status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(feed->WaitUntil("checker", kThreads * kEach, kWait).ok());
  EXPECT_TRUE(ordered.load());
  auto got = seen.Get();
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), got.size());
}

TEST_P(ChangeFeedTest, RetentionSparesLiveSubscribersAndAStaleOneRebuilds) {
  ManualClock clock(Timestamp{1'000'000'000'000});
  ChangeFeedOptions o;
  o.clock = &clock;
  o.retention = std::chrono::hours(1);
  o.retention_interval = std::chrono::hours(100);  // only when called
  // What the handlers write to outlives the feed, whose threads run them.
  Seen slow_seen;
  std::atomic<bool> slow_may_go{false};
  std::atomic<int> rebuilds{0};
  Seen stale_seen;
  auto feed = OpenFeed(o);
  // "stale" subscribes once and goes away (a removed module, a node down).
  ASSERT_TRUE(feed->Subscribe("stale", [](const std::vector<Change>&) { return Status::Ok(); }).ok());
  feed->Unsubscribe("stale");
  ASSERT_TRUE(Append({Record(1, "1"), Record(2, "2")}, clock.Now()).ok());
  clock.Advance(int64_t{2} * 3600 * 1'000'000);
  SubscribeOptions quick_retry;
  quick_retry.initial_backoff = 10ms;
  quick_retry.max_backoff = 50ms;
  // Retention goes by the stored marks: store each batch's at once.
  quick_retry.ack_interval = 0ms;
  ASSERT_TRUE(feed->Subscribe("slow", [&](const std::vector<Change>& b) -> Status {
                    if (!slow_may_go) return Status::Unavailable("not yet");
                    slow_seen.Add(b);
                    return Status::Ok();
                  }, quick_retry).ok());
  ASSERT_TRUE(feed->Subscribe("fast", [](const std::vector<Change>&) { return Status::Ok(); }, quick_retry).ok());
  ASSERT_TRUE(feed->WaitUntil("fast", 2, kWait).ok());
  // "slow" is live but has not acknowledged: nothing may go.
  auto none = feed->ApplyRetention();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  slow_may_go = true;
  ASSERT_TRUE(feed->WaitUntil("slow", 2, kWait).ok());
  auto deleted = feed->ApplyRetention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_TRUE(feed->Read(0, 10)->empty());
  // Younger changes stay.
  ASSERT_TRUE(Append({Record(3, "3")}, clock.Now()).ok());
  ASSERT_TRUE(feed->WaitUntil("slow", 3, kWait).ok());
  EXPECT_EQ(*feed->ApplyRetention(), 0);
  EXPECT_EQ(feed->Read(0, 10)->size(), 1u);
  // "stale" comes back below the retained history: it rebuilds, then goes on.
  SubscribeOptions so;
  so.rebuild = [&] {
    ++rebuilds;
    return Status::Ok();
  };
  ASSERT_TRUE(feed->Subscribe("stale", [&](const std::vector<Change>& b) {
                    stale_seen.Add(b);
                    return Status::Ok();
                  }, so).ok());
  ASSERT_TRUE(feed->WaitUntil("stale", 3, kWait).ok());
  EXPECT_EQ(rebuilds.load(), 1);
  EXPECT_TRUE(stale_seen.Get().empty());  // seq 3 was before the rebuild's head
  ASSERT_TRUE(Append({Record(4, "4")}, clock.Now()).ok());
  ASSERT_TRUE(feed->WaitUntil("stale", 4, kWait).ok());
  EXPECT_EQ(stale_seen.Get(), (std::vector<int64_t>{4}));
  EXPECT_EQ(rebuilds.load(), 1);
}

TEST_P(ChangeFeedTest, StartAfterSkipsWhatTheSubscribersStateHoldsAlready) {
  ASSERT_TRUE(Append({Record(1, "1"), Record(2, "2")}).ok());
  // What the handlers write to outlives the feed, whose threads run them.
  Seen seen;
  auto feed = OpenFeed();
  SubscribeOptions so;
  so.start_after = 2;  // e.g. an in-memory store just built from the tables
  ASSERT_TRUE(feed->Subscribe("profile", [&](const std::vector<Change>& b) {
                    seen.Add(b);
                    return Status::Ok();
                  }, so).ok());
  ASSERT_TRUE(Append({Record(3, "3")}).ok());
  ASSERT_TRUE(feed->WaitUntil("profile", 3, kWait).ok());
  EXPECT_EQ(seen.Get(), (std::vector<int64_t>{3}));
}

TEST_P(ChangeFeedTest, ANewSubscriberMayStartAtTheHeadAndThenResumesFromItsMark) {
  ASSERT_TRUE(Append({Record(1, "1"), Record(2, "2")}).ok());  // history before it existed
  Seen first, second;
  SubscribeOptions so;
  so.new_starts_at_head = true;
  {
    auto feed = OpenFeed();
    ASSERT_TRUE(feed->Subscribe("triggers", [&](const std::vector<Change>& b) {
                      first.Add(b);
                      return Status::Ok();
                    }, so).ok());
    ASSERT_TRUE(Append({Record(3, "3")}).ok());
    ASSERT_TRUE(feed->WaitUntil("triggers", 3, kWait).ok());
  }
  ASSERT_TRUE(Append({Record(4, "4")}).ok());  // while it is away: not skipped
  auto feed = OpenFeed();
  ASSERT_TRUE(feed->Subscribe("triggers", [&](const std::vector<Change>& b) {
                    second.Add(b);
                    return Status::Ok();
                  }, so).ok());
  ASSERT_TRUE(feed->CatchUp("triggers", kWait).ok());
  EXPECT_EQ(first.Get(), (std::vector<int64_t>{3}));
  EXPECT_EQ(second.Get(), (std::vector<int64_t>{4}));
}

INSTANTIATE_TEST_SUITE_P(Database, ChangeFeedTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

// A process killed after its handler processed a batch but before the mark
// was stored gets the batch again on restart: at least once.
TEST(ChangeFeedCrashTest, AKillBetweenProcessingAndAckingRedelivers) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport-feed-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "t.db").string();
  auto processed = dir / "processed.txt";
  {
    auto db = OpenSqlite(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigrateChangeFeed(**db).ok());
    ASSERT_TRUE((*db)->WithTransaction([](Connection& c) {
                       return AppendChanges(c, {Record(1, "1"), Record(2, "2")}, Timestamp{1});
                     }).ok());
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child processes the batch, writes down what it did, and dies
    // before the feed can store its mark.
    auto db = OpenSqlite(path);
    if (!db.ok()) std::_Exit(2);
    auto feed = ChangeFeed::Open(db->get());
    if (!feed.ok()) std::_Exit(3);
    Status s = (*feed)->Subscribe("profile", [&](const std::vector<Change>& b) -> Status {
      std::ofstream out(processed, std::ios::app);
      for (const Change& c : b) out << c.seq << "\n";
      out.close();
      std::_Exit(0);
    });
    if (!s.ok()) std::_Exit(4);
    std::this_thread::sleep_for(kWait);
    std::_Exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok());
  auto feed = ChangeFeed::Open(db->get());
  ASSERT_TRUE(feed.ok());
  Seen again;
  ASSERT_TRUE((*feed)->Subscribe("profile", [&](const std::vector<Change>& b) {
                       again.Add(b);
                       return Status::Ok();
                     }).ok());
  ASSERT_TRUE((*feed)->WaitUntil("profile", 2, kWait).ok());
  EXPECT_EQ(again.Get(), (std::vector<int64_t>{1, 2}));
  std::ifstream in(processed);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "1\n2\n");
  feed->reset();
  db->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::storage
