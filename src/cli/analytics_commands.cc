// rapport analytics rfm, clv fit and model evaluate: RFM, lifetime value and
// propensity models on an analyst's own files, without a data directory.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "analytics/clv.h"
#include "analytics/model.h"
#include "analytics/rfm.h"
#include "cli/commands.h"

namespace rapport::cli {
namespace {

struct ClvArgs {
  std::string file, customer, date, amount, calibration_end, observation_end, format = "csv", scores;
  double period_days = 7;
  double horizon = 52;
  double discount_rate = 0.01;
};

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Significant(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

void PrintFit(const char* model, const std::string& params, const analytics::FitInfo& info) {
  std::cout << Pad(model, 13) << Pad(params, 57) << " " << Fixed(info.log_likelihood, 2) << "\n";
}

int RunClvFit(const ClvArgs& a) {
  auto format = analytics::ParseTransactionFileFormat(a.format);
  if (!format.ok()) return Fail(format.status());
  analytics::SummaryOptions options;
  options.days_per_period = a.period_days;
  if (!a.calibration_end.empty()) {
    auto d = analytics::ParseDay(a.calibration_end);
    if (!d.ok()) return Fail(Status::InvalidArgument("--calibration-end: " + d.status().message(), "calibration-end"));
    options.calibration_end = *d;
  }
  if (!a.observation_end.empty()) {
    auto d = analytics::ParseDay(a.observation_end);
    if (!d.ok()) return Fail(Status::InvalidArgument("--observation-end: " + d.status().message(), "observation-end"));
    options.observation_end = *d;
  }
  auto list = analytics::ReadTransactionFile(a.file, *format, {a.customer, a.date, a.amount});
  if (!list.ok()) return Fail(list.status());
  auto table = analytics::Summarize(*list, options);
  if (!table.ok()) return Fail(table.status());
  const bool holdout = options.calibration_end.has_value();
  int32_t first_day = list->rows.front().day;
  for (const auto& t : list->rows) first_day = std::min(first_day, t.day);
  std::cout << a.file << ": " << Thousands(table->transactions) << " transactions, "
            << Thousands(static_cast<int64_t>(list->customers.size())) << " customers, "
            << Thousands(table->purchase_days) << " purchase days\n";
  std::cout << "calibration " << analytics::FormatDay(first_day) << " .. "
            << analytics::FormatDay(table->calibration_end) << ": " << Thousands(static_cast<int64_t>(table->customers.size()))
            << " customers";
  if (holdout) {
    std::cout << "; holdout to " << analytics::FormatDay(table->observation_end) << " ("
              << Fixed(table->holdout_length, 2) << " periods of " << Significant(a.period_days) << " days)";
  }
  std::cout << "\n\n" << Pad("model", 13) << Pad("parameters", 58) << "log-likelihood\n";

  int exit_code = kExitOk;
  auto bg = analytics::FitBgNbd(table->customers);
  if (bg.ok()) {
    const auto& p = bg->params;
    PrintFit("BG/NBD", "r=" + Fixed(p.r, 4) + " alpha=" + Fixed(p.alpha, 4) + " a=" + Fixed(p.a, 4) + " b=" + Fixed(p.b, 4),
             bg->info);
  } else {
    std::cout << Pad("BG/NBD", 13) << bg.status().message() << "\n";
    exit_code = kExitFailed;
  }
  auto pareto = analytics::FitParetoNbd(table->customers);
  if (pareto.ok()) {
    const auto& p = pareto->params;
    PrintFit("Pareto/NBD",
             "r=" + Fixed(p.r, 4) + " alpha=" + Fixed(p.alpha, 4) + " s=" + Fixed(p.s, 4) + " beta=" + Fixed(p.beta, 4),
             pareto->info);
  } else {
    std::cout << Pad("Pareto/NBD", 13) << pareto.status().message() << "\n";
    exit_code = kExitFailed;
  }
  auto gg = analytics::FitGammaGamma(table->customers);
  if (gg.ok()) {
    const auto& p = gg->params;
    PrintFit("Gamma-Gamma",
             "p=" + Fixed(p.p, 4) + " q=" + Fixed(p.q, 4) + " gamma=" + Fixed(p.gamma, 4) + " (" +
                 Thousands(gg->customers) + " repeat buyers)",
             gg->info);
  } else {
    std::cout << Pad("Gamma-Gamma", 13) << gg.status().message() << "\n";
    exit_code = kExitFailed;
  }

  if (holdout && (bg.ok() || pareto.ok())) {
    std::cout << "\nholdout: repeat purchases per customer in " << Fixed(table->holdout_length, 2)
              << " periods, by repeat purchases in the calibration\n";
    std::cout << Pad("x", 6) << Pad("customers", 11) << Pad("actual", 9) << Pad("BG/NBD", 9) << Pad("error", 9)
              << Pad("Pareto/NBD", 12) << "error\n";
    analytics::HoldoutReport rb, rp;
    if (bg.ok()) rb = analytics::ValidateHoldout(bg->params, *table);
    if (pareto.ok()) rp = analytics::ValidateHoldout(pareto->params, *table);
    const analytics::HoldoutReport& any = bg.ok() ? rb : rp;
    for (size_t i = 0; i < any.groups.size(); ++i) {
      const auto& g = any.groups[i];
      std::string label = std::to_string(g.frequency) + (g.or_more ? "+" : "");
      std::cout << Pad(label, 6) << Pad(Thousands(g.customers), 11) << Pad(Fixed(g.actual, 3), 9);
      std::cout << Pad(bg.ok() ? Fixed(rb.groups[i].predicted, 3) : "-", 9)
                << Pad(bg.ok() ? Fixed(rb.groups[i].error(), 3) : "-", 9);
      std::cout << Pad(pareto.ok() ? Fixed(rp.groups[i].predicted, 3) : "-", 12)
                << (pareto.ok() ? Fixed(rp.groups[i].error(), 3) : "-") << "\n";
    }
    std::cout << Pad("total", 6) << Pad("", 11) << Pad(Fixed(any.actual_total, 0), 9)
              << Pad(bg.ok() ? Fixed(rb.predicted_total, 1) : "-", 9)
              << Pad(bg.ok() ? Fixed(rb.predicted_total - rb.actual_total, 1) : "-", 9)
              << Pad(pareto.ok() ? Fixed(rp.predicted_total, 1) : "-", 12)
              << (pareto.ok() ? Fixed(rp.predicted_total - rp.actual_total, 1) : "-") << "\n";
    std::cout << Pad("mean absolute error per customer", 35) << Pad(bg.ok() ? Fixed(rb.mean_absolute_error, 3) : "-", 20)
              << (pareto.ok() ? Fixed(rp.mean_absolute_error, 3) : "-") << "\n";
  }

  if (!a.scores.empty()) {
    if (!bg.ok() || !gg.ok()) {
      std::cerr << "rapport: no scores written: the BG/NBD and Gamma-Gamma fits are both needed\n";
      return kExitFailed;
    }
    std::ofstream out(a.scores);
    if (!out) return Fail(Status::InvalidArgument("cannot write " + a.scores, "scores"));
    analytics::ClvOptions clv;
    clv.step_length = 52.0 / 12 * 7 / a.period_days;  // a month, in periods
    clv.steps = std::max(1, static_cast<int>(std::ceil(a.horizon / clv.step_length - 1e-9)));
    clv.discount_rate = a.discount_rate;
    auto scores = analytics::ScoreCustomers(bg->params, gg->params, table->customers, a.horizon, clv);
    out << "customer,x,t_x,T,monetary,probabilityAlive,expectedPurchases,expectedOrderValue,clv\n";
    for (size_t i = 0; i < scores.size(); ++i) {
      const auto& c = table->customers[i];
      const auto& s = scores[i];
      std::string key = list->customers[static_cast<size_t>(c.customer)];
      bool quote = key.find_first_of(",\"\n") != std::string::npos;
      if (quote) {
        std::string q = "\"";
        for (char ch : key) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        key = q + "\"";
      }
      out << key << "," << c.x << "," << Significant(c.t_x) << "," << Significant(c.T) << "," << Significant(c.monetary)
          << "," << Significant(s.probability_alive) << "," << Significant(s.expected_purchases) << ","
          << Significant(s.expected_order_value) << "," << Fixed(s.clv, 4) << "\n";
    }
    std::cout.flush();
    std::cerr << Thousands(static_cast<int64_t>(scores.size())) << " customer scores written to " << a.scores << "\n";
  }
  return exit_code;
}

struct ModelArgs {
  std::string file, target, positive;
  std::vector<std::string> exclude;
  double test_fraction = 0.3;
  uint64_t seed = 42;
  int trees = 200;
  int threads = 0;
  int max_depth = 3;
  double learning_rate = 0.05;
  double l2 = 1;
};

void PrintDeciles(const char* model, const analytics::Evaluation& e) {
  std::cout << "\n" << model << ": gains and lift by decile (highest scores first)\n";
  std::cout << Pad("decile", 8) << Pad("customers", 11) << Pad("positives", 11) << Pad("rate", 8) << Pad("lift", 7)
            << Pad("cum. gain", 11) << "cum. lift\n";
  for (const auto& d : e.deciles) {
    std::cout << Pad(std::to_string(d.decile), 8) << Pad(Thousands(d.customers), 11) << Pad(Thousands(d.positives), 11)
              << Pad(Fixed(d.rate, 3), 8) << Pad(Fixed(d.lift, 2), 7) << Pad(Fixed(d.cumulative_gain * 100, 1) + "%", 11)
              << Fixed(d.cumulative_lift, 2) << "\n";
  }
}

int RunModelEvaluate(const ModelArgs& a) {
  std::ifstream f(a.file, std::ios::binary);
  if (!f) return Fail(Status::NotFound("cannot read " + a.file, "file"));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  analytics::EncoderOptions eo;
  eo.target = a.target;
  eo.positive = a.positive;
  for (const std::string& e : a.exclude) {
    // --exclude a,b and --exclude a --exclude b alike.
    size_t start = 0;
    while (start <= e.size()) {
      size_t comma = e.find(',', start);
      if (comma == std::string::npos) comma = e.size();
      if (comma > start) eo.exclude.push_back(e.substr(start, comma - start));
      start = comma + 1;
    }
  }
  auto m = analytics::EncodeCsv(text, eo);
  if (!m.ok()) return Fail(m.status());
  std::cout << a.file << ": " << Thousands(static_cast<int64_t>(m->rows())) << " rows, target " << a.target << " = "
            << m->positive << " for " << Thousands(m->positives) << " ("
            << Fixed(100.0 * static_cast<double>(m->positives) / static_cast<double>(m->rows()), 1) << "%)";
  if (m->blank_targets > 0) std::cout << "; " << Thousands(m->blank_targets) << " rows without a target left out";
  std::cout << "\n" << Thousands(static_cast<int64_t>(m->cols())) << " features";
  int numeric = 0;
  for (const auto& c : m->columns) numeric += c.numeric() ? 1 : 0;
  std::cout << " (" << numeric << " numeric, " << m->cols() - static_cast<size_t>(numeric) << " category levels)\n";
  for (const auto& d : m->dropped) std::cout << "left out: " << d.column << ": " << d.reason << "\n";
  auto split = analytics::StratifiedSplit(m->labels, a.test_fraction, a.seed);
  if (!split.ok()) return Fail(split.status());
  std::cout << "split: " << Thousands(static_cast<int64_t>(split->train.size())) << " train, "
            << Thousands(static_cast<int64_t>(split->test.size())) << " test (stratified, seed " << a.seed << ")\n";
  std::vector<float> y;
  for (size_t r : split->test) y.push_back(m->labels[r]);

  analytics::BoostedOptions bo;
  bo.trees = a.trees;
  bo.max_depth = a.max_depth;
  bo.learning_rate = a.learning_rate;
  bo.seed = a.seed;
  bo.threads = a.threads;
  auto boosted = analytics::BoostedModel::Train(*m, split->train, bo);
  if (!boosted.ok()) return Fail(boosted.status());
  auto pb = boosted->Predict(*m, split->test);
  if (!pb.ok()) return Fail(pb.status());
  analytics::Evaluation eb = analytics::Evaluate(*pb, y);
  analytics::LogisticOptions lo;
  lo.l2 = a.l2;
  auto logistic = analytics::FitLogistic(*m, split->train, lo);
  if (!logistic.ok()) return Fail(logistic.status());
  analytics::Evaluation el = analytics::Evaluate(analytics::Predict(*logistic, *m, split->test), y);

  std::cout << "\n" << Pad("model", 32) << Pad("AUC", 9) << "log loss\n";
  std::cout << Pad("boosted trees (" + std::to_string(a.trees) + ", depth " + std::to_string(a.max_depth) + ")", 32)
            << Pad(Fixed(eb.auc, 4), 9) << Fixed(eb.log_loss, 4) << "\n";
  std::cout << Pad("logistic regression (L2 " + Significant(a.l2) + ")", 32) << Pad(Fixed(el.auc, 4), 9)
            << Fixed(el.log_loss, 4) << "\n";
  PrintDeciles("boosted trees", eb);
  PrintDeciles("logistic regression", el);
  auto gain = boosted->FeatureGain(m->cols());
  if (gain.ok()) {
    std::vector<size_t> order(gain->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t l, size_t r) { return (*gain)[l] > (*gain)[r]; });
    double total = 0;
    for (double g : *gain) total += g;
    std::cout << "\nboosted trees: features by total gain\n";
    for (size_t i = 0; i < order.size() && i < 10 && total > 0; ++i) {
      std::cout << Pad(m->columns[order[i]].name, 40) << Fixed(100 * (*gain)[order[i]] / total, 1) << "%\n";
    }
  }
  return kExitOk;
}

struct RfmArgs {
  std::string file, customer, date, amount, as_of, format = "csv", output;
  int bins = 5;
  std::vector<double> recency_edges, frequency_edges, monetary_edges;
};

int RunRfm(const RfmArgs& a) {
  auto format = analytics::ParseTransactionFileFormat(a.format);
  if (!format.ok()) return Fail(format.status());
  analytics::RfmOptions o;
  o.bins = a.bins;
  o.recency_edges = a.recency_edges;
  o.frequency_edges = a.frequency_edges;
  o.monetary_edges = a.monetary_edges;
  if (!a.as_of.empty()) {
    auto d = analytics::ParseDay(a.as_of);
    if (!d.ok()) return Fail(Status::InvalidArgument("--as-of: " + d.status().message(), "as-of"));
    o.as_of = *d;
  }
  auto list = analytics::ReadTransactionFile(a.file, *format, {a.customer, a.date, a.amount});
  if (!list.ok()) return Fail(list.status());
  auto t = analytics::ComputeRfm(*list, o);
  if (!t.ok()) return Fail(t.status());
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output);
    if (!file) return Fail(Status::InvalidArgument("cannot write " + a.output, "output"));
  }
  std::ostream& os = a.output.empty() ? std::cout : file;
  os << "customer,recencyDays,frequency,monetary,r,f,m,cell\n";
  for (const auto& r : t->rows) {
    std::string key = list->customers[static_cast<size_t>(r.customer)];
    if (key.find_first_of(",\"\n") != std::string::npos) {
      std::string q = "\"";
      for (char ch : key) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      key = q + "\"";
    }
    os << key << "," << r.recency_days << "," << r.frequency << "," << r.monetary.ToString() << "," << r.r << ","
       << r.f << "," << r.m << "," << r.Cell() << "\n";
  }
  os.flush();
  std::cerr << Thousands(static_cast<int64_t>(t->rows.size())) << " customers as of "
            << analytics::FormatDay(t->as_of);
  if (t->refund_only > 0) std::cerr << "; " << Thousands(t->refund_only) << " with refunds only left out";
  if (t->after_as_of > 0) std::cerr << "; " << Thousands(t->after_as_of) << " later transactions ignored";
  if (!a.output.empty()) std::cerr << "; written to " << a.output;
  std::cerr << "\n";
  return kExitOk;
}

}  // namespace

