#pragma once
// Propensity models: will this customer churn, buy, respond? A CSV (one row
// per customer, a yes/no target column) becomes a numeric feature matrix;
// a seeded stratified split holds out a test set; gradient-boosted trees
// (XGBoost's C API, Debian libxgboost-dev) and an L2-regularized logistic
// regression (NLopt L-BFGS) are trained on the rest and compared by AUC, log
// loss and gains/lift by decile. Models are plain data (LogisticModel) or
// serialize to XGBoost's JSON (BoostedModel::Save), so a registry can store
// them. Thread-safety is stated per type.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rapport::analytics {

// ---- features --------------------------------------------------------------

struct EncoderOptions {
  std::string target;  // the target column (required)
  // The target's value meaning "yes". Empty: "1", "true" or "yes" (any case)
  // when the column's values are such a pair, else InvalidArgument.
  std::string positive;
  std::vector<std::string> exclude;  // columns left out (identifiers)
  // A text column with more distinct values than this is left out (and
  // reported): an identifier or free text, not a category.
  int max_categories = 50;
};

// One feature: a numeric column as read, or one level of a text column as 0/1.
struct FeatureColumn {
  std::string name;    // "tenure", "Contract=Two year"
  std::string source;  // the CSV column
  std::string level;   // the category level; empty for a numeric column
  bool numeric() const { return level.empty(); }
};

// A column left out of the features, and why ("constant", "entirely blank",
// "1,203 distinct values: an identifier?").
struct DroppedColumn {
  std::string column;
  std::string reason;
};

// Rows x features, row-major floats; NaN is a missing value (a blank numeric
// cell). A blank text cell is 0 in every one of its levels.
struct FeatureMatrix {
  std::vector<FeatureColumn> columns;
  std::vector<float> values;
  std::vector<float> labels;  // 1 positive, 0 negative, per row
  std::vector<DroppedColumn> dropped;
  std::string positive;  // the target value counted as positive
  int64_t positives = 0, negatives = 0;
  int64_t blank_targets = 0;  // rows without a target value, left out
  size_t rows() const { return labels.size(); }
  size_t cols() const { return columns.size(); }
  float at(size_t row, size_t col) const { return values[row * columns.size() + col]; }
};

// Reads a CSV with a header: every column but the target and the excluded
// ones is a feature, numeric when every non-blank value is a number, else
// one-hot encoded. InvalidArgument naming the column (field) when the
// target or an excluded column is not in the header, or a row's field count
// is off (naming the line); Unprocessable with the counts when the target is
// positive for nobody or for everybody, or no feature is left.
Result<FeatureMatrix> EncodeCsv(std::string_view text, const EncoderOptions& options);

// ---- split and metrics -----------------------------------------------------

// Row indices of a train/test split that keeps the share of positives: of
// each class, round(test_fraction * count) rows, drawn with std::mt19937_64
// seeded by seed, go to the test set. The same seed gives the same split.
struct Split {
  std::vector<size_t> train, test;
};
Result<Split> StratifiedSplit(const std::vector<float>& labels, double test_fraction, uint64_t seed);

// Area under the ROC curve (ties count half), log loss (probabilities
// clipped to [1e-15, 1 - 1e-15]). labels are 0/1.
double Auc(const std::vector<double>& scores, const std::vector<float>& labels);
double LogLoss(const std::vector<double>& probabilities, const std::vector<float>& labels);

// Customers ranked by score, in ten groups of (nearly) equal size, the
// highest scores first.
struct Decile {
  int decile = 0;  // 1 = the top tenth
  int64_t customers = 0;
  int64_t positives = 0;
  double rate = 0;             // positives / customers
  double lift = 0;             // rate / overall rate
  double cumulative_gain = 0;  // share of all positives in deciles 1..decile
  double cumulative_lift = 0;
};
std::vector<Decile> GainsByDecile(const std::vector<double>& scores, const std::vector<float>& labels);

struct Evaluation {
  double auc = 0;
  double log_loss = 0;
  std::vector<Decile> deciles;
};
Evaluation Evaluate(const std::vector<double>& probabilities, const std::vector<float>& labels);

// ---- logistic regression ---------------------------------------------------

struct LogisticOptions {
  double l2 = 1;  // penalty on the standardized weights (not the intercept)
  int max_evaluations = 500;
};

// Weights on standardized features: z = (x - mean) / scale, a missing x
// counts as the mean. Plain data. Thread-safe (const).
struct LogisticModel {
  std::vector<std::string> features;
  std::vector<double> mean, scale, weights;
  double intercept = 0;
  // P(positive) of one row of features.cols() floats.
  double Predict(const float* row) const;
};

// Unprocessable when the optimizer does not converge (with the gradient).
Result<LogisticModel> FitLogistic(const FeatureMatrix& m, const std::vector<size_t>& rows,
                                  const LogisticOptions& options = {});
std::vector<double> Predict(const LogisticModel& model, const FeatureMatrix& m, const std::vector<size_t>& rows);

// ---- gradient-boosted trees --------------------------------------------------

struct BoostedOptions {
  int trees = 200;
  int max_depth = 3;
  double learning_rate = 0.05;
  double subsample = 0.8;
  double colsample = 0.8;
  double min_child_weight = 1;
  double l2 = 1;  // XGBoost's lambda
  // 0: one thread per million feature cells, at most 2. OpenMP threads spin
  // while they wait, so on small data (Telco: 0.2 million cells) a second
  // thread on a busy machine makes training slower, not faster.
  int threads = 0;
  uint64_t seed = 0;
};

// A trained XGBoost booster (binary:logistic). Move-only; not thread-safe:
// one model per thread (XGBoost's booster caches per call).
class BoostedModel {
 public:
  ~BoostedModel();
  BoostedModel(BoostedModel&&) noexcept;
  BoostedModel& operator=(BoostedModel&&) noexcept;

  static Result<BoostedModel> Train(const FeatureMatrix& m, const std::vector<size_t>& rows,
                                    const BoostedOptions& options = {});
  // XGBoost's JSON model, and back.
  Result<std::string> Save() const;
  static Result<BoostedModel> Load(std::string_view json, int threads = 2);
  // Threads of Predict (Train sets them as it trained).
  Status SetThreads(int threads);

  // P(positive) of `rows` rows of `cols` floats (row-major, NaN missing).
  Result<std::vector<double>> Predict(const float* data, size_t rows, size_t cols) const;
  Result<std::vector<double>> Predict(const FeatureMatrix& m, const std::vector<size_t>& rows) const;
  // Total gain of each feature's splits, by feature index (0 when unused).
  Result<std::vector<double>> FeatureGain(size_t features) const;

 private:
  BoostedModel() = default;
  void* booster_ = nullptr;  // BoosterHandle
  int threads_ = 2;
};

}  // namespace rapport::analytics
