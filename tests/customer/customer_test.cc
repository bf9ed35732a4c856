// Customers: create, read, update, history and asOf, identifiers, search,
// and the validation errors with their fields.

#include <gtest/gtest.h>

#include "customer/customer.h"
#include "customer_test_util.h"

namespace rapport::customer {
namespace {

SearchQuery Q(std::string q, std::optional<Kind> kind = std::nullopt) {
  SearchQuery s;
  s.q = std::move(q);
  s.kind = kind;
  return s;
}

std::string Text(const Customer& c, const std::string& name) {
  auto it = c.attributes.find(name);
  if (it == c.attributes.end()) return "<absent>";
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  return "<not text>";
}

TEST_F(StoreTest, CreateThenGetReturnsTypedAttributesAndIdentifiers) {
  NewCustomer nc;
  nc.attributes = {{"firstName", std::string("Anna")},
                   {"lastName", std::string("Schmidt")},
                   {"birthDate", std::string("1985-02-28")},
                   {"email", std::string("Anna@Example.com")},
                   {"employees", 3.0}};
  nc.identifiers = {{"billing", "88231"}, {"email", " ANNA@example.com"}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GT(c->id, 0);
  EXPECT_EQ(c->display_name, "Anna Schmidt");
  EXPECT_EQ(c->created_at, clock_.Now());

  auto g = store_->Get(c->id);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->kind, Kind::kPerson);
  EXPECT_EQ(g->display_name, "Anna Schmidt");
  EXPECT_EQ(Text(*g, "email"), "anna@example.com");
  EXPECT_EQ(Text(*g, "birthDate"), "1985-02-28");
  EXPECT_EQ(std::get<int64_t>(g->attributes.at("employees")), 3);
  ASSERT_EQ(g->identifiers.size(), 2u);
  auto found = store_->FindByIdentifier({"EMAIL", "anna@EXAMPLE.com"});
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, c->id);
  auto missing = store_->FindByIdentifier({"billing", "1"});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StoreTest, UnknownCustomerIsNotFoundWithField) {
  auto g = store_->Get(424242);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g.status().field(), "/customerId");
  auto u = store_->Update(424242, CustomerPatch{});
  EXPECT_EQ(u.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->History(424242).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->View(424242).status().code(), StatusCode::kNotFound);
}

struct ValidationCase {
  const char* name;
  NewCustomer input;
  StatusCode code;
  std::string field;
};

