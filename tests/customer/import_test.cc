// Bulk upserts from source systems, and several threads using one store.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "customer/customer.h"
#include "customer_test_util.h"

namespace rapport::customer {
namespace {

CustomerRecord Record(std::string key, std::string first, std::string last, std::string city) {
  CustomerRecord r;
  r.source_key = std::move(key);
  r.attributes = {{"firstName", std::move(first)}, {"lastName", std::move(last)}, {"city", std::move(city)}};
  return r;
}

TEST_F(StoreTest, BatchUpsertReportsBadRecordsAndWritesTheRest) {
  std::vector<CustomerRecord> batch = {
      Record("1", "Anna", "Schmidt", "Berlin"),
      Record("2", "Ben", "Meyer", "Hamburg"),
      Record("3", "Carla", "Rossi", "Munich"),
      Record("4", "Dan", "Okafor", "Cologne"),
      Record("", "No", "Key", "Bonn"),
      Record("6", "Eve", "Kim", "Essen"),
      Record("7", "Finn", "Berg", "Kiel"),
  };
  batch[2].attributes["birthDate"] = std::string("1990-02-31");     // bad value
  batch[3].identifiers = {{"email", "anna@example.com"}};            // fine
  batch[5].identifiers = {{"billing", "x"}, {"email", "ANNA@example.com"}};  // taken by record 4
  batch[6].attributes["shoeSize"] = int64_t{44};                     // unknown attribute
  auto r = store_->UpsertCustomers("crm", batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->errors.size(), batch.size());
  struct Expect {
    StatusCode code;
    std::string field;
  };
  const Expect expected[] = {
      {StatusCode::kOk, ""},
      {StatusCode::kOk, ""},
      {StatusCode::kInvalidArgument, "/attributes/birthDate"},
      {StatusCode::kOk, ""},
      {StatusCode::kInvalidArgument, "/sourceKey"},
      {StatusCode::kConflict, "/identifiers/1"},
      {StatusCode::kInvalidArgument, "/attributes/shoeSize"},
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(r->errors[i].code(), expected[i].code) << i << ": " << r->errors[i].ToString();
    EXPECT_EQ(r->errors[i].field(), expected[i].field) << i;
  }
  EXPECT_EQ(r->created, 3);
  EXPECT_EQ(r->updated, 0);
  auto found = store_->FindByIdentifier({"crm", "4"});
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(store_->Get(**found)->display_name, "Dan Okafor");
  EXPECT_FALSE(store_->FindByIdentifier({"crm", "3"})->has_value());
  EXPECT_FALSE(store_->FindByIdentifier({"billing", "x"})->has_value());  // record 6 left nothing behind
  EXPECT_EQ(store_->UpsertCustomers("Bad Source", batch).status().field(), "/source");
}

TEST_F(StoreTest, BatchUpsertIsIdempotentAndHistorizesOnlyChanges) {
  std::vector<CustomerRecord> batch = {Record("1", "Anna", "Schmidt", "Berlin"),
                                       Record("2", "Ben", "Meyer", "Hamburg")};
  auto first = store_->UpsertCustomers("crm", batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->created, 2);
  clock_.Advance(kMicrosPerDay);
  auto again = store_->UpsertCustomers("crm", batch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->created, 0);
  EXPECT_EQ(again->unchanged, 2);

  clock_.Advance(kMicrosPerDay);
  batch[1].attributes["city"] = std::string("Bremen");
  batch[1].identifiers = {{"email", "ben@example.com"}};
  auto third = store_->UpsertCustomers("crm", batch);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->unchanged, 1);
  EXPECT_EQ(third->updated, 1);
  CustomerId ben = **store_->FindByIdentifier({"crm", "2"});
  auto h = store_->History(ben);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 4u);  // three first values, then one city change
  EXPECT_EQ(h->back().name, "city");
  EXPECT_EQ(h->back().source, "crm");
  auto g = store_->Get(ben);
  EXPECT_EQ(g->identifiers.size(), 2u);
  EXPECT_EQ(**store_->FindByIdentifier({"email", "ben@example.com"}), ben);
  // The email identifier is searchable: it fills the summary's email.
  SearchQuery q;
  q.q = "ben@example";
  auto s = store_->Search(q);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->items.size(), 1u);
  EXPECT_EQ(s->items[0].email, "ben@example.com");

  // A record may not change the kind of an existing customer.
  batch[0].kind = Kind::kOrganization;
  auto kind = store_->UpsertCustomers("crm", {batch[0]});
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(kind->errors[0].code(), StatusCode::kUnprocessable);
  EXPECT_EQ(kind->errors[0].field(), "/kind");
}

