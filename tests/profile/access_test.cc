// The columns a condition reads, as the server's personal-data checks see
// them: scanned comparisons, FEEL fallbacks and names inside strings.

#include <gtest/gtest.h>

#include "profile/profile.h"
#include "testing/temp_store.h"

namespace rapport::profile {
namespace {

std::unique_ptr<ProfileStore> Store() {
  ProfileStore::Builder b(
      {{"region", ColumnType::kString}, {"revenue", ColumnType::kNumber}, {"birthDate", ColumnType::kDate}});
  b.AddRow(1);
  b.SetString(0, "north");
  return b.Finish();
}

using Columns = std::vector<std::string>;

TEST(ReferencedColumnsTest, EveryColumnTheEvaluationReads) {
  auto store = Store();
  struct Case {
    const char* condition;
    Columns want;
  };
  const Case cases[] = {
      {R"(region = "north" and revenue > 5)", {"region", "revenue"}},
      {R"(revenue > 5 and region = "north")", {"region", "revenue"}},  // column order, each once
      {R"(not(region = "a") or revenue between 1 and 2 or revenue in (3, 4))", {"region", "revenue"}},
      {"birthDate = null", {"birthDate"}},
      {"birthDate.year + 0 = 1980", {"birthDate"}},                          // per-row FEEL
      {R"(region = "x" or not(birthDate < today()))", {"region", "birthDate"}},
      {"revenue / 2 > birthDate.month", {"revenue", "birthDate"}},
      {R"(region = "birthDate")", {"region"}},  // a string reads no column
      {"true", {}},
  };
  for (const auto& c : cases) {
    auto got = store->ReferencedColumns(c.condition);
    ASSERT_TRUE(got.ok()) << c.condition << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want) << c.condition;
  }
}

TEST(ReferencedColumnsTest, ErrorsAsCount) {
  auto store = Store();
  auto got = store->ReferencedColumns("regoin = 1");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().field(), "/condition");
  EXPECT_EQ(got.status().message(), store->Count("regoin = 1").status().message());
}

TEST(ReferencedColumnsTest, LongChainsAreWalkedWithoutRecursion) {
  auto store = Store();
  std::string condition = "birthDate = null";
  for (int i = 0; i < 500; ++i) condition += " or revenue > " + std::to_string(i);
  auto got = store->ReferencedColumns(condition);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Columns{"revenue", "birthDate"}));
}

class StoredAttributeOfTest : public rapport::testing::TempStoreTest {
 protected:
  StoredAttributeOfTest() : TempStoreTest(SystemClock::Default()->Now()) {}
};

TEST_F(StoredAttributeOfTest, CopiesNameTheirAttributeDerivationsNone) {
  ProfileOptions o = DefaultProfileOptions(clock_.Now());
  o.attributes.push_back({"dob", "birthDate", ColumnType::kDate});
  auto store = ProfileStore::Open(db_.get(), o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const ProfileStore& p = **store;
  EXPECT_EQ(p.StoredAttributeOf("birthDate"), "birthDate");
  EXPECT_EQ(p.StoredAttributeOf("dob"), "birthDate");
  EXPECT_EQ(p.StoredAttributeOf("postcode"), "postcode");
  for (const char* derived : {"age", "ageBand", "kind", "revenue", "lastPurchase", "nosuchcolumn"}) {
    EXPECT_EQ(p.StoredAttributeOf(derived), "") << derived;
  }
}

TEST(StoredAttributeOfBuilderTest, ABuiltStoreHasNone) {
  // A Builder store has no attribute definitions: nothing is a stored copy.
  EXPECT_EQ(Store()->StoredAttributeOf("birthDate"), "");
}

}  // namespace
}  // namespace rapport::profile
