#pragma once
// Customer lifetime value from repeat-purchase histories: the BG/NBD and
// Pareto/NBD models of how often a customer buys and for how long they stay,
// and the Gamma-Gamma model of how much they spend, each fitted by maximum
// likelihood (NLopt's L-BFGS over log-parameters). From a fit: per customer
// the probability of still being active, the purchases expected over a
// horizon, the expected order value and the discounted lifetime value; and a
// calibration/holdout report. Parameters and fits are plain structs so that
// they can be stored, versioned and published elsewhere. Everything here is
// a pure function of its arguments: thread-safe.
//
// Time is in "periods" (weeks by default, SummaryOptions::days_per_period);
// all times of one fit must be in the same unit. Money enters as
// common/money.h and is a double inside the numerical core.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/transactions.h"
#include "common/status.h"

namespace rapport::analytics {

// ---- summary statistics ----------------------------------------------------

// One customer's calibration history, the inputs of every model here.
struct CustomerSummary {
  int32_t customer = 0;   // index into TransactionList::customers
  double x = 0;           // repeat purchases in the calibration period
  double t_x = 0;         // time of the last purchase, since the first
  double T = 0;           // time from the first purchase to the calibration end
  double monetary = 0;    // mean value of the repeat purchases; 0 when x == 0
  double holdout_x = 0;   // purchases after the calibration end, up to the observation end
};

struct SummaryOptions {
  // Last day (inclusive, days since the epoch) of the calibration period;
  // nullopt: the last transaction's day (no holdout).
  std::optional<int32_t> calibration_end;
  // Last day of the holdout period; nullopt: the last transaction's day.
  std::optional<int32_t> observation_end;
  double days_per_period = 7;
};

struct SummaryTable {
  // Customers whose first purchase is on or before the calibration end, in
  // the order of TransactionList::customers.
  std::vector<CustomerSummary> customers;
  int32_t calibration_end = 0;
  int32_t observation_end = 0;
  double holdout_length = 0;  // periods from the calibration end to the observation end
  int64_t transactions = 0;   // rows read
  int64_t purchase_days = 0;  // purchases after collapsing each customer's day
};

// Purchases of one customer on the same day count as one purchase whose value
// is the day's net amount (refunds net). The first purchase is not a repeat
// purchase: x, t_x and monetary are over the later ones. InvalidArgument when
// the observation end lies before the calibration end or the list is empty.
Result<SummaryTable> Summarize(const TransactionList& transactions, const SummaryOptions& options);

// ---- fitted parameters -----------------------------------------------------

// BG/NBD (Fader, Hardie & Lee 2005): purchases Poisson(lambda) while active,
// lambda ~ Gamma(r, alpha); after each purchase the customer drops out with
// probability p ~ Beta(a, b).
struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
};

// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases
// Poisson(lambda), lambda ~ Gamma(r, alpha); exponential lifetime with rate
// mu ~ Gamma(s, beta).
struct ParetoNbdParams {
  double r = 0, alpha = 0, s = 0, beta = 0;
};

// Gamma-Gamma (Fader, Hardie & Lee 2005 note; Colombo & Jiang 1999): each
// transaction's value ~ Gamma(p, nu), nu ~ Gamma(q, gamma), independent of
// the purchase process.
struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
};

// How a maximum-likelihood fit ended.
struct FitInfo {
  double log_likelihood = 0;
  int evaluations = 0;            // likelihood evaluations
  // The gradient of the log-likelihood with respect to the logarithm of each
  // parameter (in the order of the params struct), at the estimate.
  std::vector<double> gradient;
};

struct BgNbdFit {
  BgNbdParams params;
  FitInfo info;
};
struct ParetoNbdFit {
  ParetoNbdParams params;
  FitInfo info;
};
struct GammaGammaFit {
  GammaGammaParams params;
  FitInfo info;
  int64_t customers = 0;  // repeat buyers (x > 0, monetary > 0) the fit used
};

struct FitOptions {
  int max_evaluations = 1000;
  // Converged when every |dLL/dlog(theta)| is at most this.
  double gradient_tolerance = 1e-3;
  // NLopt's gradient-free Nelder-Mead instead of L-BFGS with the analytic
  // gradient: slower; the baseline bench/analytics_bench.cc prints beside it.
  bool gradient_free = false;
};