// Identifiers and search tokens of new customers are written at the end of
// a batch; records later in the same batch must still see them.
TEST_F(StoreTest, BatchSeesItsOwnEarlierRecords) {
  std::vector<CustomerRecord> batch = {
      Record("1", "Anna", "Schmidt", "Berlin"),
      Record("2", "Ben", "Meyer", "Hamburg"),
      Record("1", "Anna", "Weber", "Berlin"),  // the same customer, renamed
      Record("3", "Carla", "Rossi", "Munich"),
  };
  batch[1].identifiers = {{"email", "ben@example.com"}};
  batch[3].identifiers = {{"email", "BEN@example.com"}};  // taken by record 2
  auto r = store_->UpsertCustomers("crm", batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->created, 2);
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(r->errors[3].code(), StatusCode::kConflict);
  EXPECT_EQ(r->errors[3].field(), "/identifiers/0");
  CustomerId anna = **store_->FindByIdentifier({"crm", "1"});
  EXPECT_EQ(store_->Get(anna)->display_name, "Anna Weber");
  auto names = [&](const char* q) {
    SearchQuery sq;
    sq.q = q;
    std::vector<std::string> out;
    auto page = store_->Search(sq);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    for (const auto& s : page.value().items) out.push_back(s.display_name);
    return out;
  };
  EXPECT_EQ(names("weber"), std::vector<std::string>{"Anna Weber"});
  EXPECT_TRUE(names("schmidt").empty());
  EXPECT_EQ(names("ben@"), std::vector<std::string>{"Ben Meyer"});
  EXPECT_FALSE(store_->FindByIdentifier({"crm", "3"})->has_value());
  // A later batch starts with an empty buffer.
  std::vector<CustomerRecord> more = {Record("9", "Zoe", "Zed", "Kiel")};
  ASSERT_TRUE(store_->UpsertCustomers("crm", more).ok());
  EXPECT_EQ(names("zoe"), std::vector<std::string>{"Zoe Zed"});
}

// Batches larger than the store's bulk statements (owner lookups and
// multi-row inserts go in chunks), against identifiers of an earlier batch.
TEST_F(StoreTest, LargeBatchesLookUpAndWriteInChunks) {
  std::vector<CustomerRecord> first;
  for (int i = 0; i < 300; ++i) {
    first.push_back(Record(std::to_string(i), "First" + std::to_string(i), "Last", "Berlin"));
    first.back().identifiers = {{"email", "p" + std::to_string(i) + "@example.com"}};
  }
  auto r1 = store_->UpsertCustomers("erp", first);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->created, 300);

  std::vector<CustomerRecord> second;
  for (int i = 150; i < 450; ++i) {
    second.push_back(Record(std::to_string(i), "First" + std::to_string(i), i < 300 ? "Changed" : "Last", "Berlin"));
    second.back().identifiers = {{"email", "p" + std::to_string(i) + "@example.com"}};
  }
  second[200].identifiers = {{"email", "p7@example.com"}};  // record 350 names customer 7's email
  auto r2 = store_->UpsertCustomers("erp", second);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->updated, 150);
  EXPECT_EQ(r2->created, 149);
  EXPECT_EQ(r2->errors[200].code(), StatusCode::kConflict);
  for (int i = 0; i < 450; ++i) {
    if (i == 350) continue;
    auto by_key = store_->FindByIdentifier({"erp", std::to_string(i)});
    auto by_email = store_->FindByIdentifier({"email", "p" + std::to_string(i) + "@example.com"});
    ASSERT_TRUE(by_key.ok() && by_key->has_value()) << i;
    ASSERT_TRUE(by_email.ok() && by_email->has_value()) << i;
    EXPECT_EQ(**by_key, **by_email) << i;
  }
  EXPECT_FALSE(store_->FindByIdentifier({"erp", "350"})->has_value());
  CustomerId c200 = **store_->FindByIdentifier({"erp", "200"});
  EXPECT_EQ(store_->Get(c200)->display_name, "First200 Changed");
  SearchQuery q;
  q.q = "first449";
  auto page = store_->Search(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].display_name, "First449 Last");
}

