// Feature encoding, the stratified split, metrics and the logistic baseline.
#include "analytics/model.h"

#include <nlopt.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

#include "common/text.h"
#include "ingest/import.h"

namespace rapport::analytics {
namespace {

bool ParseFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

std::string Count(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

// ---- features --------------------------------------------------------------

Result<FeatureMatrix> EncodeCsv(std::string_view text, const EncoderOptions& options) {
  ingest::CsvReader reader(text);
  std::vector<std::string_view> fields;
  if (!reader.Next(&fields)) return Status::InvalidArgument("the file is empty", "file");
  std::vector<std::string> header;
  for (std::string_view f : fields) header.emplace_back(text::Trim(f));
  const size_t ncol = header.size();
  auto find = [&](const std::string& name) -> int {
    for (size_t i = 0; i < ncol; ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  if (options.target.empty()) return Status::InvalidArgument("no target column given", "target");
  const int target = find(options.target);
  if (target < 0) return Status::InvalidArgument("target column '" + options.target + "' is not in the header", "target");
  std::vector<bool> used(ncol, true);
  used[static_cast<size_t>(target)] = false;
  for (const std::string& e : options.exclude) {
    int i = find(e);
    if (i < 0) return Status::InvalidArgument("excluded column '" + e + "' is not in the header", "exclude");
    used[static_cast<size_t>(i)] = false;
  }

  // Every cell as text first: the type of a column is known only at the end.
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> target_values;
  while (reader.Next(&fields)) {
    if (!reader.error().empty()) {
      return Status::InvalidArgument("line " + std::to_string(reader.line()) + ": " + reader.error(), "file");
    }
    if (fields.size() == 1 && text::Trim(fields[0]).empty()) continue;
    if (fields.size() != ncol) {
      return Status::InvalidArgument("line " + std::to_string(reader.line()) + ": " + std::to_string(fields.size()) +
                                         " fields, the header has " + std::to_string(ncol),
                                     "file");
    }
    std::string_view t = text::Trim(fields[static_cast<size_t>(target)]);
    std::vector<std::string> row(ncol);
    for (size_t i = 0; i < ncol; ++i) {
      if (used[i]) row[i] = std::string(text::Trim(fields[i]));
    }
    target_values.emplace_back(t);
    cells.push_back(std::move(row));
  }

  FeatureMatrix m;
  // The positive value.
  std::set<std::string> distinct;
  for (const std::string& t : target_values) {
    if (!t.empty()) distinct.insert(t);
  }
  if (!options.positive.empty()) {
    m.positive = options.positive;
  } else {
    for (const std::string& d : distinct) {
      std::string l = text::AsciiLower(d);
      if (distinct.size() <= 2 && (l == "1" || l == "true" || l == "yes")) m.positive = d;
    }
    if (m.positive.empty()) {
      return Status::InvalidArgument("target column '" + options.target + "' has " + std::to_string(distinct.size()) +
                                         " distinct values; say which one is positive (--positive)",
                                     "positive");
    }
  }
  std::vector<size_t> kept_rows;
  for (size_t r = 0; r < cells.size(); ++r) {
    if (target_values[r].empty()) {
      ++m.blank_targets;
      continue;
    }
    bool yes = target_values[r] == m.positive;
    (yes ? m.positives : m.negatives) += 1;
    m.labels.push_back(yes ? 1.0f : 0.0f);
    kept_rows.push_back(r);
  }
  if (m.positives == 0 || m.negatives == 0) {
    return Status::Unprocessable("target '" + options.target + "' is '" + m.positive + "' for " + Count(m.positives) +
                                     " of " + Count(m.positives + m.negatives) +
                                     " rows: a model needs both outcomes",
                                 "target");
  }

  // Column types, constant and blank columns.
  struct Plan {
    size_t source;
    bool numeric;
    std::vector<std::string> levels;  // text columns, sorted
  };
  std::vector<Plan> plans;
  for (size_t c = 0; c < ncol; ++c) {
    if (!used[c]) continue;
    bool numeric = true;
    int64_t present = 0;
    std::set<std::string> levels;
    double first = 0;
    bool constant = true;
    for (size_t r : kept_rows) {
      const std::string& v = cells[r][c];
      if (v.empty()) continue;
      double d;
      if (numeric && !ParseFloat(v, &d)) numeric = false;
      if (numeric) {
        if (present == 0) first = d;
        if (d != first) constant = false;
      }
      if (levels.size() <= static_cast<size_t>(options.max_categories)) levels.insert(v);
      ++present;
    }
    if (present == 0) {
      m.dropped.push_back({header[c], "entirely blank"});
      continue;
    }
    if (numeric) {
      if (constant) {
        m.dropped.push_back({header[c], "constant"});
        continue;
      }
      plans.push_back({c, true, {}});
      continue;
    }
    if (levels.size() > static_cast<size_t>(options.max_categories)) {
      m.dropped.push_back({header[c], "more than " + std::to_string(options.max_categories) +
                                          " distinct values: an identifier or free text, not a category"});
      continue;
    }
    if (levels.size() == 1 && present == static_cast<int64_t>(kept_rows.size())) {
      m.dropped.push_back({header[c], "constant"});
      continue;
    }
    plans.push_back({c, false, std::vector<std::string>(levels.begin(), levels.end())});
  }
  for (const Plan& p : plans) {
    if (p.numeric) {
      m.columns.push_back({header[p.source], header[p.source], ""});
    } else {
      for (const std::string& l : p.levels) m.columns.push_back({header[p.source] + "=" + l, header[p.source], l});
    }
  }
  if (m.columns.empty()) return Status::Unprocessable("no feature column is left", "file");

  const size_t nf = m.columns.size();
  m.values.assign(kept_rows.size() * nf, 0.0f);
  for (size_t i = 0; i < kept_rows.size(); ++i) {
    const std::vector<std::string>& row = cells[kept_rows[i]];
    float* out = &m.values[i * nf];
    size_t f = 0;
    for (const Plan& p : plans) {
      const std::string& v = row[p.source];
      if (p.numeric) {
        double d = 0;
        out[f++] = v.empty() || !ParseFloat(v, &d) ? NAN : static_cast<float>(d);
      } else {
        auto it = std::lower_bound(p.levels.begin(), p.levels.end(), v);
        if (!v.empty() && it != p.levels.end() && *it == v) out[f + static_cast<size_t>(it - p.levels.begin())] = 1.0f;
        f += p.levels.size();
      }
    }
  }
  return m;
}

// ---- split and metrics -----------------------------------------------------

Result<Split> StratifiedSplit(const std::vector<float>& labels, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) {
    return Status::InvalidArgument("the test fraction must lie strictly between 0 and 1", "testFraction");
  }
  std::vector<size_t> pos, neg;
  for (size_t i = 0; i < labels.size(); ++i) (labels[i] > 0.5f ? pos : neg).push_back(i);
  std::mt19937_64 rng(seed);
  Split s;
  for (std::vector<size_t>* cls : {&pos, &neg}) {
    std::shuffle(cls->begin(), cls->end(), rng);
    size_t n_test = static_cast<size_t>(std::llround(test_fraction * static_cast<double>(cls->size())));
    s.test.insert(s.test.end(), cls->begin(), cls->begin() + static_cast<std::ptrdiff_t>(n_test));
    s.train.insert(s.train.end(), cls->begin() + static_cast<std::ptrdiff_t>(n_test), cls->end());
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.test.begin(), s.test.end());
  if (s.train.empty() || s.test.empty()) {
    return Status::Unprocessable("too few rows for a train and a test set", "testFraction");
  }
  return s;
}

double Auc(const std::vector<double>& scores, const std::vector<float>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney: the sum of the positives' ranks, ties given their mean rank.
  double rank_sum = 0, pos = 0;
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    double mean_rank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2;  // 1-based
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] > 0.5f) {
        rank_sum += mean_rank;
        pos += 1;
      }
    }
    i = j;
  }
  double neg = static_cast<double>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return NAN;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double LogLoss(const std::vector<double>& p, const std::vector<float>& labels) {
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    double q = std::clamp(p[i], 1e-15, 1 - 1e-15);
    sum -= labels[i] > 0.5f ? std::log(q) : std::log1p(-q);
  }
  return p.empty() ? NAN : sum / static_cast<double>(p.size());
}

