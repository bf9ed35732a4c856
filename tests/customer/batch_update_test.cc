// UpdateAttributes and AppendTransactions: the batch writes the tracking API
// uses (one transaction for many customers).
#include "customer/customer_test_util.h"

namespace rapport::customer {
namespace {

using BatchUpdateTest = StoreTest;

TEST_F(BatchUpdateTest, UpdateAttributesWritesEachPatchAndReportsBadOnes) {
  CustomerId a = NewPerson("Ada", "Lovelace");
  CustomerId b = NewPerson("Grace", "Hopper");
  CustomerPatch city;
  city.attributes = {{"city", std::string("London")}};
  city.source = "web";
  CustomerPatch same_name;
  same_name.attributes = {{"firstName", std::string("Grace")}};
  same_name.source = "web";
  CustomerPatch bad;
  bad.attributes = {{"email", std::string("not an email")}};
  bad.source = "web";
  CustomerPatch unknown_attr;
  unknown_attr.attributes = {{"favouriteColour", std::string("red")}};
  unknown_attr.source = "web";
  auto r = store_->UpdateAttributes({{a, city}, {b, same_name}, {b, bad}, {999999, city}, {a, unknown_attr}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(r->unchanged, 1);
  EXPECT_TRUE(r->errors[0].ok());
  EXPECT_EQ(r->errors[2].field(), "/attributes/email");
  EXPECT_EQ(r->errors[3].code(), StatusCode::kNotFound);
  EXPECT_EQ(r->errors[4].field(), "/attributes/favouriteColour");
  EXPECT_EQ(std::get<std::string>(store_->Get(a)->attributes.at("city")), "London");
  auto history = store_->History(a);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().source, "web");
}

TEST_F(BatchUpdateTest, AppendTransactionsSkipsKnownKeys) {
  CustomerId a = NewPerson("Ada", "Lovelace");
  Transaction t;
  t.customer_id = a;
  t.source = "web";
  t.source_key = "m1/0";
  t.amount = Money::FromWhole(19);
  t.currency = "USD";
  t.occurred_at = T("2026-01-01T10:00:00Z");
  auto first = store_->AppendTransactions({t});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 1);
  Transaction u = t;
  u.source_key = "m2/0";
  auto again = store_->AppendTransactions({t, u});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 1) << "m1/0 is already stored";
  EXPECT_EQ(store_->View(a)->transaction_summary.count, 2);
  Transaction no_key = t;
  no_key.source_key.clear();
  EXPECT_EQ(store_->AppendTransactions({no_key}).status().field(), "/0/sourceKey");
  Transaction lower = u;
  lower.currency = "DOGECOIN";
  EXPECT_EQ(store_->AppendTransactions({u, lower}).status().field(), "/1/currency");
  Transaction nobody = u;
  nobody.customer_id = 424242;
  nobody.source_key = "m3/0";
  EXPECT_FALSE(store_->AppendTransactions({nobody}).ok()) << "the foreign key refuses an unknown customer";
  EXPECT_EQ(store_->View(a)->transaction_summary.count, 2);
}

}  // namespace
}  // namespace rapport::customer
