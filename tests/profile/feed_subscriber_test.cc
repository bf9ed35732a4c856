// The profile store as a change-feed subscriber, on SQLite and (under
// scripts/with-postgres.sh) PostgreSQL: bulk upserts, attribute updates and a
// merge and its undo written after the build reach the store and its segment
// counts, and a second store subscribed under its own name resumes from its
// durable mark.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "customer/customer.h"
#include "identity/store.h"
#include "profile/profile.h"
#include "storage/change_feed.h"
#include "testing/test_database.h"

namespace rapport::profile {
namespace {

using namespace std::chrono_literals;

#ifdef __SANITIZE_ADDRESS__
constexpr auto kWait = 60s;
#else
constexpr auto kWait = 20s;
#endif

class ProfileFeedTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool UsePostgres() { return GetParam(); }

  void SetUp() override {
    if (UsePostgres() && !rapport::testing::PostgresAvailable()) {
      GTEST_SKIP() << "RAPPORT_TEST_POSTGRES is not set (run under scripts/with-postgres.sh)";
    }
    dir_ = rapport::testing::FreshTestDir("pfeed");
    auto db = rapport::testing::OpenTestDatabase(UsePostgres(), dir_, "pfeed");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto store = customer::CustomerStore::Open(db_.get(), SystemClock::Default());
    ASSERT_TRUE(store.ok());
    customers_ = std::move(*store);
    auto feed = storage::ChangeFeed::Open(db_.get());
    ASSERT_TRUE(feed.ok());
    feed_ = std::move(*feed);
  }
  void TearDown() override {
    feed_.reset();
    customers_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<ProfileStore> Build() {
    auto p = ProfileStore::Open(db_.get(), DefaultProfileOptions(SystemClock::Default()->Now()));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }
  void Upsert(const std::string& key, const std::string& city) {
    customer::CustomerRecord r;
    r.source_key = key;
    r.attributes = {{"city", city}};
    auto w = customers_->UpsertCustomers("billing", {r});
    ASSERT_TRUE(w.ok() && w->errors[0].ok());
  }
  int64_t Count(ProfileStore& p, const char* condition) {
    auto n = p.Count(condition);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<customer::CustomerStore> customers_;
  std::unique_ptr<storage::ChangeFeed> feed_;
};

TEST_P(ProfileFeedTest, WritesAfterTheBuildReachTheStoreThroughTheFeed) {
  Upsert("1", "Oslo");
  auto head = feed_->Head();
  ASSERT_TRUE(head.ok());
  auto profile = Build();
  auto sub = ProfileFeedSubscriber::Start(feed_.get(), profile.get(), *head);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(Count(*profile, "city = \"Oslo\""), 1);

  Upsert("2", "Oslo");
  Upsert("1", "Bergen");
  ASSERT_TRUE((*sub)->CatchUp(kWait).ok());
  EXPECT_EQ(Count(*profile, "city = \"Oslo\""), 1);
  EXPECT_EQ(Count(*profile, "city = \"Bergen\""), 1);

  // A merge and its undo name both customers; the store re-applies them.
  auto one = customers_->FindByIdentifier({"billing", "1"});
  auto two = customers_->FindByIdentifier({"billing", "2"});
  ASSERT_TRUE(one.ok() && *one && two.ok() && *two);
  auto identity = identity::IdentityStore::Open(customers_.get());
  ASSERT_TRUE(identity.ok());
  identity::MergeRequest req;
  req.actor = "test";
  auto m = (*identity)->MergeCustomers(**one, **two, req);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE((*identity)->Undo(m->id, "test").ok());
  ASSERT_TRUE((*sub)->CatchUp(kWait).ok());
  auto merges = feed_->Read(*head, 1000);
  ASSERT_TRUE(merges.ok());
  int merge_changes = 0;
  for (const auto& c : *merges) merge_changes += c.entity == "merge";
  EXPECT_EQ(merge_changes, 4);
  EXPECT_EQ(Count(*profile, "city = \"Oslo\""), 1);

  // A second store, subscribed under its own name, was built now: it starts
  // at the head and follows from there; its mark is its own.
  auto head2 = feed_->Head();
  auto other = Build();
  auto sub2 = ProfileFeedSubscriber::Start(feed_.get(), other.get(), *head2, "profile.replica");
  ASSERT_TRUE(sub2.ok());
  Upsert("3", "Bergen");
  ASSERT_TRUE((*sub2)->CatchUp(kWait).ok());
  ASSERT_TRUE((*sub)->CatchUp(kWait).ok());
  EXPECT_EQ(Count(*other, "city = \"Bergen\""), 2);
  EXPECT_EQ(Count(*profile, "city = \"Bergen\""), 2);
}

INSTANTIATE_TEST_SUITE_P(Database, ProfileFeedTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

}  // namespace
}  // namespace rapport::profile
