// Relationships, accounts, transactions, interactions, consents and the
// 360 view built from them.

#include <gtest/gtest.h>

#include "customer/customer.h"
#include "customer_test_util.h"

namespace rapport::customer {
namespace {

Relationship Rel(CustomerId from, CustomerId to, std::string type, std::string role = "") {
  Relationship r;
  r.from = from;
  r.to = to;
  r.type = std::move(type);
  r.role = std::move(role);
  return r;
}

TEST_F(StoreTest, RelationshipKindsAreEnforced) {
  CustomerId anna = NewPerson("Anna", "Schmidt");
  CustomerId ben = NewPerson("Ben", "Schmidt");
  CustomerId home = NewGroup(Kind::kHousehold, "Schmidt household");
  CustomerId acme = NewGroup(Kind::kOrganization, "Acme GmbH");
  CustomerId holding = NewGroup(Kind::kOrganization, "Acme Holding");

  struct Case {
    const char* name;
    Relationship r;
    StatusCode code;  // kOk when accepted
    std::string field;
  };
  const Case cases[] = {
      {"person member of household", Rel(anna, home, "member_of"), StatusCode::kOk, ""},
      {"person works for org", Rel(anna, acme, "works_for", "buyer"), StatusCode::kOk, ""},
      {"org subsidiary of org", Rel(acme, holding, "subsidiary_of"), StatusCode::kOk, ""},
      {"user-defined joins anything", Rel(anna, ben, "referred_by"), StatusCode::kOk, ""},
      {"household member of household", Rel(home, home, "member_of"), StatusCode::kUnprocessable, "/to"},
      {"org member of household", Rel(acme, home, "member_of"), StatusCode::kUnprocessable, "/type"},
      {"person member of person", Rel(ben, anna, "member_of"), StatusCode::kUnprocessable, "/type"},
      {"person works for household", Rel(ben, home, "works_for"), StatusCode::kUnprocessable, "/type"},
      {"person subsidiary of org", Rel(ben, acme, "subsidiary_of"), StatusCode::kUnprocessable, "/type"},
      {"bad type name", Rel(ben, acme, "Works For"), StatusCode::kInvalidArgument, "/type"},
      {"unknown from", Rel(999, home, "member_of"), StatusCode::kNotFound, "/from"},
      {"unknown to", Rel(ben, 999, "member_of"), StatusCode::kNotFound, "/to"},
      {"duplicate open", Rel(anna, home, "member_of"), StatusCode::kConflict, "/to"},
  };
  for (const auto& c : cases) {
    auto r = store_->AddRelationship(c.r);
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(r.status().field(), c.field) << c.name;
    if (r.ok()) {
      EXPECT_GT(r->id, 0) << c.name;
      EXPECT_EQ(r->source, "api");
      EXPECT_EQ(r->valid_from, clock_.Now());
    }
  }
}

TEST_F(StoreTest, EndedRelationshipsLeaveTheViewButNotThePast) {
  clock_.Set(T("2022-01-01T00:00:00Z"));
  CustomerId anna = NewPerson("Anna", "Schmidt");
  CustomerId acme = NewGroup(Kind::kOrganization, "Acme GmbH");
  CustomerId globex = NewGroup(Kind::kOrganization, "Globex");
  auto job = store_->AddRelationship(Rel(anna, acme, "works_for", "buyer"));
  ASSERT_TRUE(job.ok());
  clock_.Set(T("2024-01-01T00:00:00Z"));
  auto ended = store_->EndRelationship(job->id, T("2023-12-31T00:00:00Z"));
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->valid_to, T("2023-12-31T00:00:00Z"));
  ASSERT_TRUE(store_->AddRelationship(Rel(anna, globex, "works_for", "cto")).ok());

  auto now = store_->View(anna);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->links.size(), 1u);
  EXPECT_EQ(now->links[0].customer.id, globex);
  EXPECT_EQ(now->links[0].relationship.role, "cto");
  auto then = store_->View(anna, {T("2023-06-01T00:00:00Z")});
  ASSERT_TRUE(then.ok());
  ASSERT_EQ(then->links.size(), 1u);
  EXPECT_EQ(then->links[0].customer.id, acme);
  EXPECT_EQ(then->links[0].customer.display_name, "Acme GmbH");

  // Acme's member list follows the same validity.
  EXPECT_TRUE(store_->View(acme)->members.empty());
  EXPECT_EQ(store_->View(acme, {T("2023-06-01T00:00:00Z")})->members.size(), 1u);

