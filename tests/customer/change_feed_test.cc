// Every customer-store write appends its change to the feed in its own
// transaction, on SQLite and (under scripts/with-postgres.sh) PostgreSQL:
// what a write that failed or changed nothing appends is nothing.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "customer/customer.h"
#include "storage/change_feed.h"
#include "testing/test_database.h"

namespace rapport::customer {
namespace {

class CustomerChangesTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool UsePostgres() { return GetParam(); }

  void SetUp() override {
    if (UsePostgres() && !rapport::testing::PostgresAvailable()) {
      GTEST_SKIP() << "RAPPORT_TEST_POSTGRES is not set (run under scripts/with-postgres.sh)";
    }
    dir_ = rapport::testing::FreshTestDir("cfeed");
    auto db = rapport::testing::OpenTestDatabase(UsePostgres(), dir_, "cfeed");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto store = CustomerStore::Open(db_.get(), &clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto feed = storage::ChangeFeed::Open(db_.get());
    ASSERT_TRUE(feed.ok());
    feed_ = std::move(*feed);
  }
  void TearDown() override {
    feed_.reset();
    store_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // The changes appended since the last call, as "kind customer".
  std::vector<std::string> Since() {
    auto got = feed_->Read(last_, 10000);
    EXPECT_TRUE(got.ok());
    std::vector<std::string> out;
    for (const auto& c : *got) {
      EXPECT_EQ(c.seq, last_ + 1);  // gap-free
      last_ = c.seq;
      out.push_back(c.kind + " " + std::to_string(c.customer_id));
    }
    return out;
  }
  std::string Id(CustomerId id) { return std::to_string(id); }

  ManualClock clock_{Timestamp{1'760'000'000'000'000}};
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<CustomerStore> store_;
  std::unique_ptr<storage::ChangeFeed> feed_;
  int64_t last_ = 0;
};

TEST_P(CustomerChangesTest, EveryWriteAppendsItsChange) {
  NewCustomer ann;
  ann.attributes = {{"firstName", std::string("Ann")}};
  ann.identifiers = {{"email", "ann@example.com"}};
  auto a = store_->Create(ann);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  NewCustomer home;
  home.kind = Kind::kHousehold;
  home.attributes = {{"name", std::string("Ann's home")}};
  auto h = store_->Create(home);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(Since(), (std::vector<std::string>{"customer.created " + Id(a->id), "customer.created " + Id(h->id)}));

  // A failed write appends nothing; one that changes nothing neither.
  NewCustomer taken;
  taken.identifiers = {{"email", "ann@example.com"}};
  EXPECT_EQ(store_->Create(taken).status().code(), StatusCode::kConflict);
  CustomerPatch same;
  same.attributes = {{"firstName", std::string("Ann")}};
  ASSERT_TRUE(store_->Update(a->id, same).ok());
  EXPECT_TRUE(Since().empty());

  CustomerPatch p;
  p.attributes = {{"city", std::string("Berlin")}};
  ASSERT_TRUE(store_->Update(a->id, p).ok());
  auto latest = feed_->Read(last_, 1);
  ASSERT_TRUE(latest.ok() && latest->size() == 1u);
  EXPECT_EQ((*latest)[0].data, "{\"source\":\"api\",\"attributes\":[\"city\"],\"identifiers\":false}");
  EXPECT_EQ((*latest)[0].entity, "customer");
  EXPECT_EQ((*latest)[0].key, Id(a->id));
  EXPECT_EQ((*latest)[0].committed_at, clock_.Now());
  EXPECT_EQ(Since(), (std::vector<std::string>{"customer.updated " + Id(a->id)}));

  ASSERT_TRUE(store_->DefineAttribute({"loyaltyTier", AttributeType::kString, false, "tier"}).ok());
  EXPECT_EQ(Since(), (std::vector<std::string>{"attribute.defined 0"}));

  Relationship r;
  r.from = a->id;
  r.to = h->id;
  r.type = "member_of";
  auto rel = store_->AddRelationship(r);
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_EQ(Since(), (std::vector<std::string>{"relationship.added " + Id(a->id), "relationship.added " + Id(h->id)}));
  clock_.Advance(1'000'000);
  ASSERT_TRUE(store_->EndRelationship(rel->id, clock_.Now()).ok());
  EXPECT_EQ(Since(), (std::vector<std::string>{"relationship.ended " + Id(a->id), "relationship.ended " + Id(h->id)}));

  Account acc;
  acc.customer_id = a->id;
  acc.source = "bank";
  acc.source_key = "A1";
  acc.product = "checking";
  ASSERT_TRUE(store_->UpsertAccount(acc).ok());
  ASSERT_TRUE(store_->UpsertAccount(acc).ok());  // unchanged
  Transaction t;
  t.customer_id = a->id;
  t.source = "shop";
  t.source_key = "T1";
  t.amount = *Money::Parse("19.99");
  ASSERT_TRUE(store_->AddTransaction(t).ok());
  ASSERT_TRUE(store_->AddTransaction(t).ok());  // idempotent on its key
  Interaction i;
  i.customer_id = a->id;
  i.source = "crm";
  i.type = "call";
  ASSERT_TRUE(store_->AddInteraction(i).ok());
  Consent c;
  c.customer_id = a->id;
  c.channel = "email";
  c.granted = true;
  ASSERT_TRUE(store_->SetConsent(c).ok());
  EXPECT_EQ(Since(), (std::vector<std::string>{"account.created " + Id(a->id), "transaction.added " + Id(a->id),
                                               "interaction.added " + Id(a->id), "consent.set " + Id(a->id)}));
}

TEST_P(CustomerChangesTest, BulkWritesAppendOneChangePerRecordWritten) {
  std::vector<CustomerRecord> records(3);
  records[0].source_key = "1";
  records[0].attributes = {{"firstName", std::string("Bo")}};
  records[1].source_key = "2";
  records[1].attributes = {{"firstName", std::string("Cy")}};
  records[2].source_key = "3";
  records[2].attributes = {{"firstName", std::string("Di")}, {"bogus", std::string("x")}};  // refused
  auto first = store_->UpsertCustomers("billing", records);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->created, 2);
  auto bo = store_->FindByIdentifier({"billing", "1"});
  auto cy = store_->FindByIdentifier({"billing", "2"});
  ASSERT_TRUE(bo.ok() && *bo && cy.ok() && *cy);
  EXPECT_EQ(Since(), (std::vector<std::string>{"customer.created " + Id(**bo), "customer.created " + Id(**cy)}));

  records[1].attributes = {{"firstName", std::string("Cyd")}};
  auto second = store_->UpsertCustomers("billing", records);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->unchanged, 1);
  EXPECT_EQ(Since(), (std::vector<std::string>{"customer.updated " + Id(**cy)}));

  CustomerPatch tier;
  tier.attributes = {{"city", std::string("Rome")}};
  auto upd = store_->UpdateAttributes({{**bo, tier}, {999999, tier}});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(Since(), (std::vector<std::string>{"customer.updated " + Id(**bo)}));

  Transaction t;
  t.customer_id = **bo;
  t.source = "shop";
  t.source_key = "O1";
  t.amount = *Money::Parse("5");
  ASSERT_TRUE(store_->AppendTransactions({t}).ok());
  ASSERT_TRUE(store_->AppendTransactions({t}).ok());  // stored already
  Interaction i;
  i.source = "crm";
  i.type = "visit";
  auto ix = store_->AddInteractions({{{"billing", "2"}, i}, {{"billing", "404"}, i}});
  ASSERT_TRUE(ix.ok());
  EXPECT_EQ(Since(), (std::vector<std::string>{"transaction.added " + Id(**bo), "interaction.added " + Id(**cy)}));
}

INSTANTIATE_TEST_SUITE_P(Database, CustomerChangesTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

}  // namespace
}  // namespace rapport::customer