// Maximum-likelihood fits. Unprocessable when there is nothing to fit (no
// customer; for Gamma-Gamma no repeat buyer with a positive mean value) or
// when the optimizer stops without converging: the message names the
// log-likelihood and the last gradient, and no parameters are returned.
Result<BgNbdFit> FitBgNbd(const std::vector<CustomerSummary>& customers, const FitOptions& options = {});
Result<ParetoNbdFit> FitParetoNbd(const std::vector<CustomerSummary>& customers, const FitOptions& options = {});
Result<GammaGammaFit> FitGammaGamma(const std::vector<CustomerSummary>& customers, const FitOptions& options = {});

// Sums of log-likelihoods (what the fits maximize), for checking and baselines.
double LogLikelihood(const BgNbdParams& p, const std::vector<CustomerSummary>& customers);
double LogLikelihood(const ParetoNbdParams& p, const std::vector<CustomerSummary>& customers);
// Over the repeat buyers only, as FitGammaGamma.
double LogLikelihood(const GammaGammaParams& p, const std::vector<CustomerSummary>& customers);

// ---- predictions -----------------------------------------------------------

// E[X(t)]: purchases expected in (0, t] of a customer who made the first at 0.
double ExpectedPurchases(const BgNbdParams& p, double t);
double ExpectedPurchases(const ParetoNbdParams& p, double t);
// E[Y(t) | x, t_x, T]: purchases expected in (T, T + t].
double ConditionalExpectedPurchases(const BgNbdParams& p, double x, double t_x, double T, double t);
double ConditionalExpectedPurchases(const ParetoNbdParams& p, double x, double t_x, double T, double t);
// P(still active at T | x, t_x, T).
double ProbabilityAlive(const BgNbdParams& p, double x, double t_x, double T);
double ProbabilityAlive(const ParetoNbdParams& p, double x, double t_x, double T);
// E[M | x, mean value]: the customer's expected value per purchase (the
// population mean p * gamma / (q - 1) when x == 0). Needs q > 1.
double ExpectedOrderValue(const GammaGammaParams& p, double x, double monetary);

// Discounted lifetime value: the purchases expected in each of `steps`
// intervals of `step_length` periods after T, times the expected order value
// and the margin, each interval discounted by (1 + discount_rate)^k.
struct ClvOptions {
  int steps = 12;
  double step_length = 52.0 / 12;  // a month, in weeks
  double discount_rate = 0.01;     // per step
  double margin = 1;               // share of the order value that is profit
};
double DiscountedClv(const BgNbdParams& p, const GammaGammaParams& g, const CustomerSummary& c,
                     const ClvOptions& options);
double DiscountedClv(const ParetoNbdParams& p, const GammaGammaParams& g, const CustomerSummary& c,
                     const ClvOptions& options);

// One customer's scores from a purchase model and a Gamma-Gamma fit.
struct CustomerValue {
  int32_t customer = 0;
  double probability_alive = 0;
  double expected_purchases = 0;   // over `horizon` periods after T
  double expected_order_value = 0;
  double clv = 0;
};
std::vector<CustomerValue> ScoreCustomers(const BgNbdParams& p, const GammaGammaParams& g,
                                          const std::vector<CustomerSummary>& customers, double horizon,
                                          const ClvOptions& options);

// ---- calibration / holdout -------------------------------------------------

// Customers grouped by their calibration repeat purchases x (0, 1, ...,
// max_group - 1, and "max_group or more"): the mean holdout purchases the
// model predicts (conditional expectation over the holdout length) against
// the mean actually made.
struct HoldoutGroup {
  int frequency = 0;
  bool or_more = false;  // the last group: frequency or more
  int64_t customers = 0;
  double predicted = 0;  // mean per customer
  double actual = 0;     // mean per customer
  double error() const { return predicted - actual; }
};
struct HoldoutReport {
  double holdout_length = 0;
  std::vector<HoldoutGroup> groups;
  double predicted_total = 0;
  double actual_total = 0;
  // Customer-weighted mean of |predicted - actual| over the groups.
  double mean_absolute_error = 0;
};
HoldoutReport ValidateHoldout(const BgNbdParams& p, const SummaryTable& table, int max_group = 7);
HoldoutReport ValidateHoldout(const ParetoNbdParams& p, const SummaryTable& table, int max_group = 7);

// Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 by its power
// series (the models need it only there); NaN outside, or when the series
// has not converged after 100,000 terms (z within about 1e-4 of 1). Exposed
// for tests.
double Hypergeometric2F1(double a, double b, double c, double z);

}  // namespace rapport::analytics