  auto again = store_->EndRelationship(job->id, clock_.Now());
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  auto missing = store_->EndRelationship(12345, clock_.Now());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto job2 = store_->AddRelationship(Rel(anna, acme, "works_for"));
  ASSERT_TRUE(job2.ok());  // re-hired: the old one had ended
  auto early = store_->EndRelationship(job2->id, T("2020-01-01T00:00:00Z"));
  EXPECT_EQ(early.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(early.status().field(), "/validTo");
}

TEST_F(StoreTest, AccountsUpsertBySourceKey) {
  CustomerId anna = NewPerson("Anna", "Schmidt");
  Account a;
  a.customer_id = anna;
  a.source = "billing";
  a.source_key = "C-1";
  a.product = "Mobile L";
  a.balance = *Money::Parse("29.9");
  auto first = store_->UpsertAccount(a);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->opened_at, clock_.Now());
  a.opened_at = first->opened_at;
  a.status = "closed";
  a.closed_at = clock_.Now();
  auto second = store_->UpsertAccount(a);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, first->id);
  auto view = store_->View(anna);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->accounts.size(), 1u);
  EXPECT_EQ(view->accounts[0].status, "closed");
  EXPECT_EQ(view->accounts[0].product, "Mobile L");
  EXPECT_EQ(view->accounts[0].balance.ToString(), "29.9");

  struct Case {
    const char* name;
    std::function<void(Account&)> edit;
    StatusCode code;
    std::string field;
  };
  const Case cases[] = {
      {"unknown customer", [](Account& x) { x.customer_id = 999; }, StatusCode::kNotFound, "/customerId"},
      {"no key", [](Account& x) { x.source_key.clear(); }, StatusCode::kInvalidArgument, "/sourceKey"},
      {"no source", [](Account& x) { x.source.clear(); }, StatusCode::kInvalidArgument, "/source"},
      {"bad currency", [](Account& x) { x.currency = "euro"; }, StatusCode::kInvalidArgument, "/currency"},
      {"no status", [](Account& x) { x.status.clear(); }, StatusCode::kInvalidArgument, "/status"},
      {"closed before opened", [](Account& x) { x.closed_at = Timestamp{x.opened_at.micros - 1}; },
       StatusCode::kInvalidArgument, "/closedAt"},
  };
  for (const auto& c : cases) {
    Account x = a;
    c.edit(x);
    auto r = store_->UpsertAccount(x);
    EXPECT_EQ(r.status().code(), c.code) << c.name;
    EXPECT_EQ(r.status().field(), c.field) << c.name;
  }
}

TEST_F(StoreTest, TransactionsAndInteractionsAreIdempotentBySourceKey) {
  CustomerId anna = NewPerson("Anna", "Schmidt");
  CustomerId ben = NewPerson("Ben", "Meyer");
  Transaction t;
  t.customer_id = anna;
  t.source = "shop";
  t.source_key = "order-1";
  t.occurred_at = T("2025-05-01T10:00:00Z");
  t.sku = "SKU-1";
  t.item = "Kettle";
  t.amount = *Money::Parse("49.5");
  auto a = store_->AddTransaction(t);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = store_->AddTransaction(t);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->id, b->id);
  // Without a key every write is a new transaction.
  t.source_key.clear();
  EXPECT_NE(store_->AddTransaction(t)->id, store_->AddTransaction(t)->id);
  // The same key for another customer is a conflict, not a silent merge.
  t.source_key = "order-1";
  t.customer_id = ben;
  auto clash = store_->AddTransaction(t);
  EXPECT_EQ(clash.status().code(), StatusCode::kConflict);
  t.customer_id = anna;
  t.currency = "DOGECOIN";
  EXPECT_EQ(store_->AddTransaction(t).status().field(), "/currency");
  t.currency = "XYZ";  // three letters, but no ISO 4217 code
  EXPECT_EQ(store_->AddTransaction(t).status().field(), "/currency");
  t.currency = "EUR";
  t.account_id = 777;
  EXPECT_EQ(store_->AddTransaction(t).status().field(), "/accountId");
  EXPECT_EQ(store_->View(anna)->transaction_summary.count, 3);

  Interaction i;
  i.customer_id = anna;
  i.source = "callcentre";
  i.source_key = "call-9";
  i.type = "call";
  i.channel = "call_centre";
  i.properties_json = R"({"durationSeconds": 312})";
  auto x = store_->AddInteraction(i);
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  auto y = store_->AddInteraction(i);
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(x->id, y->id);
  EXPECT_EQ(y->properties_json, R"({"durationSeconds": 312})");
  i.properties_json = "[1,2]";
  EXPECT_EQ(store_->AddInteraction(i).status().field(), "/properties");
  i.properties_json = "{";
  EXPECT_EQ(store_->AddInteraction(i).status().field(), "/properties");
  i.properties_json = "{}";
  i.customer_id = 999;
  EXPECT_EQ(store_->AddInteraction(i).status().field(), "/customerId");
  EXPECT_EQ(store_->View(anna)->recent_interactions.size(), 1u);
}

