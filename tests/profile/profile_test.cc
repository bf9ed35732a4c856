// The profile store against the operational store: every count and query
// result is checked against the same question answered by SQL on the demo
// data, and every vectorized condition against FEEL evaluated row by row.

#include "profile/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include "customer/customer.h"
#include "demo/demo.h"
#include "feel/feel.h"

namespace rapport::profile {
namespace {

const Timestamp kAsOf{DaysFromCivil(2026, 1, 1) * kMicrosPerDay};

// One demo company for the whole suite (2,000 customers: a few seconds).
class ProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("rapport-profile-test-" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    storage::SqliteOptions opts;
    opts.durable = false;
    auto db = storage::OpenSqlite((*dir_ / "t.db").string(), opts);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = db->release();
    clock_ = new ManualClock(kAsOf);
    auto store = customer::CustomerStore::Open(db_, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    customers_ = store->release();
    demo::DemoOptions d;
    d.customers = 2000;
    d.seed = 7;
    d.end = kAsOf;
    auto stats = demo::GenerateIntoStore(*customers_, d);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    auto p = ProfileStore::Open(db_, DefaultProfileOptions(kAsOf));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    profile_ = p->release();
  }
  static void TearDownTestSuite() {
    delete profile_;
    delete customers_;
    delete db_;
    delete clock_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static int64_t SqlCount(const std::string& sql, std::initializer_list<storage::Value> params = {}) {
    int64_t n = -1;
    Status st = db_->WithConnection([&](storage::Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(auto r, c.Query(sql, params));
      n = r.rows.at(0).at(0).AsInt();
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << sql;
    return n;
  }
  static storage::QueryResult Sql(const std::string& sql, std::initializer_list<storage::Value> params = {}) {
    storage::QueryResult out;
    Status st = db_->WithConnection([&](storage::Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(out, c.Query(sql, params));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << sql;
    return out;
  }
  static int64_t Count(const std::string& condition) {
    auto n = profile_->Count(condition);
    EXPECT_TRUE(n.ok()) << condition << ": " << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  static std::filesystem::path* dir_;
  static storage::Database* db_;
  static ManualClock* clock_;
  static customer::CustomerStore* customers_;
  static ProfileStore* profile_;
};
std::filesystem::path* ProfileTest::dir_ = nullptr;
storage::Database* ProfileTest::db_ = nullptr;
ManualClock* ProfileTest::clock_ = nullptr;
customer::CustomerStore* ProfileTest::customers_ = nullptr;
ProfileStore* ProfileTest::profile_ = nullptr;

// SQL for the aggregates, households included: a customer's own rows plus,
// for a household, its current members' rows.
const char* kContributors =
    "(SELECT c2.id FROM customers c2 WHERE c2.id = c.id UNION SELECT r.customer_id FROM customer_relationships r "
    "WHERE r.related_id = c.id AND r.type = 'member_of' AND r.valid_to IS NULL)";

std::string Revenue(const std::string& window_micros_min = "") {
  return std::string("(SELECT COALESCE(SUM(t.amount), 0) / 10000.0 FROM customer_transactions t WHERE t.customer_id IN ") +
         kContributors + (window_micros_min.empty() ? "" : " AND t.occurred_at > " + window_micros_min) + ")";
}

std::string Attr(const std::string& key) { return "json_extract(c.attributes, '$." + key + "')"; }

TEST_F(ProfileTest, BuildsOneRowPerCustomer) {
  EXPECT_EQ(profile_->size(), SqlCount("SELECT COUNT(*) FROM customers"));
  EXPECT_GT(profile_->size(), 1500);
  // A customer the store has never seen is reported, not read out of range.
  EXPECT_EQ(profile_->ValueOf(987654321, "revenue").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(profile_->SegmentsOf(987654321).empty());
}

TEST_F(ProfileTest, CountsMatchSql) {
  auto regions = Sql("SELECT json_extract(attributes, '$.region') AS g, COUNT(*) FROM customers GROUP BY g "
                     "ORDER BY 2 DESC LIMIT 1");
  std::string region = regions.rows.at(0).at(0).AsText();
  int64_t day90 = kAsOf.micros - 90 * kMicrosPerDay;
  int64_t oct1 = DaysFromCivil(2025, 10, 1) * kMicrosPerDay;
  struct Case {
    std::string feel;
    std::string sql_where;
  };
  std::vector<Case> cases = {
      {"kind = \"person\"", "c.kind = 'person'"},
      {"region = \"" + region + "\"", Attr("region") + " = '" + region + "'"},
      // Null: persons have no industry; FEEL's null != "x" is true.
      {"industry = null", Attr("industry") + " IS NULL"},
      {"industry != \"retail\"", "COALESCE(" + Attr("industry") + ", '') != 'retail'"},
      {"birthDate < date(\"1970-01-01\")", Attr("birthDate") + " < '1970-01-01'"},
      {"revenue > 500 and region = \"" + region + "\"",
       Revenue() + " > 500 AND " + Attr("region") + " = '" + region + "'"},
      {"revenue90d > 100 or kind = \"organization\"", Revenue(std::to_string(day90)) + " > 100 OR c.kind = 'organization'"},
      {"not(kind = \"person\") and revenue between 100 and 5000",
       "c.kind != 'person' AND " + Revenue() + " BETWEEN 100 AND 5000"},
      {"lastPurchase >= date(\"2025-10-01\")",
       "(SELECT MAX(t.occurred_at) FROM customer_transactions t WHERE t.customer_id IN " + std::string(kContributors) +
           ") >= " + std::to_string(oct1)},
      {"serviceContacts = 0 and kind = \"person\"",
       "c.kind = 'person' AND NOT EXISTS (SELECT 1 FROM customer_interactions i WHERE i.customer_id IN " +
           std::string(kContributors) + " AND i.channel = 'call_centre')"},
      {"onlineOrders90d > 0",
       "EXISTS (SELECT 1 FROM customer_transactions t WHERE t.customer_id IN " + std::string(kContributors) +
           " AND t.channel IN ('web', 'app') AND t.occurred_at > " + std::to_string(day90) + ")"},
      {"kind in (\"household\", \"organization\")", "c.kind IN ('household', 'organization')"},
      {"employees in [10..249]", "CAST(" + Attr("employees") + " AS REAL) BETWEEN 10 AND 249"},
  };
  for (const auto& c : cases) {
    int64_t want = SqlCount("SELECT COUNT(*) FROM customers c WHERE " + c.sql_where);
    EXPECT_EQ(Count(c.feel), want) << c.feel;
    EXPECT_GT(want, 0) << "a case that selects nobody proves little: " << c.feel;
  }
}

// The vectorized scan and FEEL row by row agree, nulls included: wrapping a
// condition in if-then-else makes the whole of it run through FEEL.
TEST_F(ProfileTest, ScanAgreesWithFeelRowByRow) {
  const char* conditions[] = {
      "gender = \"f\"",
      "gender != \"f\"",
      "not(gender = \"f\")",
      "age >= 40 and age < 50",
      "ageBand = \"40-49\"",
      "age < 30 or industry = null",
      "not(age < 30 or revenue > 1000)",
      "city < \"M\"",
      "firstPurchase > date(\"2024-01-01\") and topCategory != null",
      "lastServiceContact != null and lastServiceContact <= today() - duration(\"P180D\")",
      "revenue365d between 50 and 2000",
      "postcode in [\"10115\", \"80331\"]",
      "region in (\"Bayern\", \"Hessen\")",
      "region in (\"Bayern\")",
      // The FEEL engine takes all of "[...] or region ..." as the tests of `in`.
      "postcode in [\"10115\", \"80331\"] or region in (\"Bayern\")",
      "(postcode in [\"10115\", \"80331\"]) or region in (\"Bayern\")",
      "annualRevenue > 1000000",
      "revenue / (orders + 1) > 60",  // arithmetic over columns: a FEEL node inside the scan
  };
  for (const char* c : conditions) {
    std::string slow = std::string("if ") + c + " then true else false";
    EXPECT_EQ(Count(c), Count(slow)) << c;
  }
}

TEST_F(ProfileTest, HouseholdRevenueIsTheSumOfItsMembers) {
  auto rows = Sql(std::string("SELECT c.id, ") + Revenue() + ", (SELECT COUNT(*) FROM customer_relationships r "
                  "WHERE r.related_id = c.id AND r.type = 'member_of' AND r.valid_to IS NULL) FROM customers c "
                  "WHERE c.kind = 'household'");
  ASSERT_GT(rows.rows.size(), 50u);
  int with_members = 0;
  for (const auto& r : rows.rows) {
    auto v = profile_->ValueOf(r[0].AsInt(), "revenue");
    ASSERT_TRUE(v.ok());
    EXPECT_NEAR(std::stod(*v), r[1].AsDouble(), 1e-6 * std::max(1.0, std::fabs(r[1].AsDouble()))) << r[0].AsInt();
    if (r[2].AsInt() > 0 && r[1].AsDouble() > 0) ++with_members;
  }
  EXPECT_GT(with_members, 20);
}

TEST_F(ProfileTest, GroupByMatchesSql) {
  QuerySpec q;
  q.measures = {"count", "sum(revenue)", "avg(age)"};
  q.dimensions = {"region", "gender"};
  q.filter = "kind = \"person\"";
  q.limit = 1000;
  auto res = profile_->Query(q);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  auto sql = Sql("SELECT COALESCE(" + Attr("region") + ", ''), COALESCE(" + Attr("gender") + ", ''), COUNT(*), SUM(" +
                 Revenue() + ") FROM customers c WHERE c.kind = 'person' GROUP BY 1, 2");
  ASSERT_EQ(res->rows.size(), sql.rows.size());
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, double>> want;
  for (const auto& r : sql.rows) want[{r[0].AsText(), r[1].AsText()}] = {r[2].AsInt(), r[3].AsDouble()};
  for (const auto& r : res->rows) {
    auto it = want.find({r.dimensions[0], r.dimensions[1]});
    ASSERT_NE(it, want.end()) << r.dimensions[0] << "/" << r.dimensions[1];
    EXPECT_EQ(*r.measures[0], it->second.first);
    EXPECT_NEAR(*r.measures[1], it->second.second, 1e-6 * std::max(1.0, it->second.second));
    EXPECT_TRUE(r.measures[2].has_value());
  }
  // Ordered by the first measure, largest first.
  for (size_t i = 1; i < res->rows.size(); ++i) EXPECT_GE(*res->rows[i - 1].measures[0], *res->rows[i].measures[0]);
  std::string csv = res->ToCsv();
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "region,gender,count,sum(revenue),avg(age)");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(res->rows.size() + 1));
}

TEST_F(ProfileTest, GroupByDateAndNumberDimensions) {
  QuerySpec q;
  q.measures = {"count"};
  q.dimensions = {"employees"};
  q.filter = "kind = \"organization\"";
  auto res = profile_->Query(q);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  int64_t total = 0;
  for (const auto& r : res->rows) total += static_cast<int64_t>(*r.measures[0]);
  EXPECT_EQ(total, SqlCount("SELECT COUNT(*) FROM customers WHERE kind = 'organization'"));
  EXPECT_EQ(static_cast<int64_t>(res->rows.size()),
            SqlCount("SELECT COUNT(DISTINCT json_extract(attributes, '$.employees')) FROM customers "
                     "WHERE kind = 'organization'"));
}

TEST_F(ProfileTest, BadConditionsPointAtThePosition) {
  struct Case {
    std::string condition;
    int position;
    std::string words;
  };
  std::vector<Case> cases = {
      {"revenue > 500 and regoin = \"north\"", 18, "unknown column 'regoin'"},
      {"revenue > \"lots\"", 10, "is a number, compared with a string"},
      {"region = \"north\" and lastPurchase > 5", 36, "is a date, compared with a number"},
      {"revenue > 500 and (region = ", 28, ""},
      {"region", 0, "not a condition"},
      {"", 0, "empty"},
  };
  for (const auto& c : cases) {
    auto n = profile_->Count(c.condition);
    ASSERT_FALSE(n.ok()) << c.condition;
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(n.status().field(), "/condition");
    EXPECT_EQ(n.status().message().rfind("position " + std::to_string(c.position) + ":", 0), 0u)
        << c.condition << " -> " << n.status().message();
    EXPECT_NE(n.status().message().find(c.words), std::string::npos) << n.status().message();
  }
}

TEST_F(ProfileTest, SegmentsPersistPageCombineAndSnapshot) {
  auto big = profile_->CreateSegment("spenders", "revenue over 200", "revenue > 200");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->size, Count("revenue > 200"));
  auto persons = profile_->CreateSegment("persons", "", "kind = \"person\"");
  ASSERT_TRUE(persons.ok());
  auto both = profile_->CombineSegments("spending persons", SetOperation::kIntersection, big->id, persons->id);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->size, Count("revenue > 200 and kind = \"person\""));
  auto rest = profile_->CombineSegments("spending others", SetOperation::kDifference, big->id, persons->id);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size, Count("revenue > 200 and kind != \"person\""));

  // Paging walks every member once, in id order.
  std::vector<int64_t> all;
  int64_t after = 0;
  for (;;) {
    auto page = profile_->Members(big->id, after, 97);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    all.insert(all.end(), page->begin(), page->end());
    after = page->back();
  }
  EXPECT_EQ(static_cast<int64_t>(all.size()), big->size);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));

  auto snap = profile_->Snapshot(big->id, "2026-01-01");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(*snap, big->size);
  EXPECT_EQ(profile_->Snapshot(big->id, "2026-01-01").status().code(), StatusCode::kConflict);
  auto members = profile_->SnapshotMembers(big->id, "2026-01-01");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(*members, all);

  // A second store over the same database loads the segments.
  auto again = ProfileStore::Open(db_, DefaultProfileOptions(kAsOf));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto loaded = (*again)->GetSegment(both->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size, both->size);
  EXPECT_EQ(loaded->name, "spending persons");

  EXPECT_EQ(profile_->DeleteSegment(big->id).code(), StatusCode::kConflict);
  for (int64_t id : {rest->id, both->id, big->id, persons->id}) EXPECT_TRUE(profile_->DeleteSegment(id).ok());
}

TEST_F(ProfileTest, AnEventMovesACustomerIntoASegmentWithoutRebuild) {
  // A person with no call-centre contact and little revenue.
  auto pick = Sql(std::string("SELECT c.id FROM customers c WHERE c.kind = 'person' AND ") + Revenue() +
                  " < 100 ORDER BY c.id LIMIT 1");
  ASSERT_FALSE(pick.empty());
  int64_t id = pick.rows[0][0].AsInt();
  auto seg = profile_->CreateSegment("big online buyers", "", "revenue30d > 5000 and onlineOrders90d > 0");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  int64_t before = seg->size;

  std::vector<SegmentChange> seen;
  profile_->SetListener([&](const SegmentChange& c) { seen.push_back(c); });
  customer::Transaction t;
  t.customer_id = id;
  t.source = "test";
  t.source_key = "big-order-1";
  t.occurred_at = Timestamp{kAsOf.micros - kMicrosPerDay};
  t.channel = "web";
  t.category = "furniture";
  t.amount = Money::FromWhole(9000);
  ASSERT_TRUE(customers_->AddTransaction(t).ok());
  ASSERT_TRUE(profile_->Apply(id).ok());

  // The customer enters; so may its household (its revenue includes theirs).
  bool entered = false;
  for (const auto& c : seen) {
    EXPECT_EQ(c.segment_id, seg->id);
    EXPECT_TRUE(c.entered);
    entered |= c.customer_id == id;
  }
  EXPECT_TRUE(entered);
  EXPECT_EQ(profile_->GetSegment(seg->id)->size, before + static_cast<int64_t>(seen.size()));
  bool listed = false;
  for (const auto& s : profile_->SegmentsOf(id)) listed |= s.id == seg->id;
  EXPECT_TRUE(listed);
  // The whole-table scan agrees with the incremental state.
  EXPECT_EQ(profile_->GetSegment(seg->id)->size, Count(seg->condition));
  // The changes are recorded as the segment's feed.
  auto events = profile_->SegmentEvents(seg->id, 0, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), seen.size());
  EXPECT_TRUE((*events)[0].entered);
  profile_->SetListener(nullptr);
  ASSERT_TRUE(profile_->DeleteSegment(seg->id).ok());
}

// The change feed's path: ids handed to the updater are applied on its own
// thread; the listener sees the exit when the customer's big order is refunded.
TEST_F(ProfileTest, UpdaterAppliesQueuedCustomers) {
  auto pick = Sql(std::string("SELECT c.id FROM customers c WHERE c.kind = 'person' AND ") + Revenue() +
                  " < 50 ORDER BY c.id DESC LIMIT 1");
  ASSERT_FALSE(pick.empty());
  int64_t id = pick.rows[0][0].AsInt();
  auto seg = profile_->CreateSegment("refund watch", "", "revenue30d > 3000");
  ASSERT_TRUE(seg.ok());
  std::vector<SegmentChange> seen;
  std::mutex mu;
  profile_->SetListener([&](const SegmentChange& c) {
    std::lock_guard lock(mu);
    if (c.segment_id == seg->id && c.customer_id == id) seen.push_back(c);
  });
  ProfileUpdater updater(profile_);
  for (double amount : {4000.0, -4000.0}) {
    customer::Transaction t;
    t.customer_id = id;
    t.source = "test";
    t.source_key = "updater-" + std::to_string(amount);
    t.occurred_at = Timestamp{kAsOf.micros - 2 * kMicrosPerDay};
    t.amount = *Money::FromDouble(amount);
    ASSERT_TRUE(customers_->AddTransaction(t).ok());
    updater.Enqueue({id, 0});
    updater.Flush();
  }
  updater.Enqueue({});
  updater.Flush();  // nothing queued: returns at once
  EXPECT_EQ(updater.applied(), 2);
  EXPECT_EQ(updater.failed(), 0);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].entered);
  EXPECT_FALSE(seen[1].entered);
  profile_->SetListener(nullptr);
  ASSERT_TRUE(profile_->DeleteSegment(seg->id).ok());
}