std::vector<Decile> GainsByDecile(const std::vector<double>& scores, const std::vector<float>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double total_pos = 0;
  for (float l : labels) total_pos += l > 0.5f ? 1 : 0;
  const double n = static_cast<double>(scores.size());
  const double overall = n > 0 ? total_pos / n : 0;
  std::vector<Decile> out;
  size_t start = 0;
  double cum_pos = 0, cum_n = 0;
  for (int d = 1; d <= 10; ++d) {
    size_t end = static_cast<size_t>(std::llround(n * d / 10));
    Decile row;
    row.decile = d;
    for (size_t k = start; k < end; ++k) row.positives += labels[order[k]] > 0.5f ? 1 : 0;
    row.customers = static_cast<int64_t>(end - start);
    row.rate = row.customers > 0 ? static_cast<double>(row.positives) / static_cast<double>(row.customers) : 0;
    row.lift = overall > 0 ? row.rate / overall : 0;
    cum_pos += static_cast<double>(row.positives);
    cum_n += static_cast<double>(row.customers);
    row.cumulative_gain = total_pos > 0 ? cum_pos / total_pos : 0;
    row.cumulative_lift = overall > 0 && cum_n > 0 ? (cum_pos / cum_n) / overall : 0;
    out.push_back(row);
    start = end;
  }
  return out;
}

Evaluation Evaluate(const std::vector<double>& p, const std::vector<float>& labels) {
  return {Auc(p, labels), LogLoss(p, labels), GainsByDecile(p, labels)};
}

// ---- logistic regression ---------------------------------------------------