TEST_F(StoreTest, ConsentsKeepHistoryAndShowTheStateAtATime) {
  clock_.Set(T("2023-01-01T00:00:00Z"));
  CustomerId anna = NewPerson("Anna", "Schmidt");
  auto set = [&](const char* channel, bool granted, const char* at, const char* purpose = "marketing") {
    Consent c;
    c.customer_id = anna;
    c.channel = channel;
    c.purpose = purpose;
    c.granted = granted;
    c.at = T(at);
    c.source = "web";
    auto r = store_->SetConsent(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  };
  set("email", true, "2024-01-01T00:00:00Z");
  set("sms", true, "2024-02-01T00:00:00Z");
  set("email", false, "2025-01-01T00:00:00Z");
  set("email", true, "2024-03-01T00:00:00Z", "service");
  clock_.Set(T("2026-01-01T00:00:00Z"));

  auto state = [&](std::optional<Timestamp> at) {
    auto v = store_->View(anna, {at});
    std::map<std::string, bool> out;
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return out;
    for (const auto& c : v->consents) out[c.channel + "/" + c.purpose] = c.granted;
    return out;
  };
  EXPECT_EQ(state(std::nullopt),
            (std::map<std::string, bool>{{"email/marketing", false}, {"email/service", true}, {"sms/marketing", true}}));
  EXPECT_EQ(state(T("2024-06-01T00:00:00Z")),
            (std::map<std::string, bool>{{"email/marketing", true}, {"email/service", true}, {"sms/marketing", true}}));
  EXPECT_EQ(state(T("2024-01-15T00:00:00Z")), (std::map<std::string, bool>{{"email/marketing", true}}));

  Consent bad;
  bad.customer_id = anna;
  bad.channel = "E-Mail";
  EXPECT_EQ(store_->SetConsent(bad).status().field(), "/channel");
  bad.channel = "email";
  bad.purpose = "";
  EXPECT_EQ(store_->SetConsent(bad).status().field(), "/purpose");
  bad.purpose = "marketing";
  bad.customer_id = 999;
  EXPECT_EQ(store_->SetConsent(bad).status().code(), StatusCode::kNotFound);
}

// The 360 view of a household member shows the household with the other
// members, the employer with the role, and the customer's own activity.
TEST_F(StoreTest, ViewOfHouseholdMember) {
  clock_.Set(T("2025-01-01T00:00:00Z"));
  CustomerId anna = NewPerson("Anna", "Schmidt", {{"email", "anna@example.com"}});
  CustomerId ben = NewPerson("Ben", "Schmidt");
  CustomerId mia = NewPerson("Mia", "Schmidt");
  CustomerId home = NewGroup(Kind::kHousehold, "Schmidt household");
  CustomerId acme = NewGroup(Kind::kOrganization, "Acme GmbH");
  CustomerId holding = NewGroup(Kind::kOrganization, "Acme Holding");
  for (CustomerId p : {anna, ben, mia}) ASSERT_TRUE(store_->AddRelationship(Rel(p, home, "member_of")).ok());
  ASSERT_TRUE(store_->AddRelationship(Rel(anna, acme, "works_for", "buyer")).ok());
  ASSERT_TRUE(store_->AddRelationship(Rel(acme, holding, "subsidiary_of")).ok());

  Account acc;
  acc.customer_id = anna;
  acc.source = "billing";
  acc.source_key = "A1";
  acc.product = "Gold card";
  acc.opened_at = T("2025-01-01T00:00:00Z");
  ASSERT_TRUE(store_->UpsertAccount(acc).ok());
  acc.source_key = "A2";
  acc.opened_at = T("2025-06-01T00:00:00Z");
  clock_.Set(T("2025-07-01T00:00:00Z"));
  ASSERT_TRUE(store_->UpsertAccount(acc).ok());

  // 15 purchases of three items and a refund, over 15 days.
  for (int d = 0; d < 15; ++d) {
    Transaction t;
    t.customer_id = anna;
    t.source = "shop";
    t.source_key = "o" + std::to_string(d);
    t.occurred_at = Timestamp{T("2025-03-01T12:00:00Z").micros + d * kMicrosPerDay};
    t.sku = "SKU-" + std::to_string(d % 3);
    t.item = "Item " + std::to_string(d % 3);
    t.amount = Money::FromWhole(10 * (d % 3 + 1));
    ASSERT_TRUE(store_->AddTransaction(t).ok());
  }
  Transaction refund;
  refund.customer_id = anna;
  refund.source = "shop";
  refund.occurred_at = T("2025-03-20T12:00:00Z");
  refund.sku = "SKU-0";
  refund.amount = Money::FromWhole(-10);
  ASSERT_TRUE(store_->AddTransaction(refund).ok());
  const char* channels[] = {"web", "email", "store", "call_centre", "field_sales"};
  for (int k = 0; k < 25; ++k) {
    Interaction i;
    i.customer_id = anna;
    i.source = "events";
    i.channel = channels[k % 5];
    i.occurred_at = Timestamp{T("2025-04-01T00:00:00Z").micros + k * 3600 * kMicrosPerSecond};
    ASSERT_TRUE(store_->AddInteraction(i).ok());
  }
  Consent c;
  c.customer_id = anna;
  c.channel = "email";
  c.granted = true;
  c.at = T("2025-01-02T00:00:00Z");
  ASSERT_TRUE(store_->SetConsent(c).ok());
  store_->RegisterViewSection("scores", [&](CustomerId id, const ReadOptions&) -> Result<std::string> {
    return std::string(R"({"customer":)") + std::to_string(id) + "}";
  });
  store_->RegisterViewSection("cases", [](CustomerId, const ReadOptions&) -> Result<std::string> {
    return Status::NotFound("no open cases");
  });

  auto v = store_->View(anna);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->customer.display_name, "Anna Schmidt");
  ASSERT_EQ(v->links.size(), 2u);
  const LinkedCustomer* household = nullptr;
  const LinkedCustomer* employer = nullptr;
  for (const auto& l : v->links) {
    if (l.relationship.type == "member_of") household = &l;
    if (l.relationship.type == "works_for") employer = &l;
  }
  ASSERT_TRUE(household && employer);
  EXPECT_EQ(household->customer.id, home);
  EXPECT_EQ(household->customer.kind, Kind::kHousehold);
  std::vector<CustomerId> others;
  for (const auto& m : household->members) others.push_back(m.id);
  EXPECT_EQ(others, (std::vector<CustomerId>{ben, mia}));
  EXPECT_EQ(employer->customer.display_name, "Acme GmbH");
  EXPECT_EQ(employer->relationship.role, "buyer");
  EXPECT_TRUE(v->members.empty());

  ASSERT_EQ(v->accounts.size(), 2u);
  const TransactionSummary& s = v->transaction_summary;
  EXPECT_EQ(s.count, 16);
  EXPECT_EQ(s.revenue, Money::FromWhole(5 * 10 + 5 * 20 + 5 * 30 - 10));
  EXPECT_EQ(s.first_purchase, T("2025-03-01T12:00:00Z"));
  EXPECT_EQ(s.last_purchase, T("2025-03-15T12:00:00Z"));
  ASSERT_EQ(s.top_items.size(), 3u);
  EXPECT_EQ(s.top_items[0].sku, "SKU-2");
  EXPECT_EQ(s.top_items[0].revenue, Money::FromWhole(150));
  EXPECT_EQ(s.top_items[2].sku, "SKU-0");
  EXPECT_EQ(s.top_items[2].revenue, Money::FromWhole(40));
  ASSERT_EQ(v->recent_transactions.size(), 10u);
  EXPECT_EQ(v->recent_transactions[0].occurred_at, T("2025-03-20T12:00:00Z"));
  EXPECT_GT(v->recent_transactions[0].occurred_at, v->recent_transactions[1].occurred_at);
  ASSERT_EQ(v->recent_interactions.size(), 20u);
  std::set<std::string> seen_channels;
  for (const auto& i : v->recent_interactions) seen_channels.insert(i.channel);
  EXPECT_EQ(seen_channels.size(), 5u);
  EXPECT_EQ(v->recent_interactions[0].occurred_at.micros, T("2025-04-01T00:00:00Z").micros + 24 * 3600 * kMicrosPerSecond);
  ASSERT_EQ(v->consents.size(), 1u);
  EXPECT_TRUE(v->consents[0].granted);
  ASSERT_EQ(v->sections.size(), 1u);
  EXPECT_EQ(v->sections[0].first, "scores");
  EXPECT_EQ(v->sections[0].second, R"({"customer":)" + std::to_string(anna) + "}");

  // The household's own view lists all three members.
  auto hv = store_->View(home);
  ASSERT_TRUE(hv.ok());
  EXPECT_EQ(hv->members.size(), 3u);
  // Acme's view links to its parent and lists Anna as member.
  auto av = store_->View(acme);
  ASSERT_TRUE(av.ok());
  ASSERT_EQ(av->links.size(), 1u);
  EXPECT_EQ(av->links[0].customer.id, holding);
  ASSERT_EQ(av->members.size(), 1u);
  EXPECT_EQ(av->members[0].id, anna);

  // As of March 10: one account, ten purchases, no interactions yet.
  auto past = store_->View(anna, {T("2025-03-10T13:00:00Z")});
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->accounts.size(), 1u);
  EXPECT_EQ(past->transaction_summary.count, 10);
  EXPECT_EQ(past->transaction_summary.last_purchase, T("2025-03-10T12:00:00Z"));
  EXPECT_TRUE(past->recent_interactions.empty());
}

}  // namespace
}  // namespace rapport::customer

