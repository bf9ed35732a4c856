// Search by email and phone through the identifier index: the same results
// whether an email or phone is stored as a search token or only as an
// identifier, as identifiers come and go, across pages, after the migration
// that dropped the duplicate tokens of existing data, on SQLite and (under
// scripts/with-postgres.sh) PostgreSQL.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "customer/customer.h"
#include "customer/internal/schema.h"
#include "testing/test_database.h"

namespace rapport::customer {
namespace {

class SearchTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool UsePostgres() { return GetParam(); }

  void SetUp() override {
    if (UsePostgres() && !rapport::testing::PostgresAvailable()) {
      GTEST_SKIP() << "RAPPORT_TEST_POSTGRES is not set (run under scripts/with-postgres.sh)";
    }
    dir_ = rapport::testing::FreshTestDir("search");
    auto db = rapport::testing::OpenTestDatabase(UsePostgres(), dir_, "search");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenStore() {
    auto s = CustomerStore::Open(db_.get(), &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  CustomerId Make(std::map<std::string, AttributeValue> attrs, std::vector<Identifier> ids = {}) {
    NewCustomer c;
    c.attributes = std::move(attrs);
    c.identifiers = std::move(ids);
    auto r = store_->Create(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : 0;
  }
  std::vector<CustomerId> Find(std::string q, std::optional<Kind> kind = std::nullopt) {
    SearchQuery sq;
    sq.q = std::move(q);
    sq.kind = kind;
    auto r = store_->Search(sq);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<CustomerId> out;
    if (r.ok()) {
      for (const auto& s : r->items) out.push_back(s.id);
    }
    return out;
  }
  // The tokens stored for a customer, sorted.
  std::vector<std::string> StoredTokens(CustomerId id) {
    std::vector<std::string> out;
    Status s = db_->WithConnection([&](storage::Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(storage::QueryResult r,
                          c.Query("SELECT token FROM customer_search_tokens WHERE customer_id = ? ORDER BY token",
                                  {id}));
      for (const auto& row : r.rows) out.push_back(row[0].AsText());
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  ManualClock clock_{ParseRfc3339("2026-01-15T10:00:00Z").value()};
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<CustomerStore> store_;
};

using Ids = std::vector<CustomerId>;
using Tokens = std::vector<std::string>;

TEST_P(SearchTest, EmailsAndPhonesThatAreIdentifiersAreFoundThroughThem) {
  OpenStore();
  CustomerId eva = Make({{"firstName", std::string("Eva")}, {"lastName", std::string("Klein")}},
                        {{"email", "Eva@Shop.de"}, {"phone", "+49 170 1111111"}});
  // Only the name words are stored as tokens; email and phone are identifiers.
  EXPECT_EQ(StoredTokens(eva), (Tokens{"eva", "klein"}));
  // Attribute and identifier both: still one copy, the identifier.
  CustomerId ida =
      Make({{"firstName", std::string("Ida")}, {"email", std::string("ida@x.de")}}, {{"email", "ida@x.de"}});
  EXPECT_EQ(StoredTokens(ida), (Tokens{"ida"}));
  // The email attribute wins over an identifier for the customer's email;
  // it is no identifier, so it is a token, and the other address is not
  // searchable (as before identifiers served search).
  CustomerId otto = Make({{"firstName", std::string("Otto")}, {"email", std::string("otto@work.de")}},
                         {{"email", "otto.private@mail.de"}});
  EXPECT_EQ(StoredTokens(otto), (Tokens{"otto", "otto@work.de"}));
  // A national number in a name word equal to a phone identifier.
  CustomerId shop = Make({{"name", std::string("Kiosk 0301234567")}}, {{"phone", "030 1234567"}});
  EXPECT_EQ(StoredTokens(shop), (Tokens{"kiosk"}));

  EXPECT_EQ(Find("eva@shop"), Ids{eva});
  EXPECT_EQ(Find("EVA@SHOP.DE"), Ids{eva});
  EXPECT_EQ(Find("+49 170 111"), Ids{eva});
  EXPECT_EQ(Find("eva"), Ids{eva});  // name and email both match: once
  EXPECT_EQ(Find("ida@"), Ids{ida});
  EXPECT_EQ(Find("otto@"), Ids{otto});
  EXPECT_TRUE(Find("otto.private@").empty());
  EXPECT_EQ(Find("otto"), Ids{otto});
  EXPECT_EQ(Find("kiosk 0301"), Ids{shop});
  EXPECT_EQ(Find("0301234 ki"), Ids{shop});  // the digits lead: found as the phone
  EXPECT_TRUE(Find("eva", Kind::kHousehold).empty());
  EXPECT_EQ(Find("email:eva@shop.de"), Ids{eva});

  // The identifier removed: ida's email attribute is a stored token again.
  CustomerPatch p;
  p.source = "crm";
  p.remove_identifiers = {{"email", "ida@x.de"}};
  ASSERT_TRUE(store_->Update(ida, p).ok());
  EXPECT_EQ(StoredTokens(ida), (Tokens{"ida", "ida@x.de"}));
  EXPECT_EQ(Find("ida@x"), Ids{ida});
  // And added back: one copy again.
  p.remove_identifiers.clear();
  p.add_identifiers = {{"email", "ida@x.de"}};
  ASSERT_TRUE(store_->Update(ida, p).ok());
  EXPECT_EQ(StoredTokens(ida), (Tokens{"ida"}));
  EXPECT_EQ(Find("ida@x"), Ids{ida});
  // eva's email identifier removed: she has no email left to be found by.
  p.add_identifiers.clear();
  p.remove_identifiers = {{"email", "eva@shop.de"}};
  ASSERT_TRUE(store_->Update(eva, p).ok());
  EXPECT_TRUE(Find("eva@").empty());
  EXPECT_EQ(Find("+49170"), Ids{eva});
  // otto's email attribute changed to his identifier: no token needed.
  p.remove_identifiers.clear();
  p.attributes = {{"email", std::string("otto.private@mail.de")}};
  ASSERT_TRUE(store_->Update(otto, p).ok());
  EXPECT_EQ(StoredTokens(otto), (Tokens{"otto"}));
  EXPECT_EQ(Find("otto.private@"), Ids{otto});
  EXPECT_TRUE(Find("otto@work").empty());
}

TEST_P(SearchTest, BulkUpsertsStoreNoDuplicateTokensAndFindTheSame) {
  OpenStore();
  std::vector<CustomerRecord> recs;
  for (int i = 0; i < 30; ++i) {
    CustomerRecord r;
    r.source_key = "K" + std::to_string(i);
    r.attributes = {{"firstName", std::string("Lena")},
                    {"lastName", "Berg" + std::to_string(i)},
                    {"email", "lena" + std::to_string(i) + "@berg.de"},
                    {"phone", "+49 171 55500" + std::to_string(10 + i)}};
    r.identifiers = {{"email", "lena" + std::to_string(i) + "@berg.de"},
                     {"phone", "+49 171 55500" + std::to_string(10 + i)}};
    recs.push_back(std::move(r));
  }
  auto out = store_->UpsertCustomers("shop", recs);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->created, 30);
  auto id = store_->FindByIdentifier({"shop", "K7"});
  ASSERT_TRUE(id.ok() && *id);
  EXPECT_EQ(StoredTokens(**id), (Tokens{"berg7", "lena"}));
  EXPECT_EQ(Find("lena7@"), Ids{**id});
  EXPECT_EQ(Find("+4917155500" "17"), Ids{**id});
  EXPECT_EQ(Find("lena").size(), 30u);
  EXPECT_EQ(Find("lena1").size(), 11u);  // lena1@, lena10@ .. lena19@
  // Re-imported with a new email: the old one stays an identifier (imports
  // add identifiers, never remove them), the new one is the customer's.
  recs[7].attributes["email"] = std::string("lena.new@berg.de");
  recs[7].identifiers = {{"email", "lena.new@berg.de"}};
  out = store_->UpsertCustomers("shop", {recs[7]});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->updated, 1);
  EXPECT_EQ(StoredTokens(**id), (Tokens{"berg7", "lena"}));
  EXPECT_EQ(Find("lena.new@"), Ids{**id});
  EXPECT_TRUE(Find("lena7@").empty());
}

TEST_P(SearchTest, PagesThroughARunOfOneTokenLongerThanABatch) {
  OpenStore();
  // 70 customers share "anna"; a page of 5 reads batches of 26 rows, so
  // the run spans batches and the cursor lands inside it.
  Ids made;
  for (int i = 0; i < 70; ++i) {
    made.push_back(Make({{"firstName", std::string("Anna")}, {"lastName", "Zed" + std::to_string(i)}},
                        {{"email", "anna" + std::to_string(i) + "@example.com"}}));
  }
  Ids seen;
  SearchQuery sq;
  sq.q = "anna";
  sq.limit = 5;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 20);
    auto r = store_->Search(sq);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& s : r->items) seen.push_back(s.id);
    if (r->next_cursor.empty()) break;
    sq.cursor = r->next_cursor;
  }
  EXPECT_EQ(seen, made);  // "anna" comes before "anna0@...", in id order
  // None of the kind: every batch is read and skipped, and the search ends.
  EXPECT_TRUE(Find("anna", Kind::kOrganization).empty());
}

// A data directory written before the identifiers served search holds an
// email and phone token for each customer; the migration drops the ones
// that are identifiers, and search finds the same customers.
TEST_P(SearchTest, MigrationDropsTokensThatDuplicateIdentifiers) {
  auto steps = internal::Migrations(db_->dialect());
  ASSERT_EQ(steps.size(), 3u);
  ASSERT_TRUE(storage::Migrate(*db_, "customer", {steps[0]}).ok());
  Status s = db_->WithTransaction([](storage::Connection& c) -> Status {
    // As version 1 wrote them: one with its email and phone as identifiers,
    // one with an email attribute only.
    RP_RETURN_IF_ERROR(c.ExecuteScript(
        "INSERT INTO customers (id, kind, display_name, email, phone, attributes, valid_from, latest_valid_from, "
        "created_at, updated_at) VALUES "
        "(1, 'person', 'Mia Roth', 'mia@roth.de', '+491234567', "
        "'{\"firstName\":\"Mia\",\"lastName\":\"Roth\"}', 0, 0, 0, 0), "
        "(2, 'person', 'Max Roth', 'max@roth.de', '', "
        "'{\"email\":\"max@roth.de\",\"firstName\":\"Max\",\"lastName\":\"Roth\"}', 0, 0, 0, 0);"
        "INSERT INTO customer_identifiers (scheme, value, customer_id, created_at) VALUES "
        "('email', 'mia@roth.de', 1, 0), ('phone', '+491234567', 1, 0), ('billing', '7', 2, 0);"
        "INSERT INTO customer_search_tokens (token, customer_id) VALUES "
        "('+491234567', 1), ('mia', 1), ('mia@roth.de', 1), ('roth', 1), "
        "('max', 2), ('max@roth.de', 2), ('roth', 2);"));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  OpenStore();
  EXPECT_EQ(StoredTokens(1), (Tokens{"mia", "roth"}));
  EXPECT_EQ(StoredTokens(2), (Tokens{"max", "max@roth.de", "roth"}));
  EXPECT_EQ(Find("mia@roth"), Ids{1});
  EXPECT_EQ(Find("+49 1234"), Ids{1});
  EXPECT_EQ(Find("max@"), Ids{2});
  EXPECT_EQ(Find("roth"), (Ids{1, 2}));
  EXPECT_EQ(Find("m"), (Ids{2, 1}));  // "max" before "mia"
}

// Issue #12: amounts and balances were doubles; migration 3 turns them into
// exact integers of 10^-4 currency units, rounding away the float noise and
// clamping what was beyond the range now accepted.
TEST_P(SearchTest, MigrationMakesMoneyExact) {
  auto steps = internal::Migrations(db_->dialect());
  ASSERT_TRUE(storage::Migrate(*db_, "customer", {steps[0], steps[1]}).ok());
  Status s = db_->WithTransaction([](storage::Connection& c) -> Status {
    return c.ExecuteScript(
        "INSERT INTO customers (id, kind, attributes, valid_from, latest_valid_from, created_at, updated_at) VALUES "
        "(1, 'person', '{}', 0, 0, 0, 0);"
        "INSERT INTO customer_accounts (id, customer_id, source, source_key, status, opened_at, balance, currency, "
        "updated_at) VALUES (1, 1, 'billing', 'A', 'active', 0, 120.55, 'EUR', 0);"
        "INSERT INTO customer_transactions (customer_id, source, source_key, occurred_at, quantity, amount, currency, "
        "recorded_at) VALUES (1, 'shop', 't1', 0, 1, 753811.9299999997, 'EUR', 0), "
        "(1, 'shop', 't2', 0, 1, 1e308, 'EUR', 0), (1, 'shop', 't3', 0, 1, -0.1, 'EUR', 0);");
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  OpenStore();
  auto v = store_->View(1);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->accounts[0].balance.ToString(), "120.55");
  EXPECT_EQ(v->transaction_summary.revenue.ToString(), "100000753811.83");
}

INSTANTIATE_TEST_SUITE_P(Database, SearchTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

}  // namespace
}  // namespace rapport::customer
