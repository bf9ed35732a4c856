// rapport analytics clv fit: lifetime-value models fitted on an analyst's own
// transaction file, without a data directory.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "analytics/clv.h"
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

}  // namespace

void AddAnalyticsCommands(CLI::App& app, std::vector<Command>* out) {
  // `analytics` itself (with `query`) comes from AddSegmentCommands.
  CLI::App* analytics = app.get_subcommand("analytics");
  analytics->description("Slice-and-dice over the profile store; customer-value models on files");
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
}

}  // namespace rapport::cli