namespace rapport::customer {
namespace {

// Issue #12, "bad data is stored and served": each rule of the model, named.
TEST_F(StoreTest, BadTransactionsAreRefusedNamingTheField) {
  CustomerId anna = NewPerson("Anna", "Schmidt");
  Transaction t;
  t.customer_id = anna;
  t.source = "shop";
  t.occurred_at = T("2025-05-01T10:00:00Z");
  t.amount = Money::FromWhole(10);
  auto field_of = [&](Transaction bad) { return store_->AddTransaction(bad).status().field(); };
  Transaction q = t;
  q.quantity = -1'000'000;
  EXPECT_EQ(field_of(q), "/quantity");
  q.quantity = 0;
  EXPECT_EQ(field_of(q), "/quantity");
  Transaction refund = t;  // a refund may count its returned items negatively
  refund.amount = Money::FromWhole(-10);
  refund.quantity = -1;
  EXPECT_TRUE(store_->AddTransaction(refund).ok());
  Transaction key = t;
  key.source_key = "order-1\r\nX-Injected: 1";
  EXPECT_EQ(field_of(key), "/sourceKey");
  Transaction nul = t;
  nul.item = std::string("Kettle\0", 7);
  EXPECT_EQ(field_of(nul), "/item");
  Transaction utf = t;
  utf.category = "K\xFC" "che";  // Latin-1, not UTF-8
  EXPECT_EQ(field_of(utf), "/category");
  Transaction year = t;
  year.occurred_at = Timestamp{-62'167'219'200'000'000};  // 0000-01-01
  EXPECT_EQ(field_of(year), "/occurredAt");
  Transaction big = t;
  big.amount = Money::FromUnits(Money::kMaxUnits + 1);
  EXPECT_EQ(field_of(big), "/amount");
  Transaction lower = t;
  lower.currency = "eur";  // normalized, not refused
  auto ok = store_->AddTransaction(lower);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->currency, "EUR");
}

TEST_F(StoreTest, RevenueOfManyCentsIsExact) {
  CustomerId anna = NewPerson("Anna", "Schmidt");
  // 753811.93 as 1,001 amounts that a double sum gets wrong.
  std::vector<std::pair<Identifier, Transaction>> rows;
  double as_double = 0;
  for (int i = 0; i < 1000; ++i) {
    Transaction t;
    t.customer_id = anna;
    t.source = "shop";
    t.occurred_at = T("2025-05-01T10:00:00Z");
    t.amount = *Money::Parse("753.81");
    as_double += 753.81;
    rows.emplace_back(Identifier{}, t);
  }
  Transaction rest = rows[0].second;
  rest.amount = *Money::Parse("1.93");
  as_double += 1.93;
  rows.emplace_back(Identifier{}, rest);
  ASSERT_NE(as_double, 753811.93);  // what the landed code summed
  auto r = store_->AddTransactions(rows);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto v = store_->View(anna);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->transaction_summary.revenue.ToString(), "753811.93");
}

TEST_F(StoreTest, AccountBalancesAreMoney) {
  CustomerId anna = NewPerson("Anna", "Schmidt");
  Account a;
  a.customer_id = anna;
  a.source = "billing";
  a.source_key = "A-1";
  a.product = "Tariff";
  a.balance = *Money::Parse("-1234.5678");
  auto ok = store_->UpsertAccount(a);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(store_->View(anna)->accounts[0].balance.ToString(), "-1234.5678");
  a.currency = "DOGECOIN";
  EXPECT_EQ(store_->UpsertAccount(a).status().field(), "/currency");
}

}  // namespace
}  // namespace rapport::customer
