// The column layer without a database: rows that arrive out of id order,
// paging, and updates that move customers in and out of segments.

#include <gtest/gtest.h>

#include "profile/profile.h"

namespace rapport::profile {
namespace {

std::unique_ptr<ProfileStore> Store() {
  ProfileStore::Builder b({{"region", ColumnType::kString}, {"revenue", ColumnType::kNumber}});
  // Ids 10..300 step 10, then 5 and 155 out of order (customers that appear later).
  for (int64_t id : {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 5, 155}) {
    b.AddRow(id);
    b.SetString(0, id % 20 == 0 ? "north" : "south");
    if (id != 50) b.SetNumber(1, static_cast<double>(id));
  }
  return b.Finish();
}

TEST(ProfileBuilderTest, MembersPageInIdOrderWithLateRows) {
  auto store = Store();
  auto seg = store->CreateSegment("all", "", "revenue > 0");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(seg->size, 17);  // 50 has no revenue
  std::vector<int64_t> all;
  int64_t after = 0;
  for (;;) {
    auto page = store->Members(seg->id, after, 4);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    all.insert(all.end(), page->begin(), page->end());
    after = page->back();
  }
  std::vector<int64_t> want = {5, 10, 20, 30, 40, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 155, 160};
  EXPECT_EQ(all, want);
}

TEST(ProfileBuilderTest, UpdatesMoveCustomersAndReportChanges) {
  auto store = Store();
  auto seg = store->CreateSegment("big northerners", "", R"(region = "north" and revenue >= 100)");
  ASSERT_TRUE(seg.ok());
  int64_t before = seg->size;
  std::vector<SegmentChange> changes;
  store->SetListener([&](const SegmentChange& c) { changes.push_back(c); });
  ASSERT_TRUE(ProfileStore::Builder::Update(*store, 155, {{"region", "north"}}).ok());  // late row, joins
  ASSERT_TRUE(ProfileStore::Builder::Update(*store, 140, {{"revenue", std::nullopt}}).ok());  // null: leaves
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].customer_id, 155);
  EXPECT_TRUE(changes[0].entered);
  EXPECT_EQ(changes[1].customer_id, 140);
  EXPECT_FALSE(changes[1].entered);
  EXPECT_EQ(store->GetSegment(seg->id)->size, before);
  EXPECT_EQ(*store->Count(R"(region = "north" and revenue >= 100)"), before);
  EXPECT_EQ(ProfileStore::Builder::Update(*store, 999, {{"region", "x"}}).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace rapport::profile