// Columns from configuration: a custom aggregate with a window and a FEEL
// filter, checked against SQL; bad configuration names the member.
TEST_F(ProfileTest, ConfiguredAggregatesMatchSql) {
  auto options = ParseProfileOptions(R"j({
    "attributes": [{"name": "kind", "attribute": "@kind"}, {"name": "ageBand", "attribute": "birthDate", "derive": "ageBand"}],
    "aggregates": [{"name": "storeRevenue365d", "source": "transactions", "measure": "sum", "field": "amount",
                    "windowDays": 365, "filter": "channel = \"store\" and amount > 20", "rollup": false}]
  })j", kAsOf);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  auto store = ProfileStore::Open(db_, *options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->columns().size(), 3u);
  int64_t since = kAsOf.micros - 365 * kMicrosPerDay;
  int64_t want = SqlCount("SELECT COUNT(*) FROM customers c WHERE (SELECT COALESCE(SUM(amount), 0) / 10000.0 FROM "
                          "customer_transactions t WHERE t.customer_id = c.id AND t.channel = 'store' AND "
                          "t.amount > 200000 AND t.occurred_at > " + std::to_string(since) + ") > 100");
  EXPECT_GT(want, 0);
  EXPECT_EQ(*(*store)->Count("storeRevenue365d > 100"), want);

  struct Bad {
    const char* json;
    const char* field;
  };
  for (const Bad& b : {Bad{R"j({"aggregates": [{"name": "x", "source": "orders", "measure": "count"}]})j", "/aggregates/0/source"},
                       Bad{R"j({"aggregates": [{"name": "x", "source": "transactions", "measure": "avg"}]})j", "/aggregates/0/measure"},
                       Bad{R"j({"attributes": [{"name": "x", "type": "money"}]})j", "/attributes/0/type"},
                       Bad{R"j({"attributes": [{"name": "x", "colour": "red"}]})j", "/attributes/0/colour"},
                       Bad{R"j({"extra": 1})j", "/extra"}}) {
    auto bad = ParseProfileOptions(b.json, kAsOf);
    ASSERT_FALSE(bad.ok()) << b.json;
    EXPECT_EQ(bad.status().field(), b.field) << bad.status().ToString();
  }
  // Fields and filters are checked when the store opens.
  auto unknown_field = ParseProfileOptions(
      R"j({"aggregates": [{"name": "x", "source": "transactions", "measure": "sum", "field": "price"}]})j", kAsOf);
  ASSERT_TRUE(unknown_field.ok());
  EXPECT_EQ(ProfileStore::Open(db_, *unknown_field).status().field(), "/aggregates/x/field");
  auto bad_filter = ParseProfileOptions(
      R"j({"aggregates": [{"name": "x", "source": "interactions", "measure": "count", "filter": "channel = "}]})j", kAsOf);
  ASSERT_TRUE(bad_filter.ok());
  EXPECT_EQ(ProfileStore::Open(db_, *bad_filter).status().field(), "/aggregates/x/filter");
}

}  // namespace
}  // namespace rapport::profile
