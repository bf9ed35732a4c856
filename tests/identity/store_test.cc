// IdentityStore over a real SQLite customer store: merges keep every source
// customer untouched and undo exactly (a property test over random merge and
// undo sequences), the review queue, the audit trail, golden records,
// real-time matching and household proposals.
#include "identity/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "customer/customer.h"
#include "identity/febrl_util.h"
#include "identity/generated_people.h"
#include "testing/test_database.h"

namespace rapport::identity {
namespace {

using customer::CustomerId;

// Runs on SQLite, and on PostgreSQL too when RAPPORT_TEST_POSTGRES is set
// (scripts/with-postgres.sh).
class IdentityStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool UsePostgres() { return GetParam(); }

  void SetUp() override {
    if (UsePostgres() && !rapport::testing::PostgresAvailable()) {
      GTEST_SKIP() << "RAPPORT_TEST_POSTGRES is not set (run under scripts/with-postgres.sh)";
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string tag = info->name();
    for (char& ch : tag) {
      if (ch == '/') ch = '_';
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("rapport-identity-" + std::to_string(::getpid()) + "-" + tag);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = rapport::testing::OpenTestDatabase(UsePostgres(), dir_, "identity");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto customers = customer::CustomerStore::Open(db_.get(), &clock_);
    ASSERT_TRUE(customers.ok()) << customers.status().ToString();
    customers_ = std::move(*customers);
    auto ids = IdentityStore::Open(customers_.get());
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    identity_ = std::move(*ids);
  }
  void TearDown() override {
    identity_.reset();
    customers_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  CustomerId Person(std::map<std::string, customer::AttributeValue> attrs, std::vector<customer::Identifier> ids = {},
                    std::string source = "billing") {
    customer::NewCustomer c;
    c.attributes = std::move(attrs);
    c.identifiers = std::move(ids);
    c.source = std::move(source);
    auto r = customers_->Create(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    clock_.Advance(1'000'000);
    return r.ok() ? r->id : 0;
  }

  // Everything the customer store holds about a customer, as text.
  std::string Snapshot(CustomerId id) {
    auto c = customers_->Get(id);
    auto h = customers_->History(id);
    EXPECT_TRUE(c.ok() && h.ok());
    std::string s = std::to_string(c->id) + "|" + c->display_name + "|" + std::to_string(c->updated_at.micros);
    for (const auto& [k, v] : c->attributes) s += "|" + k + "=" + std::get<std::string>(v);
    for (const auto& i : c->identifiers) s += "|" + i.ToString();
    for (const auto& e : *h) s += "|" + e.name + "@" + std::to_string(e.valid_from.micros) + ":" + e.source;
    return s;
  }

  std::filesystem::path dir_;
  ManualClock clock_{Timestamp::FromSeconds(1'767'225'600)};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<customer::CustomerStore> customers_;
  std::unique_ptr<IdentityStore> identity_;
};

MergeRequest Steward(std::string evidence = "{}") {
  MergeRequest r;
  r.actor = "steward@example.com";
  r.evidence_json = std::move(evidence);
  return r;
}

TEST_P(IdentityStoreTest, MergeThenUndoRoundTripsExactly) {
  // Property: over random sequences of merges and undos on generated
  // customers, resolution always equals a model of the active links, each
  // undo restores the resolution from before its merge when undone right
  // away, and once every merge is undone the store is as it was, byte for byte.
  std::mt19937_64 rng(20261127);
  for (int round = 0; round < 3; ++round) {
    std::vector<CustomerId> ids;
    for (int i = 0; i < 25; ++i) {
      ids.push_back(Person({{"firstName", "P" + std::to_string(rng() % 1000)},
                            {"lastName", "L" + std::to_string(rng() % 7)}},
                           {{"email", "r" + std::to_string(round) + "p" + std::to_string(i) + "@example.com"}}));
    }
    std::map<CustomerId, std::string> before;
    for (CustomerId id : ids) before[id] = Snapshot(id);

    std::map<int64_t, std::pair<CustomerId, CustomerId>> active;  // merge id -> (merged, survivor)
    auto model_resolve = [&](CustomerId x) {
      for (bool moved = true; moved;) {
        moved = false;
        for (const auto& [m, edge] : active) {
          if (edge.first == x) {
            x = edge.second;
            moved = true;
            break;
          }
        }
      }
      return x;
    };
    auto resolution = [&] {
      std::map<CustomerId, CustomerId> r;
      for (CustomerId id : ids) {
        auto g = identity_->Resolve(id);
        EXPECT_TRUE(g.ok());
        r[id] = *g;
      }
      return r;
    };
    for (int step = 0; step < 60; ++step) {
      bool do_merge = active.empty() || rng() % 3 != 0;
      if (do_merge) {
        CustomerId a = ids[rng() % ids.size()], b = ids[rng() % ids.size()];
        auto prior = resolution();
        auto m = identity_->MergeCustomers(a, b, Steward());
        if (model_resolve(a) == model_resolve(b)) {
          ASSERT_FALSE(m.ok());
          EXPECT_EQ(m.status().code(), StatusCode::kConflict);
          continue;
        }
        ASSERT_TRUE(m.ok()) << m.status().ToString();
        EXPECT_EQ(m->survivor, model_resolve(a));
        EXPECT_EQ(m->merged, model_resolve(b));
        active[m->id] = {m->merged, m->survivor};
        if (rng() % 4 == 0) {  // undo right away: back to exactly the prior state
          ASSERT_TRUE(identity_->Undo(m->id, "steward@example.com").ok());
          active.erase(m->id);
          EXPECT_EQ(resolution(), prior);
        }
      } else {
        auto it = active.begin();
        std::advance(it, static_cast<long>(rng() % active.size()));
        auto u = identity_->Undo(it->first, "steward@example.com");
        ASSERT_TRUE(u.ok()) << u.status().ToString();
        EXPECT_TRUE(u->undone_at.has_value());
        active.erase(it);
      }
      for (CustomerId id : ids) {
        auto g = identity_->Resolve(id);
        ASSERT_TRUE(g.ok());
        ASSERT_EQ(*g, model_resolve(id)) << "customer " << id << " at step " << step;
      }
    }
    // Members agree with resolution.
    for (CustomerId id : ids) {
      auto members = identity_->Members(id);
      ASSERT_TRUE(members.ok());
      EXPECT_EQ(members->front(), model_resolve(id));
      for (CustomerId m : *members) EXPECT_EQ(model_resolve(m), model_resolve(id));
    }
    std::vector<int64_t> rest;
    for (const auto& [m, e] : active) rest.push_back(m);
    std::shuffle(rest.begin(), rest.end(), rng);
    for (int64_t m : rest) ASSERT_TRUE(identity_->Undo(m, "steward@example.com").ok());
    for (CustomerId id : ids) {
      EXPECT_EQ(*identity_->Resolve(id), id);
      EXPECT_EQ(Snapshot(id), before[id]) << "customer " << id << " changed";
    }
  }
}

TEST_P(IdentityStoreTest, MergeErrorsAndAudit) {
  CustomerId a = Person({{"firstName", "Jon"}, {"lastName", "Smith"}});
  CustomerId b = Person({{"firstName", "Jonathan"}, {"lastName", "Smith"}});
  EXPECT_EQ(identity_->MergeCustomers(a, 999999, Steward()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(identity_->MergeCustomers(a, b, Steward("[1]")).status().field(), "/evidence");
  EXPECT_EQ(identity_->MergeCustomers(a, a, Steward()).status().code(), StatusCode::kConflict);
  auto m = identity_->MergeCustomers(a, b, Steward(R"({"note": "same phone call"})"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(identity_->MergeCustomers(b, a, Steward()).status().code(), StatusCode::kConflict);
  EXPECT_EQ(*identity_->Resolve(b), a);
  ASSERT_TRUE(identity_->Undo(m->id, "steward@example.com").ok());
  EXPECT_EQ(identity_->Undo(m->id, "steward@example.com").status().code(), StatusCode::kConflict);
  EXPECT_EQ(identity_->Undo(424242, "x").status().code(), StatusCode::kNotFound);
  auto audit = identity_->Audit(a);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "merge");
  EXPECT_EQ((*audit)[0].detail_json, R"({"note": "same phone call"})");
  EXPECT_EQ((*audit)[1].action, "undo");
  auto merges = identity_->MergesOf(b);
  ASSERT_TRUE(merges.ok());
  ASSERT_EQ(merges->size(), 1u);
  EXPECT_EQ((*merges)[0].undone_by, "steward@example.com");
}

TEST_P(IdentityStoreTest, ReviewQueueAcceptAndReject) {
  CustomerId a = Person({{"lastName", "Smith"}}), b = Person({{"lastName", "Smyth"}}), c = Person({{"lastName", "Smit"}});
  auto r1 = identity_->QueueReview(b, a, 3.0, 0.8, R"({"weight": 3})");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->left, a);  // ordered
  EXPECT_EQ(identity_->QueueReview(a, b, 3.0, 0.8, "{}").status().code(), StatusCode::kConflict);
  auto r2 = identity_->QueueReview(a, c, 2.0, 0.7, "{}");
  ASSERT_TRUE(r2.ok());
  auto page = identity_->ListReview("", 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, r1->id);  // most probable first
  auto page2 = identity_->ListReview(page->next_cursor, 1);
  ASSERT_TRUE(page2.ok()) << page2.status().ToString();
  ASSERT_EQ(page2->items.size(), 1u);
  EXPECT_EQ(page2->items[0].id, r2->id);
  EXPECT_TRUE(page2->next_cursor.empty());
  EXPECT_EQ(identity_->ListReview("garbage", 10).status().field(), "/cursor");

  auto m = identity_->AcceptReview(r1->id, "steward@example.com");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->survivor, a);
  EXPECT_EQ(m->reason, "review");
  EXPECT_EQ(identity_->GetReview(r1->id)->status, ReviewStatus::kMerged);
  EXPECT_EQ(identity_->AcceptReview(r1->id, "x").status().code(), StatusCode::kConflict);
  auto rej = identity_->RejectReview(r2->id, "steward@example.com");
  ASSERT_TRUE(rej.ok());
  EXPECT_EQ(rej->status, ReviewStatus::kRejected);
  EXPECT_TRUE(identity_->ListReview("", 10)->items.empty());
  EXPECT_EQ(*identity_->Resolve(c), c);
}

TEST_P(IdentityStoreTest, GoldenRecordBySurvivorship) {
  CustomerId a = Person({{"firstName", "Jon"}, {"lastName", "Smith"}, {"email", "jon@old.example"}},
                        {{"billing", "1"}}, "billing");
  CustomerId b = Person({{"firstName", "Jonathan"}, {"lastName", "Smith"}, {"email", "jon@new.example"}},
                        {{"shop", "77"}}, "shop");
  ASSERT_TRUE(identity_->MergeCustomers(a, b, Steward()).ok());
  auto g = identity_->Golden(b, {{"firstName", Survivorship::kMostTrusted, {"billing"}}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->id, a);
  EXPECT_EQ(g->members, (std::vector<CustomerId>{a, b}));
  EXPECT_EQ(g->attributes["firstName"], "Jon");            // most trusted source
  EXPECT_EQ(g->attributes["email"], "jon@new.example");    // most recent by default
  EXPECT_EQ(g->attribute_from["email"], b);
  EXPECT_EQ(g->attributes["lastName"], "Smith");
  EXPECT_EQ(g->identifiers.size(), 2u);
}

TEST_P(IdentityStoreTest, RealTimeMatchingMergesOrQueues) {
  auto config = ParseModelConfig(R"({
    "comparisons": [
      {"column": "firstName", "normalizer": "name", "levels": [{"type": "exact"}, {"type": "jaroWinkler", "threshold": 0.88}]},
      {"column": "lastName", "normalizer": "name", "levels": [{"type": "exact"}, {"type": "jaroWinkler", "threshold": 0.88}]},
      {"column": "birthDate", "normalizer": "date", "levels": [{"type": "exact"}]},
      {"column": "email", "normalizer": "email", "levels": [{"type": "exact"}]}
    ],
    "blocking": [["lastName"], [{"column": "lastName", "transform": "soundex"}]],
    "deterministic": [{"column": "email", "normalizer": "email"}],
    "thresholds": {"autoMerge": 0.95, "review": 0.1}
  })");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  // Parameters as a trained model would give them (training is tested elsewhere).
  Parameters params;
  params.prior = 1e-3;
  params.levels = {{{}, {0.9, 0.01}, {0.08, 0.02}, {0.02, 0.97}},
                   {{}, {0.9, 0.01}, {0.08, 0.02}, {0.02, 0.97}},
                   {{}, {0.95, 0.001}, {0.05, 0.999}},
                   {{}, {0.9, 0.0001}, {0.1, 0.9999}}};
  params.term_frequency.resize(4);
  CustomerId jon = Person({{"firstName", "Jon"}, {"lastName", "Smith"}, {"birthDate", "1980-01-02"}});
  Person({{"firstName", "Anna"}, {"lastName", "Berg"}, {"birthDate", "1990-05-06"}, {"email", "anna@example.com"}});
  ASSERT_TRUE(identity_->BuildIndex(*config, params).ok());
  EXPECT_TRUE(identity_->has_index());

  CustomerId jon2 = Person({{"firstName", "Jon"}, {"lastName", "Smyth"}, {"birthDate", "1980-01-02"}});
  auto m = identity_->Match(jon2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->action, MatchOutcome::Action::kMerged);
  EXPECT_EQ(m->golden, jon);  // the older customer's id survives
  EXPECT_EQ(*identity_->Resolve(jon2), jon);

  CustomerId john = Person({{"firstName", "John"}, {"lastName", "Smith"}});
  m = identity_->Match(john);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->action, MatchOutcome::Action::kQueued);
  ASSERT_TRUE(m->review_id.has_value());
  auto item = identity_->GetReview(*m->review_id);
  ASSERT_TRUE(item.ok());
  EXPECT_NE(item->evidence_json.find("\"probability\""), std::string::npos);

  CustomerId anna2 = Person({{"firstName", "Hanna"}, {"lastName", "Meier"}, {"email", "ANNA@example.com"}});
  m = identity_->Match(anna2);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->action, MatchOutcome::Action::kMerged);  // deterministic: same e-mail
  EXPECT_TRUE(m->best->deterministic);

  CustomerId other = Person({{"firstName", "Zed"}, {"lastName", "Quill"}});
  m = identity_->Match(other);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->action, MatchOutcome::Action::kNone);
  EXPECT_EQ(m->golden, other);
}

TEST_P(IdentityStoreTest, HouseholdProposals) {
  auto addr = [](const char* street) {
    return std::map<std::string, customer::AttributeValue>{{"street", std::string(street)},
                                                           {"postcode", std::string("10115")},
                                                           {"city", std::string("Berlin")}};
  };
  auto with = [](std::map<std::string, customer::AttributeValue> m, const char* first, const char* last) {
    m["firstName"] = std::string(first);
    m["lastName"] = std::string(last);
    return m;
  };
  CustomerId a = Person(with(addr("Hauptstraße 5"), "Anna", "Müller"));
  CustomerId b = Person(with(addr("Hauptstr. 5"), "Ben", "Mueller"));
  CustomerId c = Person(with(addr("Hauptstrasse 5"), "Cem", "Muller"));
  Person(with(addr("Hauptstraße 5"), "Dora", "Kaya"));  // same address, other surname
  Person(with(addr("Nebenweg 1"), "Emil", "Müller"));   // same surname, other address
  HouseholdRule rule;
  auto exact = identity_->ProposeHouseholds(rule);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  ASSERT_EQ(exact->size(), 1u);  // "muller" (Anna, Cem); "mueller" alone
  EXPECT_EQ((*exact)[0].members, (std::vector<CustomerId>{a, c}));
  rule.surname_similarity = 0.9;
  auto fuzzy = identity_->ProposeHouseholds(rule);
  ASSERT_TRUE(fuzzy.ok());
  ASSERT_EQ(fuzzy->size(), 1u);
  EXPECT_EQ((*fuzzy)[0].members, (std::vector<CustomerId>{a, b, c}));
  EXPECT_EQ((*fuzzy)[0].address, "hauptstrasse 5 | 10115 | berlin");

  // Once they are one household, no proposal.
  customer::NewCustomer h;
  h.kind = customer::Kind::kHousehold;
  h.attributes = {{"name", std::string("Familie Müller")}};
  auto hh = customers_->Create(h);
  ASSERT_TRUE(hh.ok()) << hh.status().ToString();
  for (CustomerId m : {a, b, c}) {
    customer::Relationship r;
    r.from = m;
    r.to = hh->id;
    r.type = "member_of";
    r.valid_from = clock_.Now();
    ASSERT_TRUE(customers_->AddRelationship(r).ok());
  }
  fuzzy = identity_->ProposeHouseholds(rule);
  ASSERT_TRUE(fuzzy.ok());
  EXPECT_TRUE(fuzzy->empty());
}

INSTANTIATE_TEST_SUITE_P(Database, IdentityStoreTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

}  // namespace
}  // namespace rapport::identity
