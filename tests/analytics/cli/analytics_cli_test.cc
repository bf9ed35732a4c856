// `rapport analytics clv|model ...` on analysts' own files, run as a user runs it.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "testing/rapport_cli.h"

namespace {

using rapport::testing::Outcome;
using rapport::testing::Slurp;
using AnalyticsCliTest = rapport::testing::RapportCliTest;

const std::string kCdnow = std::string(RAPPORT_SHARED_DIR) + "/data/cdnow/";

TEST_F(AnalyticsCliTest, ClvFitOnTheCdnowSamplePrintsThePublishedEstimates) {
  Outcome r = Rapport({"analytics", "clv", "fit", kCdnow + "CDNOW_sample.txt", "--format", "whitespace", "--customer",
                       "2", "--date", "3", "--amount", "5", "--calibration-end", "1997-09-30", "--scores",
                       "scores.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("6,919 transactions, 2,357 customers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r=0.2426 alpha=4.4136 a=0.7929 b=2.4259"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-9582.43"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r=0.5533 alpha=10.5777 s=0.6062 beta=11.6687"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p=6.2496 q=3.7442 gamma=15.4435 (946 repeat buyers)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-4055.92"), std::string::npos) << r.out;
  // The holdout table: 1,411 customers without a repeat purchase; 1,882 in total.
  EXPECT_NE(r.out.find("0     1,411"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total            1882"), std::string::npos) << r.out;
  std::string scores = Slurp(dir_ / "scores.csv");
  EXPECT_EQ(scores.rfind("customer,x,t_x,T,monetary,probabilityAlive,expectedPurchases,expectedOrderValue,clv\n", 0), 0u);
  EXPECT_NE(scores.find("\n0001,2,30.4286,38.8571,22.345,"), std::string::npos) << scores.substr(0, 300);
  EXPECT_NE(r.err.find("2,357 customer scores written"), std::string::npos) << r.err;
}

TEST_F(AnalyticsCliTest, ClvFitOnACsvWithNamedColumns) {
  std::ofstream(dir_ / "orders.csv") << "order,customer,day,total\n"
                                        "1,ann,2024-01-01,10\n2,ann,2024-02-01,20\n3,ann,2024-03-01,30\n"
                                        "4,bob,2024-01-15,5\n5,bob,2024-04-01,15\n6,cid,2024-02-10,8\n"
                                        "7,dee,2024-01-03,12\n8,dee,2024-01-20,14\n9,dee,2024-05-01,9\n";
  Outcome r = Rapport({"analytics", "clv", "fit", "orders.csv", "--customer", "customer", "--date", "day", "--amount",
                       "total"});
  // Four customers are too few for the models to be identified: the
  // likelihood rises without a maximum, and the command says so.
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("9 transactions, 4 customers, 9 purchase days"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("BG/NBD fit has no maximum"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing fitted"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("holdout:"), std::string::npos) << "no calibration end, no holdout";
}

TEST_F(AnalyticsCliTest, ClvFitNamesTheBadColumnAndLine) {
  std::ofstream(dir_ / "bad.csv") << "customer,day,total\nann,2024-01-01,10\nbob,yesterday,5\n";
  Outcome r = Rapport({"analytics", "clv", "fit", "bad.csv", "--customer", "customer", "--date", "day", "--amount",
                       "total"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(field day)"), std::string::npos) << r.err;
  Outcome missing = Rapport({"analytics", "clv", "fit", "bad.csv", "--customer", "customer", "--date", "day",
                             "--amount", "amount"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("'amount' is not in the header"), std::string::npos) << missing.err;
  EXPECT_EQ(Rapport({"analytics", "clv", "fit", "bad.csv", "--customer", "customer"}).exit_code, 2);
}

TEST_F(AnalyticsCliTest, ModelEvaluateOnTelcoChurnPrintsBothAucs) {
  const std::string telco = std::string(RAPPORT_SHARED_DIR) + "/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv";
  Outcome r = Rapport({"analytics", "model", "evaluate", telco, "--target", "Churn", "--positive", "Yes", "--exclude",
                       "customerID", "--test-fraction", "0.3", "--seed", "42"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("7,043 rows, target Churn = Yes for 1,869 (26.5%)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("split: 4,930 train, 2,113 test (stratified, seed 42)"), std::string::npos) << r.out;
  size_t b = r.out.find("boosted trees (200, depth 3)");
  size_t l = r.out.find("logistic regression (L2 1)");
  ASSERT_NE(b, std::string::npos) << r.out;
  ASSERT_NE(l, std::string::npos) << r.out;
  double boosted_auc = std::stod(r.out.substr(b + 32, 6));
  double logistic_auc = std::stod(r.out.substr(l + 32, 6));
  EXPECT_GE(boosted_auc, 0.84) << r.out;
  EXPECT_NEAR(logistic_auc, 0.84, 0.015) << r.out;
  EXPECT_NE(r.out.find("gains and lift by decile"), std::string::npos);

  Outcome nobody = Rapport({"analytics", "model", "evaluate", telco, "--target", "Churn", "--positive", "Maybe",
                            "--exclude", "customerID"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_NE(nobody.err.find("'Maybe' for 0 of 7,043 rows"), std::string::npos) << nobody.err;
}

TEST_F(AnalyticsCliTest, ModelEvaluateReportsLeftOutColumns) {
  std::ofstream csv(dir_ / "c.csv");
  csv << "id,plan,region,blank,spend,bought\n";
  for (int i = 0; i < 400; ++i) {
    csv << "c" << i << "," << (i % 3 == 0 ? "gold" : "basic") << ",north,," << (i % 11) * 10 << ","
        << ((i % 3 == 0) != (i % 17 == 0) ? 1 : 0) << "\n";
  }
  csv.close();
  Outcome r = Rapport({"analytics", "model", "evaluate", "c.csv", "--target", "bought", "--trees", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("left out: id: more than 50 distinct values"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("left out: region: constant"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("left out: blank: entirely blank"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 features (1 numeric, 2 category levels)"), std::string::npos) << r.out;
}

TEST_F(AnalyticsCliTest, RfmWritesScoresPerCustomer) {
  std::ofstream(dir_ / "t.csv") << "customer,day,amount\n"
                                   "ann,2024-01-01,100\nann,2024-03-01,50\nann,2024-03-02,-30\n"
                                   "bob,2024-02-01,10\ncid,2024-02-15,-5\n";
  Outcome r = Rapport({"analytics", "rfm", "t.csv", "--customer", "customer", "--date", "day", "--amount", "amount",
                       "--as-of", "2024-04-01", "--recency-edges", "30,60", "-o", "rfm.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Slurp(dir_ / "rfm.csv"),
            "customer,recencyDays,frequency,monetary,r,f,m,cell\n"
            "ann,31,2,120,2,3,3,233\n"
            "bob,60,1,10,1,1,1,111\n");
  EXPECT_NE(r.err.find("2 customers as of 2024-04-01; 1 with refunds only left out"), std::string::npos) << r.err;
  Outcome bad = Rapport({"analytics", "rfm", "t.csv", "--customer", "customer", "--date", "day", "--amount", "amount",
                         "--monetary-edges", "100,10"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("strictly ascending"), std::string::npos) << bad.err;
}

TEST_F(AnalyticsCliTest, HelpHasAnExample) {
  EXPECT_NE(Rapport({"analytics", "rfm", "--help"}).out.find("Example: rapport analytics rfm"), std::string::npos);
  for (const char* c : {"clv", "model"}) {
    Outcome r = Rapport({"analytics", c, std::string(c) == "clv" ? "fit" : "evaluate", "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find(std::string("Example: rapport analytics ") + c), std::string::npos) << r.out;
  }
}

}  // namespace