TEST_F(StoreTest, BatchUpsertWithBackDatedRecords) {
  clock_.Set(T("2025-01-01T00:00:00Z"));
  CustomerRecord r = Record("1", "Anna", "Schmidt", "Berlin");
  r.valid_from = T("2020-01-01T00:00:00Z");
  ASSERT_TRUE(store_->UpsertCustomers("crm", {r}).ok());
  r.attributes["city"] = std::string("Hamburg");
  r.valid_from = T("2022-01-01T00:00:00Z");
  auto up = store_->UpsertCustomers("crm", {r});
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->updated, 1);
  CustomerId id = **store_->FindByIdentifier({"crm", "1"});
  auto at = [&](const char* t) { return std::get<std::string>(store_->Get(id, {T(t)})->attributes.at("city")); };
  EXPECT_EQ(at("2021-01-01T00:00:00Z"), "Berlin");
  EXPECT_EQ(at("2023-01-01T00:00:00Z"), "Hamburg");
}

TEST_F(StoreTest, ActivityBatchesResolveCustomersByIdentifier) {
  CustomerId anna = NewPerson("Anna", "Schmidt", {{"billing", "88231"}});
  std::vector<std::pair<Identifier, Account>> accounts(3);
  accounts[0].first = {"billing", "88231"};
  accounts[0].second.source = "billing";
  accounts[0].second.source_key = "K1";
  accounts[1].first = {"billing", "nobody"};
  accounts[1].second.source = "billing";
  accounts[1].second.source_key = "K2";
  accounts[2] = accounts[0];
  accounts[2].second.source_key = "K3";
  auto a = store_->UpsertAccounts(accounts);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->created, 2);
  EXPECT_EQ(a->errors[1].code(), StatusCode::kNotFound);
  EXPECT_EQ(a->errors[1].field(), "/customer");
  auto again = store_->UpsertAccounts(accounts);
  EXPECT_EQ(again->unchanged, 2);

  std::vector<std::pair<Identifier, Transaction>> txs;
  for (int i = 0; i < 5; ++i) {
    Transaction t;
    t.source = "shop";
    t.source_key = "o" + std::to_string(i);
    t.amount = Money::FromWhole(10);
    t.occurred_at = T("2025-01-01T00:00:00Z");
    txs.push_back({{"billing", "88231"}, t});
  }
  txs[2].second.currency = "XX";
  auto t1 = store_->AddTransactions(txs);
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(t1->created, 4);
  EXPECT_EQ(t1->errors[2].field(), "/currency");
  auto t2 = store_->AddTransactions(txs);
  EXPECT_EQ(t2->created, 0);
  EXPECT_EQ(t2->unchanged, 4);

  std::vector<std::pair<Identifier, Interaction>> its(2);
  its[0].first = {"billing", "88231"};
  its[0].second.source = "web";
  its[0].second.source_key = "e1";
  its[1].first = {"email", "not-an-email"};
  its[1].second.source = "web";
  auto i1 = store_->AddInteractions(its);
  ASSERT_TRUE(i1.ok());
  EXPECT_EQ(i1->created, 1);
  EXPECT_EQ(i1->errors[1].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddInteractions(its)->unchanged, 1);

  auto v = store_->View(anna);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->accounts.size(), 2u);
  EXPECT_EQ(v->transaction_summary.count, 4);
  EXPECT_EQ(v->recent_interactions.size(), 1u);
}

// Writers and readers on several threads share one store; every write lands
// and reads never see a half-written customer.
TEST_F(StoreTest, ThreadsWriteAndReadConcurrently) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = std::to_string(t) + "-" + std::to_string(i);
        NewCustomer nc;
        nc.attributes = {{"firstName", std::string("T") + std::to_string(t)}, {"lastName", key}};
        nc.identifiers = {{"test", key}};
        auto c = store_->Create(nc);
        if (!c.ok()) {
          ++failures;
          continue;
        }
        CustomerPatch p;
        p.attributes = {{"city", std::string("City") + std::to_string(i)}};
        if (!store_->Update(c->id, p).ok()) ++failures;
        auto v = store_->View(c->id);
        if (!v.ok() || v->customer.identifiers.size() != 1) ++failures;
        std::vector<CustomerRecord> batch = {Record("b" + key, "B", key, "X")};
        auto b = store_->UpsertCustomers("bulk", batch);
        if (!b.ok() || b->created != 1) ++failures;
        SearchQuery q;
        q.q = "t" + std::to_string(t);
        if (!store_->Search(q).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  SearchQuery all;
  all.limit = 1000;
  auto page = store_->Search(all);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), static_cast<size_t>(2 * kThreads * kPerThread));
  SearchQuery q;
  q.q = "t2";
  q.limit = 1000;
  EXPECT_EQ(store_->Search(q)->items.size(), static_cast<size_t>(kPerThread));
}

}  // namespace
}  // namespace rapport::customer