TEST_F(StoreTest, CreateValidationErrorsNameTheirField) {
  auto with_attr = [](std::string name, AttributeValue v) {
    NewCustomer c;
    c.attributes = {{"firstName", std::string("X")}, {std::move(name), std::move(v)}};
    return c;
  };
  auto with_ids = [](std::vector<Identifier> ids) {
    NewCustomer c;
    c.identifiers = std::move(ids);
    return c;
  };
  NewCustomer future;
  future.valid_from = T("2027-01-01");
  NewCustomer no_source;
  no_source.source = "";
  const ValidationCase cases[] = {
      {"unknown attribute", with_attr("shoeSize", int64_t{42}), StatusCode::kInvalidArgument, "/attributes/shoeSize"},
      {"bad date", with_attr("birthDate", std::string("1985-13-01")), StatusCode::kInvalidArgument,
       "/attributes/birthDate"},
      {"date as number", with_attr("birthDate", int64_t{1985}), StatusCode::kInvalidArgument,
       "/attributes/birthDate"},
      {"string as number", with_attr("annualRevenue", std::string("lots")), StatusCode::kInvalidArgument,
       "/attributes/annualRevenue"},
      {"fraction as integer", with_attr("employees", 2.5), StatusCode::kInvalidArgument, "/attributes/employees"},
      {"bad email attribute", with_attr("email", std::string("anna-at-example")), StatusCode::kInvalidArgument,
       "/attributes/email"},
      {"bad phone attribute", with_attr("phone", std::string("12")), StatusCode::kInvalidArgument,
       "/attributes/phone"},
      {"bad second identifier", with_ids({{"billing", "1"}, {"email", "nope"}}), StatusCode::kInvalidArgument,
       "/identifiers/1"},
      {"bad scheme", with_ids({{"", "1"}}), StatusCode::kInvalidArgument, "/identifiers/0"},
      {"future validFrom", future, StatusCode::kInvalidArgument, "/validFrom"},
      {"no source", no_source, StatusCode::kInvalidArgument, "/source"},
  };
  for (const auto& c : cases) {
    auto r = store_->Create(c.input);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(r.status().field(), c.field) << c.name << ": " << r.status().ToString();
  }
  // Nothing was written by the failed calls.
  auto all = store_->Search({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->items.empty());
}

TEST_F(StoreTest, IdentifierOfAnotherCustomerConflicts) {
  CustomerId anna = NewPerson("Anna", "Schmidt", {{"email", "anna@example.com"}});
  CustomerId ben = NewPerson("Ben", "Meyer", {{"billing", "2"}});
  NewCustomer dup;
  dup.identifiers = {{"shop", "7"}, {"email", "ANNA@example.com"}};
  auto r = store_->Create(dup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_EQ(r.status().field(), "/identifiers/1");
  EXPECT_NE(r.status().message().find(std::to_string(anna)), std::string::npos);
  // The failed create left no trace of its first identifier.
  auto shop = store_->FindByIdentifier({"shop", "7"});
  ASSERT_TRUE(shop.ok());
  EXPECT_FALSE(shop->has_value());

  CustomerPatch p;
  p.add_identifiers = {{"email", "anna@example.com"}};
  auto u = store_->Update(ben, p);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), StatusCode::kConflict);
  EXPECT_EQ(u.status().field(), "/addIdentifiers/0");
  // Re-adding one's own identifier is fine, removing an absent one is not.
  CustomerPatch own;
  own.add_identifiers = {{"email", "anna@example.com"}};
  EXPECT_TRUE(store_->Update(anna, own).ok());
  CustomerPatch rm;
  rm.remove_identifiers = {{"billing", "999"}};
  auto rr = store_->Update(anna, rm);
  EXPECT_EQ(rr.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(rr.status().field(), "/removeIdentifiers/0");
}

TEST_F(StoreTest, UpdateRemovesIdentifiersAndAttributes) {
  NewCustomer nc;
  nc.attributes = {{"firstName", std::string("Anna")}, {"city", std::string("Berlin")}};
  nc.identifiers = {{"billing", "1"}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok());
  clock_.Advance(kMicrosPerDay);
  CustomerPatch p;
  p.attributes = {{"city", std::monostate{}}};
  p.remove_identifiers = {{"billing", "1"}};
  p.add_identifiers = {{"shop", "9"}};
  auto u = store_->Update(c->id, p);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->attributes.count("city"), 0u);
  ASSERT_EQ(u->identifiers.size(), 1u);
  EXPECT_EQ(u->identifiers[0].ToString(), "shop:9");
  // The identifier is free again.
  CustomerId other = NewPerson("B", "C", {{"billing", "1"}});
  EXPECT_GT(other, 0);
  // asOf before the removal still shows the city.
  auto before = store_->Get(c->id, {T("2026-01-15T12:00:00Z")});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(Text(*before, "city"), "Berlin");
}

TEST_F(StoreTest, IdenticalUpdateCreatesNoHistory) {
  NewCustomer nc;
  nc.attributes = {{"firstName", std::string("Anna")}, {"city", std::string("Berlin")}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok());
  clock_.Advance(1000);
  CustomerPatch same;
  same.attributes = {{"firstName", std::string("Anna")}, {"city", std::string("Berlin")}, {"street", std::monostate{}}};
  auto u = store_->Update(c->id, same);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->updated_at, c->updated_at);
  auto h = store_->History(c->id);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 2u);

  CustomerPatch one;
  one.attributes = {{"firstName", std::string("Anna")}, {"city", std::string("Hamburg")}};
  one.source = "crm";
  ASSERT_TRUE(store_->Update(c->id, one).ok());
  h = store_->History(c->id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ(h->back().name, "city");
  EXPECT_EQ(std::get<std::string>(h->back().value), "Hamburg");
  EXPECT_EQ(h->back().source, "crm");
  EXPECT_EQ(h->back().recorded_at, clock_.Now());
}

