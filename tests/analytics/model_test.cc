// Propensity models on IBM's Telco churn sample (7,043 customers, 1,869
// churned): the encoder, the stratified split, XGBoost against the logistic
// baseline, and the metrics on small cases computed by hand.
#include "analytics/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace rapport::analytics {
namespace {

std::string Telco() {
  std::ifstream f(std::string(RAPPORT_SHARED_DIR) + "/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv",
                  std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

EncoderOptions ChurnOptions() {
  EncoderOptions o;
  o.target = "Churn";
  o.positive = "Yes";
  o.exclude = {"customerID"};
  return o;
}

const FeatureColumn* Find(const FeatureMatrix& m, const std::string& name) {
  for (const FeatureColumn& c : m.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(FeatureEncoderTest, TelcoColumnsAreTypedAndOneHotEncoded) {
  auto m = EncodeCsv(Telco(), ChurnOptions());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->rows(), 7043u);
  EXPECT_EQ(m->positives, 1869);
  EXPECT_EQ(m->negatives, 5174);
  ASSERT_NE(Find(*m, "tenure"), nullptr);
  EXPECT_TRUE(Find(*m, "tenure")->numeric());
  ASSERT_NE(Find(*m, "TotalCharges"), nullptr);  // 11 blanks: still numeric, the blanks missing
  EXPECT_TRUE(Find(*m, "TotalCharges")->numeric());
  ASSERT_NE(Find(*m, "Contract=Two year"), nullptr);
  EXPECT_EQ(Find(*m, "Contract=Two year")->source, "Contract");
  EXPECT_EQ(Find(*m, "customerID"), nullptr);
  size_t total = 0;
  for (size_t j = 0; j < m->cols(); ++j) {
    if (m->columns[j].name != "TotalCharges") continue;
    for (size_t r = 0; r < m->rows(); ++r) total += std::isnan(m->at(r, j)) ? 1 : 0;
  }
  EXPECT_EQ(total, 11u);
  // Each row has exactly one Contract level.
  for (size_t r = 0; r < m->rows(); ++r) {
    float sum = 0;
    for (size_t j = 0; j < m->cols(); ++j) sum += m->columns[j].source == "Contract" ? m->at(r, j) : 0;
    ASSERT_EQ(sum, 1.0f) << r;
  }
  EXPECT_TRUE(m->dropped.empty());
}

TEST(FeatureEncoderTest, ConstantBlankAndIdentifierColumnsAreReportedAndLeftOut) {
  std::string csv = "id,plan,same,empty,n,churned\n";
  for (int i = 0; i < 60; ++i) {
    csv += "c" + std::to_string(i) + "," + (i % 3 == 0 ? "gold" : "basic") + ",x,," + std::to_string(i % 7) + "," +
           (i % 4 == 0 ? "true" : "false") + "\n";
  }
  EncoderOptions o;
  o.target = "churned";
  auto m = EncodeCsv(csv, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->positive, "true");  // found without --positive
  EXPECT_EQ(m->positives, 15);
  ASSERT_EQ(m->dropped.size(), 3u);
  EXPECT_EQ(m->dropped[0].column, "id");
  EXPECT_NE(m->dropped[0].reason.find("identifier"), std::string::npos);
  EXPECT_EQ(m->dropped[1].column, "same");
  EXPECT_EQ(m->dropped[1].reason, "constant");
  EXPECT_EQ(m->dropped[2].column, "empty");
  EXPECT_EQ(m->dropped[2].reason, "entirely blank");
  ASSERT_EQ(m->cols(), 3u);  // plan=basic, plan=gold, n
}

TEST(FeatureEncoderTest, ATargetTrueForNobodyOrEverybodyIsRefusedWithTheCounts) {
  EncoderOptions o = ChurnOptions();
  o.positive = "Maybe";
  auto none = EncodeCsv(Telco(), o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(none.status().field(), "target");
  EXPECT_NE(none.status().message().find("for 0 of 7,043 rows"), std::string::npos) << none.status().message();

  EncoderOptions all;
  all.target = "buyer";
  auto every = EncodeCsv("x,buyer\n1,yes\n2,yes\n3,yes\n", all);
  ASSERT_FALSE(every.ok());
  EXPECT_NE(every.status().message().find("for 3 of 3 rows"), std::string::npos) << every.status().message();

  EncoderOptions bad = ChurnOptions();
  bad.target = "Churned";
  EXPECT_EQ(EncodeCsv(Telco(), bad).status().field(), "target");
  bad = ChurnOptions();
  bad.exclude = {"customerId"};
  EXPECT_EQ(EncodeCsv(Telco(), bad).status().field(), "exclude");
  EncoderOptions unknown;
  unknown.target = "plan";
  auto many = EncodeCsv("x,plan\n1,a\n2,b\n3,c\n", unknown);
  EXPECT_EQ(many.status().field(), "positive");
  EncoderOptions y;
  y.target = "y";
  auto ragged = EncodeCsv("x,y\n1,yes\n2,no\n3\n", y);
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("line 4"), std::string::npos) << ragged.status().message();
}

TEST(SplitTest, StratifiedAndSeeded) {
  std::vector<float> labels(1000, 0);
  for (size_t i = 0; i < 1000; i += 4) labels[i] = 1;  // 250 positives
  auto a = StratifiedSplit(labels, 0.3, 7);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->test.size(), 300u);
  EXPECT_EQ(a->train.size(), 700u);
  int pos = 0;
  for (size_t i : a->test) pos += labels[i] > 0.5f;
  EXPECT_EQ(pos, 75);
  auto b = StratifiedSplit(labels, 0.3, 7);
  EXPECT_EQ(a->test, b->test);
  auto c = StratifiedSplit(labels, 0.3, 8);
  EXPECT_NE(a->test, c->test);
  EXPECT_FALSE(StratifiedSplit(labels, 1.0, 7).ok());
}

TEST(MetricsTest, AucLogLossAndDecilesByHand) {
  std::vector<float> y = {1, 0, 1, 0};
  EXPECT_DOUBLE_EQ(Auc({0.9, 0.1, 0.8, 0.2}, y), 1.0);
  EXPECT_DOUBLE_EQ(Auc({0.1, 0.9, 0.2, 0.8}, y), 0.0);
  EXPECT_DOUBLE_EQ(Auc({0.5, 0.5, 0.5, 0.5}, y), 0.5);  // ties count half
  EXPECT_DOUBLE_EQ(Auc({0.9, 0.8, 0.1, 0.2}, y), 0.5);
  EXPECT_NEAR(LogLoss({0.5, 0.5}, {1, 0}), std::log(2.0), 1e-12);
  std::vector<double> scores(100);
  std::vector<float> labels(100, 0);
  for (int i = 0; i < 100; ++i) scores[static_cast<size_t>(i)] = i;
  for (int i = 90; i < 100; ++i) labels[static_cast<size_t>(i)] = 1;  // the top ten are the positives
  auto d = GainsByDecile(scores, labels);
  ASSERT_EQ(d.size(), 10u);
  EXPECT_EQ(d[0].customers, 10);
  EXPECT_EQ(d[0].positives, 10);
  EXPECT_DOUBLE_EQ(d[0].lift, 10);
  EXPECT_DOUBLE_EQ(d[0].cumulative_gain, 1);
  EXPECT_DOUBLE_EQ(d[9].cumulative_lift, 1);
  EXPECT_EQ(d[5].positives, 0);
}

TEST(PropensityTest, TelcoChurnBoostedAndLogisticOnASeededStratifiedSplit) {
  auto m = EncodeCsv(Telco(), ChurnOptions());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto split = StratifiedSplit(m->labels, 0.3, 42);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->test.size(), 2113u);
  std::vector<float> y_test;
  for (size_t r : split->test) y_test.push_back(m->labels[r]);

  BoostedOptions bo;
  bo.seed = 42;
  auto boosted = BoostedModel::Train(*m, split->train, bo);
  ASSERT_TRUE(boosted.ok()) << boosted.status().ToString();
  auto pb = boosted->Predict(*m, split->test);
  ASSERT_TRUE(pb.ok()) << pb.status().ToString();
  Evaluation eb = Evaluate(*pb, y_test);
  EXPECT_GE(eb.auc, 0.84);
  EXPECT_LT(eb.log_loss, 0.45);
  EXPECT_GT(eb.deciles[0].lift, 2.5);  // the top tenth churns at well over twice the rate

  auto logistic = FitLogistic(*m, split->train);
  ASSERT_TRUE(logistic.ok()) << logistic.status().ToString();
  Evaluation el = Evaluate(Predict(*logistic, *m, split->test), y_test);
  EXPECT_NEAR(el.auc, 0.84, 0.015);  // "about 0.84", as published
  EXPECT_LT(el.log_loss, 0.45);

  // The saved model scores exactly as the trained one.
  auto json = boosted->Save();
  ASSERT_TRUE(json.ok());
  auto loaded = BoostedModel::Load(*json);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto again = loaded->Predict(*m, split->test);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < again->size(); ++i) ASSERT_FLOAT_EQ((*again)[i], (*pb)[i]);
  // Contract and tenure carry the churn signal in every published analysis.
  auto gain = boosted->FeatureGain(m->cols());
  ASSERT_TRUE(gain.ok());
  size_t best = 0;
  for (size_t j = 0; j < gain->size(); ++j) best = (*gain)[j] > (*gain)[best] ? j : best;
  EXPECT_TRUE(m->columns[best].source == "Contract" || m->columns[best].source == "tenure" ||
              m->columns[best].source == "InternetService")
      << m->columns[best].name;
  EXPECT_FALSE(BoostedModel::Load("not a model").ok());
}

}  // namespace
}  // namespace rapport::analytics

namespace rapport::analytics {
namespace {

TEST(PropensityTest, ALogisticFitThatDoesNotConvergeSaysSo) {
  auto m = EncodeCsv(Telco(), ChurnOptions());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<size_t> all(m->rows());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  LogisticOptions o;
  o.max_evaluations = 2;
  auto fit = FitLogistic(*m, all, o);
  ASSERT_FALSE(fit.ok());
  EXPECT_EQ(fit.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(fit.status().message().find("did not converge"), std::string::npos) << fit.status().message();
  EXPECT_NE(fit.status().message().find("largest gradient"), std::string::npos);
  EXPECT_TRUE(std::isnan(Auc({0.1, 0.2}, {1, 1})));  // one class: no AUC
  BoostedOptions none;
  none.trees = 0;
  EXPECT_EQ(BoostedModel::Train(*m, all, none).status().field(), "trees");
}

}  // namespace
}  // namespace rapport::analytics