double LogisticModel::Predict(const float* row) const {
  double z = intercept;
  for (size_t j = 0; j < weights.size(); ++j) {
    double x = std::isnan(row[j]) ? 0 : (row[j] - mean[j]) / scale[j];
    z += weights[j] * x;
  }
  return 1 / (1 + std::exp(-z));
}

namespace {

struct LogisticProblem {
  std::vector<double> z;  // standardized training rows, row-major
  std::vector<double> y;
  size_t p = 0;
  double l2 = 1;
  int evaluations = 0;
};

// The penalized negative log-likelihood per row and its gradient; x[0] is
// the intercept.
double LogisticObjective(unsigned n, const double* w, double* grad, void* data) {
  auto* pr = static_cast<LogisticProblem*>(data);
  ++pr->evaluations;
  const size_t rows = pr->y.size(), p = pr->p;
  double loss = 0;
  if (grad != nullptr) std::fill(grad, grad + n, 0.0);
  for (size_t i = 0; i < rows; ++i) {
    const double* x = &pr->z[i * p];
    double eta = w[0];
    for (size_t j = 0; j < p; ++j) eta += w[j + 1] * x[j];
    // log(1 + e^eta) - y * eta, stably.
    double soft = eta > 0 ? eta + std::log1p(std::exp(-eta)) : std::log1p(std::exp(eta));
    loss += soft - pr->y[i] * eta;
    if (grad != nullptr) {
      double r = 1 / (1 + std::exp(-eta)) - pr->y[i];
      grad[0] += r;
      for (size_t j = 0; j < p; ++j) grad[j + 1] += r * x[j];
    }
  }
  double penalty = 0;
  for (size_t j = 0; j < p; ++j) penalty += w[j + 1] * w[j + 1];
  loss += pr->l2 / 2 * penalty;
  const double inv = 1 / static_cast<double>(rows);
  if (grad != nullptr) {
    for (size_t j = 0; j < p; ++j) grad[j + 1] += pr->l2 * w[j + 1];
    for (unsigned j = 0; j < n; ++j) grad[j] *= inv;
  }
  return loss * inv;
}

}  // namespace

Result<LogisticModel> FitLogistic(const FeatureMatrix& m, const std::vector<size_t>& rows, const LogisticOptions& o) {
  if (rows.empty()) return Status::Unprocessable("no training rows", "rows");
  const size_t p = m.cols();
  LogisticModel model;
  for (const FeatureColumn& c : m.columns) model.features.push_back(c.name);
  model.mean.assign(p, 0);
  model.scale.assign(p, 1);
  std::vector<double> count(p, 0), sq(p, 0);
  for (size_t r : rows) {
    for (size_t j = 0; j < p; ++j) {
      float v = m.at(r, j);
      if (std::isnan(v)) continue;
      model.mean[j] += v;
      sq[j] += static_cast<double>(v) * v;
      count[j] += 1;
    }
  }
  for (size_t j = 0; j < p; ++j) {
    if (count[j] == 0) continue;
    model.mean[j] /= count[j];
    double var = sq[j] / count[j] - model.mean[j] * model.mean[j];
    model.scale[j] = var > 1e-12 ? std::sqrt(var) : 1;  // constant in training: weight stays ~0
  }
  LogisticProblem pr;
  pr.p = p;
  pr.l2 = o.l2;
  pr.z.resize(rows.size() * p);
  pr.y.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < p; ++j) {
      float v = m.at(rows[i], j);
      pr.z[i * p + j] = std::isnan(v) ? 0 : (v - model.mean[j]) / model.scale[j];
    }
    pr.y[i] = m.labels[rows[i]];
  }
  std::vector<double> w(p + 1, 0);
  nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, static_cast<unsigned>(p + 1));
  nlopt_set_min_objective(opt, LogisticObjective, &pr);
  nlopt_set_ftol_rel(opt, 1e-12);
  nlopt_set_maxeval(opt, o.max_evaluations);
  double value = 0;
  nlopt_result r = nlopt_optimize(opt, w.data(), &value);
  nlopt_destroy(opt);
  std::vector<double> grad(p + 1);
  LogisticObjective(static_cast<unsigned>(p + 1), w.data(), grad.data(), &pr);
  double worst = 0;
  size_t at = 0;
  for (size_t j = 0; j < grad.size(); ++j) {
    if (std::abs(grad[j]) > worst) {
      worst = std::abs(grad[j]);
      at = j;
    }
  }
  if (!(worst <= 1e-5)) {
    return Status::Unprocessable("logistic regression did not converge after " + std::to_string(pr.evaluations) +
                                     " evaluations (NLopt " + nlopt_result_to_string(r) + "): largest gradient " +
                                     std::to_string(worst) + " at " + (at == 0 ? "the intercept" : model.features[at - 1]),
                                 "fit");
  }
  model.intercept = w[0];
  model.weights.assign(w.begin() + 1, w.end());
  return model;
}

std::vector<double> Predict(const LogisticModel& model, const FeatureMatrix& m, const std::vector<size_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (size_t r : rows) out.push_back(model.Predict(&m.values[r * m.cols()]));
  return out;
}

}  // namespace rapport::analytics