// A person moves and marries; reads as of each time show what was true then.
TEST_F(StoreTest, AsOfReadsBeforeAndAfterMoveAndNameChange) {
  clock_.Set(T("2020-01-01T00:00:00Z"));
  NewCustomer nc;
  nc.attributes = {{"firstName", std::string("Anna")},
                   {"lastName", std::string("Schmidt")},
                   {"city", std::string("Berlin")}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok());

  clock_.Set(T("2023-06-01T00:00:00Z"));
  CustomerPatch move;
  move.attributes = {{"city", std::string("Munich")}};
  ASSERT_TRUE(store_->Update(c->id, move).ok());

  clock_.Set(T("2024-09-01T00:00:00Z"));
  CustomerPatch marry;
  marry.attributes = {{"lastName", std::string("Weber")}};
  ASSERT_TRUE(store_->Update(c->id, marry).ok());

  struct Case {
    const char* as_of;
    const char* city;
    const char* name;
  };
  const Case cases[] = {
      {"2020-01-01T00:00:00Z", "Berlin", "Anna Schmidt"},
      {"2023-05-31T23:59:59Z", "Berlin", "Anna Schmidt"},
      {"2023-06-01T00:00:00Z", "Munich", "Anna Schmidt"},
      {"2024-08-31T00:00:00Z", "Munich", "Anna Schmidt"},
      {"2024-09-01T00:00:00Z", "Munich", "Anna Weber"},
      {"2030-01-01T00:00:00Z", "Munich", "Anna Weber"},
  };
  for (const auto& k : cases) {
    auto g = store_->Get(c->id, {T(k.as_of)});
    ASSERT_TRUE(g.ok()) << k.as_of << " " << g.status().ToString();
    EXPECT_EQ(Text(*g, "city"), k.city) << k.as_of;
    EXPECT_EQ(g->display_name, k.name) << k.as_of;
  }
  auto now = store_->Get(c->id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->display_name, "Anna Weber");

  // Before the customer existed there is nothing to show.
  auto before = store_->Get(c->id, {T("2019-12-31T00:00:00Z")});
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(before.status().field(), "/asOf");
}

// Corrections recorded later but valid from an earlier time change what
// asOf reads return for that period, and keep both versions in history.
TEST_F(StoreTest, BackDatedCorrectionsApplyFromTheirValidTime) {
  clock_.Set(T("2020-01-01T00:00:00Z"));
  NewCustomer nc;
  nc.attributes = {{"firstName", std::string("Anna")}, {"city", std::string("Berlin")}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok());
  clock_.Set(T("2024-01-01T00:00:00Z"));
  CustomerPatch move;
  move.attributes = {{"city", std::string("Munich")}};
  ASSERT_TRUE(store_->Update(c->id, move).ok());

  // Learned in 2025: she had moved to Hamburg in mid-2022 (before Munich).
  clock_.Set(T("2025-03-01T00:00:00Z"));
  CustomerPatch fix;
  fix.attributes = {{"city", std::string("Hamburg")}};
  fix.valid_from = T("2022-07-01T00:00:00Z");
  fix.source = "billing";
  auto u = store_->Update(c->id, fix);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(Text(*u, "city"), "Munich");  // the later move still wins now

  EXPECT_EQ(Text(*store_->Get(c->id, {T("2022-06-30T00:00:00Z")}), "city"), "Berlin");
  EXPECT_EQ(Text(*store_->Get(c->id, {T("2023-01-01T00:00:00Z")}), "city"), "Hamburg");
  EXPECT_EQ(Text(*store_->Get(c->id, {T("2024-02-01T00:00:00Z")}), "city"), "Munich");

  // A correction at the same valid time as an existing assertion wins (it
  // is recorded later).
  clock_.Set(T("2025-04-01T00:00:00Z"));
  CustomerPatch typo;
  typo.attributes = {{"city", std::string("München")}};
  typo.valid_from = T("2024-01-01T00:00:00Z");
  ASSERT_TRUE(store_->Update(c->id, typo).ok());
  EXPECT_EQ(Text(*store_->Get(c->id), "city"), "München");
  EXPECT_EQ(Text(*store_->Get(c->id, {T("2024-02-01T00:00:00Z")}), "city"), "München");

  // Re-asserting the value already valid then is not a change.
  CustomerPatch same;
  same.attributes = {{"city", std::string("Hamburg")}};
  same.valid_from = T("2022-08-01T00:00:00Z");
  ASSERT_TRUE(store_->Update(c->id, same).ok());

  // Back-dated before creation: the customer now exists from then on.
  CustomerPatch early;
  early.attributes = {{"city", std::string("Bonn")}};
  early.valid_from = T("2019-01-01T00:00:00Z");
  ASSERT_TRUE(store_->Update(c->id, early).ok());
  EXPECT_EQ(Text(*store_->Get(c->id, {T("2019-06-01T00:00:00Z")}), "city"), "Bonn");
  EXPECT_EQ(Text(*store_->Get(c->id, {T("2020-06-01T00:00:00Z")}), "city"), "Berlin");

  auto h = store_->History(c->id);
  ASSERT_TRUE(h.ok());
  std::vector<std::string> cities;
  for (const auto& ch : *h) {
    if (ch.name == "city") cities.push_back(std::get<std::string>(ch.value));
  }
  EXPECT_EQ(cities, (std::vector<std::string>{"Bonn", "Berlin", "Hamburg", "Munich", "München"}));
  EXPECT_EQ(h->front().valid_from, T("2019-01-01T00:00:00Z"));
  EXPECT_EQ(h->front().recorded_at, T("2025-04-01T00:00:00Z"));
}