void AddAnalyticsCommands(CLI::App& app, std::vector<Command>* out) {
  // `analytics` itself (with `query`) comes from AddSegmentCommands.
  CLI::App* analytics = app.get_subcommand("analytics");
  analytics->description("Slice-and-dice over the profile store; customer-value models on files");
  auto ra = std::make_shared<RfmArgs>();
  CLI::App* rfm = analytics->add_subcommand("rfm", "Recency, frequency and monetary scores per customer, as CSV");
  rfm->footer(
      "Recency is days from the last purchase to --as-of (default the day after the last transaction); frequency\n"
      "counts purchases (amounts >= 0); monetary is the net amount (refunds, negative amounts, subtracted).\n"
      "Scores 1..--bins by quantile (5: quintiles, high is good), or by ascending --*-edges.\n"
      "Example: rapport analytics rfm CDNOW_master.txt --format whitespace --customer customer_id --date date "
      "--amount dollar_value --as-of 1998-07-01 -o rfm.csv");
  rfm->add_option("file", ra->file, "Transaction file: CSV with a header, or whitespace-separated")
      ->required()
      ->check(CLI::ExistingFile);
  rfm->add_option("--customer", ra->customer, "Column of the customer key")->required();
  rfm->add_option("--date", ra->date, "Column of the date")->required();
  rfm->add_option("--amount", ra->amount, "Column of the amount")->required();
  rfm->add_option("--format", ra->format, "csv or whitespace")
      ->check(CLI::IsMember({"csv", "whitespace"}))
      ->default_val("csv");
  rfm->add_option("--as-of", ra->as_of, "The day recency is measured to (YYYY-MM-DD)");
  rfm->add_option("--bins", ra->bins, "Quantile scores 1..N")->default_val(5)->check(CLI::Range(1, 9));
  rfm->add_option("--recency-edges", ra->recency_edges, "Day thresholds instead of quantiles: 30,90,180,365")
      ->delimiter(',');
  rfm->add_option("--frequency-edges", ra->frequency_edges, "Purchase-count thresholds: 2,3,5,10")->delimiter(',');
  rfm->add_option("--monetary-edges", ra->monetary_edges, "Amount thresholds: 50,100,250,500")->delimiter(',');
  rfm->add_option("--output,-o", ra->output, "File to write; default standard output");
  out->push_back({rfm, [ra] { return RunRfm(*ra); }});

  CLI::App* clv = analytics->add_subcommand("clv", "Customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma");
  clv->require_subcommand(1);
  auto a = std::make_shared<ClvArgs>();
  CLI::App* fit = clv->add_subcommand("fit", "Fit the lifetime-value models on a transaction file and print them");
  fit->footer(
      "A column is a header name or a 1-based column number. Purchases of one customer on one day count as one.\n"
      "Times are in periods of --period-days (weeks). With --calibration-end, the later transactions are the\n"
      "holdout: predicted against actual repeat purchases per calibration frequency.\n"
      "Exit status: 0 fitted, 1 a fit did not converge or the file is bad, 2 usage error.\n"
      "Example: rapport analytics clv fit CDNOW_master.txt --format whitespace --customer customer_id --date date "
      "--amount dollar_value --calibration-end 1997-09-30");
  fit->add_option("file", a->file, "Transaction file: CSV with a header, or whitespace-separated")
      ->required()
      ->check(CLI::ExistingFile);
  fit->add_option("--customer", a->customer, "Column of the customer key")->required();
  fit->add_option("--date", a->date, "Column of the date (YYYYMMDD, YYYY-MM-DD or RFC 3339)")->required();
  fit->add_option("--amount", a->amount, "Column of the amount (negative for refunds)")->required();
  fit->add_option("--calibration-end", a->calibration_end, "Last day of the calibration period (YYYY-MM-DD)");
  fit->add_option("--observation-end", a->observation_end, "Last day of the holdout; default the last transaction's");
  fit->add_option("--format", a->format, "csv or whitespace")
      ->check(CLI::IsMember({"csv", "whitespace"}))
      ->default_val("csv");
  fit->add_option("--period-days", a->period_days, "Days per time period")->default_val(7)->check(CLI::PositiveNumber);
  fit->add_option("--scores", a->scores,
                  "Also write per customer P(alive), expected purchases, order value and CLV (BG/NBD) as CSV");
  fit->add_option("--horizon", a->horizon, "Periods of the scores' expected purchases and CLV")
      ->default_val(52)
      ->check(CLI::PositiveNumber);
  fit->add_option("--discount-rate", a->discount_rate, "Monthly discount rate of the CLV")->default_val(0.01);
  out->push_back({fit, [a] { return RunClvFit(*a); }});

  CLI::App* model = analytics->add_subcommand("model", "Propensity models: boosted trees against a logistic baseline");
  model->require_subcommand(1);
  auto m = std::make_shared<ModelArgs>();
  CLI::App* eval = model->add_subcommand("evaluate", "Train and compare the propensity models on a CSV; print AUC");
  eval->footer(
      "Every column but the target and the excluded ones is a feature: numeric when every non-blank value is a\n"
      "number (blanks missing), otherwise one-hot encoded; constant, blank and identifier-like columns are left\n"
      "out and listed. Prints AUC and log loss on the held-out test split, gains and lift by decile, and the\n"
      "boosted model's strongest features.\n"
      "Exit status: 0 evaluated, 1 a bad file or target, 2 usage error.\n"
      "Example: rapport analytics model evaluate telco.csv --target Churn --positive Yes --exclude customerID");
  eval->add_option("file", m->file, "CSV with a header, one row per customer")->required()->check(CLI::ExistingFile);
  eval->add_option("--target", m->target, "The yes/no column to predict")->required();
  eval->add_option("--positive", m->positive, "The target value meaning yes; default 1, true or yes");
  eval->add_option("--exclude", m->exclude, "Columns to leave out (comma-separated or repeated)");
  eval->add_option("--test-fraction", m->test_fraction, "Share of rows held out for the test")
      ->default_val(0.3)
      ->check(CLI::Range(0.01, 0.99));
  eval->add_option("--seed", m->seed, "Seed of the split and of the boosted trees' sampling")->default_val(42);
  eval->add_option("--trees", m->trees, "Boosted trees")->default_val(200)->check(CLI::Range(1, 100000));
  eval->add_option("--max-depth", m->max_depth, "Depth of each tree")->default_val(3)->check(CLI::Range(1, 20));
  eval->add_option("--learning-rate", m->learning_rate, "Boosting learning rate (eta)")
      ->default_val(0.05)
      ->check(CLI::Range(0.0001, 1.0));
  eval->add_option("--threads", m->threads, "XGBoost threads; 0: one per million feature cells, at most 2")
      ->default_val(0)
      ->check(CLI::Range(0, 256));
  eval->add_option("--l2", m->l2, "L2 penalty of the logistic regression")->default_val(1)->check(CLI::NonNegativeNumber);
  out->push_back({eval, [m] { return RunModelEvaluate(*m); }});
}

}  // namespace rapport::cli
