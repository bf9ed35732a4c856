// RFM: measures, refunds, quintiles with ties, configured bins; and CDNOW
// master against figures counted independently with awk.
#include "analytics/rfm.h"

#include <gtest/gtest.h>

#include <map>

#include "common/time.h"

namespace rapport::analytics {
namespace {

int32_t Day(int y, unsigned m, unsigned d) { return static_cast<int32_t>(DaysFromCivil(y, m, d)); }

TEST(RfmTest, MeasuresNetRefundsAndLeaveOutRefundOnlyCustomers) {
  TransactionList list;
  list.customers = {"a", "b", "c"};
  const int32_t d = Day(2024, 1, 1);
  list.rows = {{0, d, Money::FromWhole(100)},      {0, d + 10, Money::FromWhole(50)},
               {0, d + 12, Money::FromWhole(-30)}, {1, d + 5, Money::FromWhole(-20)},
               {2, d + 3, Money::FromWhole(10)},   {2, d + 40, Money::FromWhole(99)}};
  RfmOptions o;
  o.as_of = d + 20;
  auto t = ComputeRfm(list, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->refund_only, 1);
  EXPECT_EQ(t->after_as_of, 1);
  const RfmRow& a = t->rows[0];
  EXPECT_EQ(a.customer, 0);
  EXPECT_EQ(a.recency_days, 10);  // the refund on day 12 is not a purchase
  EXPECT_EQ(a.frequency, 2);
  EXPECT_EQ(a.monetary, Money::FromWhole(120));
  const RfmRow& c = t->rows[1];
  EXPECT_EQ(c.recency_days, 17);
  EXPECT_EQ(c.monetary, Money::FromWhole(10));
  // Of two customers, quintile ranks 0 and 1 of 2 give scores 1 and 3.
  EXPECT_EQ(a.Cell(), "333");
  EXPECT_EQ(c.Cell(), "111");
}

TEST(RfmTest, QuintilesOfTenAndTiesShareAScore) {
  TransactionList list;
  const int32_t d = Day(2024, 1, 1);
  for (int i = 0; i < 10; ++i) {
    list.customers.push_back("c" + std::to_string(i));
    // Customer i buys i + 1 times, the last on day i, for 10 * (i + 1).
    for (int k = 0; k <= i; ++k) list.rows.push_back({i, d + k, Money::FromWhole(10)});
  }
  // Two customers with the same frequency and spend as customer 9.
  for (int i = 10; i < 12; ++i) {
    list.customers.push_back("c" + std::to_string(i));
    for (int k = 0; k < 10; ++k) list.rows.push_back({i, d + k, Money::FromWhole(10)});
  }
  RfmOptions o;
  o.as_of = d + 20;
  auto t = ComputeRfm(list, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 12u);
  // Ranks 0..8 are customers 0..8; customers 9, 10, 11 tie at rank 9 of 12.
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(t->rows[static_cast<size_t>(i)].f, 1 + i * 5 / 12) << i;
    EXPECT_EQ(t->rows[static_cast<size_t>(i)].m, 1 + i * 5 / 12) << i;
    EXPECT_EQ(t->rows[static_cast<size_t>(i)].r, 1 + i * 5 / 12) << i;  // the later the last day, the more recent
  }
  for (int i = 9; i < 12; ++i) {
    EXPECT_EQ(t->rows[static_cast<size_t>(i)].Cell(), "444") << i;  // 1 + 9 * 5 / 12
  }
  std::map<int, int> per_f;
  for (const RfmRow& r : t->rows) per_f[r.f]++;
  EXPECT_EQ(per_f.size(), 4u);  // no customer reaches 5: the tie holds the top three together
}

TEST(RfmTest, ConfiguredBinsAndBadOptions) {
  TransactionList list;
  list.customers = {"a", "b", "c"};
  const int32_t d = Day(2024, 1, 1);
  list.rows = {{0, d, Money::FromWhole(5)}, {1, d + 50, Money::FromWhole(500)}, {1, d + 60, Money::FromWhole(1)},
               {2, d + 99, Money::FromWhole(50)}};
  RfmOptions o;
  o.as_of = d + 100;
  o.recency_edges = {30, 90};      // < 30 days: 3; < 90: 2; else 1
  o.frequency_edges = {2};          // one purchase: 1; two or more: 2
  o.monetary_edges = {10, 100};     // < 10: 1; < 100: 2; else 3
  auto t = ComputeRfm(list, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows[0].Cell(), "111");  // 100 days, once, 5
  EXPECT_EQ(t->rows[1].Cell(), "223");  // 40 days, twice, 501
  EXPECT_EQ(t->rows[2].Cell(), "312");  // 1 day, once, 50
  RfmOptions bad;
  bad.monetary_edges = {100, 10};
  EXPECT_EQ(ComputeRfm(list, bad).status().field(), "monetary");
  bad = RfmOptions();
  bad.bins = 0;
  EXPECT_EQ(ComputeRfm(list, bad).status().field(), "bins");
}

TEST(RfmTest, CdnowMasterAgreesWithAnIndependentCount) {
  auto list = ReadTransactionFile(std::string(RAPPORT_SHARED_DIR) + "/data/cdnow/CDNOW_master.txt",
                                  TransactionFileFormat::kWhitespace, {"customer_id", "date", "dollar_value"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  RfmOptions o;
  o.as_of = Day(1998, 7, 1);
  o.recency_edges = {31};
  auto t = ComputeRfm(*list, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 23570u);
  MoneySum total;
  int64_t purchases = 0, recent = 0;
  for (const RfmRow& r : t->rows) {
    total.Add(r.monetary);
    purchases += r.frequency;
    recent += r.r == 2;
  }
  // awk over the file: the sum of dollar_value, the row count (80 orders of
  // $0.00 are orders too), and the customers whose last purchase is on or
  // after 1998-06-01.
  EXPECT_EQ(total.total(), *Money::Parse("2500315.63"));
  EXPECT_EQ(purchases, 69659);
  EXPECT_EQ(recent, 1506);
  // Quintiles of monetary: five groups of about a fifth each.
  RfmOptions q;
  q.as_of = Day(1998, 7, 1);
  auto quint = ComputeRfm(*list, q);
  ASSERT_TRUE(quint.ok());
  std::map<int, int> per_m;
  for (const RfmRow& r : quint->rows) per_m[r.m]++;
  ASSERT_EQ(per_m.size(), 5u);
  for (auto [score, n] : per_m) EXPECT_NEAR(n, 23570 / 5, 23570 / 50) << score;
}

}  // namespace
}  // namespace rapport::analytics