TEST_F(StoreTest, RemovedAttributeIsAbsentFromItsValidTime) {
  clock_.Set(T("2021-01-01T00:00:00Z"));
  NewCustomer nc;
  nc.attributes = {{"firstName", std::string("Anna")}, {"segment", std::string("gold")}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok());
  clock_.Set(T("2022-01-01T00:00:00Z"));
  CustomerPatch p;
  p.attributes = {{"segment", std::monostate{}}};
  ASSERT_TRUE(store_->Update(c->id, p).ok());
  EXPECT_EQ(Text(*store_->Get(c->id, {T("2021-06-01T00:00:00Z")}), "segment"), "gold");
  EXPECT_EQ(Text(*store_->Get(c->id), "segment"), "<absent>");
  auto h = store_->History(c->id);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(h->back().value));
}

TEST_F(StoreTest, SearchFindsByNamePrefixEmailPhoneAndIdentifier) {
  NewCustomer a;
  a.attributes = {{"firstName", std::string("Anna")},
                  {"lastName", std::string("Schmidt")},
                  {"email", std::string("anna@example.com")},
                  {"phone", std::string("+49 30 1234567")}};
  a.identifiers = {{"billing", "88231"}};
  auto anna = store_->Create(a);
  ASSERT_TRUE(anna.ok());
  CustomerId annette = NewPerson("Annette", "Schmitz");
  CustomerId bernd = NewPerson("Bernd", "Anders");
  CustomerId household = NewGroup(Kind::kHousehold, "Schmidt household");

  auto ids = [&](SearchQuery q) {
    auto r = store_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<CustomerId> out;
    if (r.ok()) {
      for (const auto& s : r->items) out.push_back(s.id);
    }
    return out;
  };
  auto sorted = [](std::vector<CustomerId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ids(Q("ann"))), sorted({anna->id, annette}));
  EXPECT_EQ(sorted(ids(Q("An"))), sorted({anna->id, annette, bernd}));  // Anders too
  EXPECT_EQ(ids(Q("anna schm")), std::vector<CustomerId>{anna->id});
  EXPECT_EQ(ids(Q("schm ann")), sorted({anna->id, annette}));
  EXPECT_EQ(sorted(ids(Q("schmidt"))), sorted({anna->id, household}));
  EXPECT_EQ(ids(Q("schmidt", Kind::kHousehold)), std::vector<CustomerId>{household});
  EXPECT_EQ(ids(Q("ANNA@example.com")), std::vector<CustomerId>{anna->id});
  EXPECT_EQ(ids(Q("+49 30 123")), std::vector<CustomerId>{anna->id});
  EXPECT_EQ(ids(Q("billing:88231")), std::vector<CustomerId>{anna->id});
  EXPECT_TRUE(ids(Q("zebra")).empty());
  EXPECT_TRUE(ids(Q("billing:1")).empty());
  auto all = ids({});
  EXPECT_EQ(all.size(), 4u);

  // A customer renamed is found by the new name only.
  CustomerPatch p;
  p.attributes = {{"lastName", std::string("Weber")}};
  ASSERT_TRUE(store_->Update(anna->id, p).ok());
  EXPECT_EQ(ids(Q("weber")), std::vector<CustomerId>{anna->id});
  EXPECT_EQ(ids(Q("anna schm")), std::vector<CustomerId>{});

  SearchQuery bad;
  bad.limit = 0;
  EXPECT_EQ(store_->Search(bad).status().field(), "/limit");
  bad = {};
  bad.cursor = "zz";
  EXPECT_EQ(store_->Search(bad).status().field(), "/cursor");
}

TEST_F(StoreTest, SearchPagesWithCursorsWithoutDuplicates) {
  std::vector<CustomerId> made;
  for (int i = 0; i < 23; ++i) {
    // Both name words start with "an": each customer must come once.
    made.push_back(NewPerson("Andrea" + std::to_string(i), "Anderson"));
  }
  NewPerson("Zoe", "Zed");
  for (std::string q : {"an", ""}) {
    std::vector<CustomerId> seen;
    SearchQuery sq = Q(q);
    sq.limit = 5;
    int pages = 0;
    while (true) {
      auto r = store_->Search(sq);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ++pages;
      for (const auto& s : r->items) seen.push_back(s.id);
      if (r->next_cursor.empty()) break;
      EXPECT_EQ(r->items.size(), 5u);
      sq.cursor = r->next_cursor;
      ASSERT_LT(pages, 20);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "duplicates for '" << q << "'";
    EXPECT_EQ(seen.size(), q.empty() ? 24u : 23u) << q;
  }
}

TEST_F(StoreTest, AttributeCatalogCanBeExtended) {
  auto list = store_->ListAttributes();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 18u);
  NewCustomer nc;
  nc.attributes = {{"loyaltyTier", std::string("gold")}};
  EXPECT_EQ(store_->Create(nc).status().field(), "/attributes/loyaltyTier");

  ASSERT_TRUE(store_->DefineAttribute({"loyaltyTier", AttributeType::kString, false, "Tier"}).ok());
  ASSERT_TRUE(store_->DefineAttribute({"loyaltyPoints", AttributeType::kInteger, false, "Points"}).ok());
  nc.attributes = {{"loyaltyTier", std::string("gold")}, {"loyaltyPoints", int64_t{1200}}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(std::get<int64_t>(store_->Get(c->id)->attributes.at("loyaltyPoints")), 1200);

  // Description and PII flag can change, the type cannot.
  EXPECT_TRUE(store_->DefineAttribute({"loyaltyTier", AttributeType::kString, true, "Tier, PII"}).ok());
  auto s = store_->DefineAttribute({"loyaltyTier", AttributeType::kInteger, false, ""});
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_EQ(s.field(), "/type");
  EXPECT_EQ(store_->DefineAttribute({"9x", AttributeType::kString, false, ""}).field(), "/name");
  list = store_->ListAttributes();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 20u);
  for (const auto& d : *list) {
    if (d.name == "loyaltyTier") {
      EXPECT_TRUE(d.pii);
      EXPECT_EQ(d.description, "Tier, PII");
    }
  }
}

// An import process and the server share one database: an attribute one of
// them defines is usable by the other without a restart.
TEST_F(StoreTest, AttributeDefinedByAnotherStoreIsPickedUp) {
  auto other = CustomerStore::Open(db_.get(), &clock_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->DefineAttribute({"churnRisk", AttributeType::kNumber, false, ""}).ok());
  NewCustomer nc;
  nc.attributes = {{"churnRisk", 0.25}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  CustomerRecord r;
  r.source_key = "1";
  r.attributes = {{"churnRisk", int64_t{1}}};
  auto b = store_->UpsertCustomers("crm", {r});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->errors[0].ok()) << b->errors[0].ToString();
}

TEST_F(StoreTest, ReopeningKeepsDataAndCatalog) {
  ASSERT_TRUE(store_->DefineAttribute({"vip", AttributeType::kBoolean, false, ""}).ok());
  NewCustomer nc;
  nc.attributes = {{"vip", true}, {"annualRevenue", int64_t{5}}};
  auto c = store_->Create(nc);
  ASSERT_TRUE(c.ok());
  store_.reset();
  auto reopened = CustomerStore::Open(db_.get(), &clock_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(*reopened);
  auto g = store_->Get(c->id);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(std::get<bool>(g->attributes.at("vip")), true);
  EXPECT_EQ(std::get<double>(g->attributes.at("annualRevenue")), 5.0);
}

}  // namespace
}  // namespace rapport::customer
