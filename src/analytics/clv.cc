// BG/NBD, Pareto/NBD and Gamma-Gamma: likelihoods, fits and predictions.
//
// Speed: the likelihoods are sums over customers, but the special functions
// (lgamma, digamma) depend only on the repeat-purchase count x, which takes
// few distinct values, and many customers share (x, t_x, T) exactly (every
// non-repeater of one cohort). So customers are first grouped by their
// distinct (x, t_x, T) with a weight, the x-dependent terms are computed once
// per distinct x, and the per-group work is a few logs and one exp.
#include "analytics/clv.h"

#include <boost/math/special_functions/digamma.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "analytics/internal/maximize.h"

namespace rapport::analytics {
namespace {

double Digamma(double v) { return boost::math::digamma(v); }

// log(exp(a) + exp(b)) without overflow.
double LogAddExp(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

struct Group {
  double x, t_x, T, weight;
  int xi;  // index into Groups::xs
};

struct Groups {
  std::vector<double> xs;  // distinct x
  std::vector<Group> groups;
  double customers = 0;
};

Groups GroupCustomers(const std::vector<CustomerSummary>& customers) {
  std::map<std::tuple<double, double, double>, double> counts;
  for (const CustomerSummary& c : customers) counts[{c.x, c.t_x, c.T}] += 1;
  Groups g;
  std::map<double, int> xi;
  for (const auto& [key, w] : counts) {
    auto [x, t_x, T] = key;
    auto [it, inserted] = xi.try_emplace(x, static_cast<int>(g.xs.size()));
    if (inserted) g.xs.push_back(x);
    g.groups.push_back({x, t_x, T, w, it->second});
    g.customers += w;
  }
  return g;
}

double MeanT(const std::vector<CustomerSummary>& customers) {
  double sum = 0;
  for (const CustomerSummary& c : customers) sum += c.T;
  return customers.empty() ? 1 : std::max(sum / static_cast<double>(customers.size()), 1e-3);
}

// ---- BG/NBD ----------------------------------------------------------------

// LL and its gradient in log-parameters over the groups.
double BgNbdLogLikelihood(const Groups& g, const std::vector<double>& theta, std::vector<double>* grad) {
  const double r = std::exp(theta[0]), alpha = std::exp(theta[1]), a = std::exp(theta[2]), b = std::exp(theta[3]);
  const size_t nx = g.xs.size();
  // Per distinct x: A1 + A2 (without r ln alpha) and their derivatives.
  std::vector<double> base(nx), d_r(nx), d_a(nx), d_b(nx);
  const double lg_r = std::lgamma(r), lg_b = std::lgamma(b), lg_ab = std::lgamma(a + b);
  const bool want = grad != nullptr;
  const double psi_r = want ? Digamma(r) : 0, psi_b = want ? Digamma(b) : 0, psi_ab = want ? Digamma(a + b) : 0;
  for (size_t i = 0; i < nx; ++i) {
    double x = g.xs[i];
    base[i] = std::lgamma(r + x) - lg_r + lg_ab + std::lgamma(b + x) - lg_b - std::lgamma(a + b + x);
    if (want) {
      double psi_abx = Digamma(a + b + x);
      d_r[i] = Digamma(r + x) - psi_r;
      d_a[i] = psi_ab - psi_abx;
      d_b[i] = psi_ab + Digamma(b + x) - psi_b - psi_abx;
    }
  }
  const double log_alpha = std::log(alpha), log_a = std::log(a);
  double ll = 0, gr = 0, gal = 0, ga = 0, gb = 0;
  for (const Group& c : g.groups) {
    const double rx = r + c.x;
    const double l_T = std::log(alpha + c.T);
    double l3 = -rx * l_T;
    double term = l3, pi = 0, l_tx = 0;
    if (c.x > 0) {
      l_tx = std::log(alpha + c.t_x);
      double l4 = log_a - std::log(b + c.x - 1) - rx * l_tx;
      term = LogAddExp(l3, l4);
      pi = std::exp(l4 - term);  // share of the "dropped out after the last purchase" term
    }
    ll += c.weight * (base[c.xi] + r * log_alpha + term);
    if (want) {
      gr += c.weight * (d_r[c.xi] + log_alpha - (1 - pi) * l_T - pi * l_tx);
      gal += c.weight * (r / alpha - (1 - pi) * rx / (alpha + c.T) - (c.x > 0 ? pi * rx / (alpha + c.t_x) : 0));
      ga += c.weight * (d_a[c.xi] + pi / a);
      gb += c.weight * (d_b[c.xi] - (c.x > 0 ? pi / (b + c.x - 1) : 0));
    }
  }
  if (want) *grad = {gr * r, gal * alpha, ga * a, gb * b};
  return ll;
}

// ---- Pareto/NBD ------------------------------------------------------------

// log of A0 (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model"),
// choosing the form whose 2F1 argument is |alpha - beta| / (max + t) < 1:
// A0 = F(z(t_x)) / (m + t_x)^(r+s+x) - F(z(T)) / (m + T)^(r+s+x).
double ParetoLogA0(double r, double alpha, double s, double beta, double x, double t_x, double T) {
  const double rsx = r + s + x;
  const double m = std::max(alpha, beta);
  const double diff = std::abs(alpha - beta);
  const double b2 = alpha >= beta ? s + 1 : r + x;
  double l1 = std::log(Hypergeometric2F1(rsx, b2, rsx + 1, diff / (m + t_x))) - rsx * std::log(m + t_x);
  double l2 = std::log(Hypergeometric2F1(rsx, b2, rsx + 1, diff / (m + T))) - rsx * std::log(m + T);
  if (!(l2 < l1)) return -INFINITY;  // t_x == T: the customer cannot have died in between
  return l1 + std::log(-std::expm1(l2 - l1));
}

double ParetoLogLikelihoodOne(double r, double alpha, double s, double beta, double x, double t_x, double T) {
  double head = std::lgamma(r + x) - std::lgamma(r) + r * std::log(alpha) + s * std::log(beta);
  double alive = -(r + x) * std::log(alpha + T) - s * std::log(beta + T);
  double died = std::log(s / (r + s + x)) + ParetoLogA0(r, alpha, s, beta, x, t_x, T);
  return head + LogAddExp(alive, died);
}

double ParetoNbdLogLikelihood(const Groups& g, const std::vector<double>& theta) {
  const double r = std::exp(theta[0]), alpha = std::exp(theta[1]), s = std::exp(theta[2]), beta = std::exp(theta[3]);
  double ll = 0;
  for (const Group& c : g.groups) ll += c.weight * ParetoLogLikelihoodOne(r, alpha, s, beta, c.x, c.t_x, c.T);
  return ll;
}

// ---- Gamma-Gamma -----------------------------------------------------------

struct Buyers {
  std::vector<double> xs;  // distinct x
  struct One {
    double x, log_x, m, log_m;
    int xi;
  };
  std::vector<One> rows;
};

Buyers RepeatBuyers(const std::vector<CustomerSummary>& customers) {
  Buyers b;
  std::map<double, int> xi;
  for (const CustomerSummary& c : customers) {
    if (c.x <= 0 || !(c.monetary > 0)) continue;
    auto [it, inserted] = xi.try_emplace(c.x, static_cast<int>(b.xs.size()));
    if (inserted) b.xs.push_back(c.x);
    b.rows.push_back({c.x, std::log(c.x), c.monetary, std::log(c.monetary), it->second});
  }
  return b;
}

double GammaGammaLogLikelihood(const Buyers& b, const std::vector<double>& theta, std::vector<double>* grad) {
  const double p = std::exp(theta[0]), q = std::exp(theta[1]), gamma = std::exp(theta[2]);
  const bool want = grad != nullptr;
  const size_t nx = b.xs.size();
  std::vector<double> base(nx), psi_pxq(nx), psi_px(nx);
  const double lg_q = std::lgamma(q);
  for (size_t i = 0; i < nx; ++i) {
    double px = p * b.xs[i];
    base[i] = std::lgamma(px + q) - std::lgamma(px) - lg_q;
    if (want) {
      psi_pxq[i] = Digamma(px + q);
      psi_px[i] = Digamma(px);
    }
  }
  const double log_gamma = std::log(gamma);
  const double psi_q = want ? Digamma(q) : 0;
  double ll = 0, gp = 0, gq = 0, gg = 0;
  for (const Buyers::One& c : b.rows) {
    const double px = p * c.x;
    const double denom = gamma + c.x * c.m;
    const double l_denom = std::log(denom);
    ll += base[c.xi] + q * log_gamma + (px - 1) * c.log_m + px * c.log_x - (px + q) * l_denom;
    if (want) {
      gp += c.x * (psi_pxq[c.xi] - psi_px[c.xi] + c.log_m + c.log_x - l_denom);
      gq += psi_pxq[c.xi] - psi_q + log_gamma - l_denom;
      gg += q / gamma - (px + q) / denom;
    }
  }
  if (want) *grad = {gp * p, gq * q, gg * gamma};
  return ll;
}

std::vector<double> LogOf(std::initializer_list<double> v) {
  std::vector<double> out;
  for (double d : v) out.push_back(std::log(d));
  return out;
}

}  // namespace

// ---- 2F1 -------------------------------------------------------------------

double Hypergeometric2F1(double a, double b, double c, double z) {
  if (!(z >= 0 && z < 1)) return NAN;
  double term = 1, sum = 1;
  for (int n = 0; n < 100'000; ++n) {
    term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (std::abs(term) <= 1e-16 * std::abs(sum)) return sum;
    if (!std::isfinite(sum)) return sum;
  }
  return NAN;  // z too close to 1 for the series: no value rather than a wrong one
}

// ---- summary ---------------------------------------------------------------

Result<SummaryTable> Summarize(const TransactionList& transactions, const SummaryOptions& options) {
  if (transactions.rows.empty()) return Status::InvalidArgument("there are no transactions", "file");
  if (!(options.days_per_period > 0)) {
    return Status::InvalidArgument("days per period must be positive", "daysPerPeriod");
  }
  // Sorted by customer, then day: each customer's purchase days in order.
  std::vector<Transaction> rows = transactions.rows;
  std::sort(rows.begin(), rows.end(), [](const Transaction& l, const Transaction& r) {
    return l.customer != r.customer ? l.customer < r.customer : l.day < r.day;
  });
  int32_t last_day = rows.front().day;
  for (const Transaction& t : rows) last_day = std::max(last_day, t.day);
  SummaryTable table;
  table.calibration_end = options.calibration_end.value_or(last_day);
  table.observation_end = options.observation_end.value_or(std::max(last_day, table.calibration_end));
  if (table.observation_end < table.calibration_end) {
    return Status::InvalidArgument("the observation end " + FormatDay(table.observation_end) +
                                       " lies before the calibration end " + FormatDay(table.calibration_end),
                                   "observationEnd");
  }
  const double per = options.days_per_period;
  table.holdout_length = (table.observation_end - table.calibration_end) / per;
  table.transactions = static_cast<int64_t>(rows.size());
  size_t i = 0;
  while (i < rows.size()) {
    const int32_t customer = rows[i].customer;
    const int32_t first = rows[i].day;
    CustomerSummary c;
    c.customer = customer;
    double repeat_sum = 0;
    int32_t last = first;
    bool first_day = true;
    while (i < rows.size() && rows[i].customer == customer) {
      const int32_t day = rows[i].day;
      int64_t units = 0;
      for (; i < rows.size() && rows[i].customer == customer && rows[i].day == day; ++i) units += rows[i].amount.units();
      ++table.purchase_days;
      if (day <= table.calibration_end) {
        if (!first_day) {
          c.x += 1;
          repeat_sum += Money::FromUnits(units).ToDouble();
          last = day;
        }
      } else if (day <= table.observation_end) {
        c.holdout_x += 1;
      }
      first_day = false;
    }
    if (first > table.calibration_end) continue;  // not yet a customer in the calibration period
    c.t_x = (last - first) / per;
    c.T = (table.calibration_end - first) / per;
    c.monetary = c.x > 0 ? repeat_sum / c.x : 0;
    table.customers.push_back(c);
  }
  return table;
}

// ---- fits ------------------------------------------------------------------

Result<BgNbdFit> FitBgNbd(const std::vector<CustomerSummary>& customers, const FitOptions& options) {
  if (customers.empty()) return Status::Unprocessable("BG/NBD: there are no customers to fit", "customers");
  Groups g = GroupCustomers(customers);
  internal::LogLikelihoodFn f = [&g](const std::vector<double>& theta, std::vector<double>* grad) {
    return BgNbdLogLikelihood(g, theta, grad);
  };
  RP_ASSIGN_OR_RETURN(internal::Maximum m, internal::Maximize("BG/NBD", {"r", "alpha", "a", "b"}, f,
                                                               LogOf({1, MeanT(customers), 1, 1}), g.customers,
                                                               options));
  return BgNbdFit{{m.params[0], m.params[1], m.params[2], m.params[3]}, m.info};
}

Result<ParetoNbdFit> FitParetoNbd(const std::vector<CustomerSummary>& customers, const FitOptions& options) {
  if (customers.empty()) return Status::Unprocessable("Pareto/NBD: there are no customers to fit", "customers");
  Groups g = GroupCustomers(customers);
  internal::LogLikelihoodFn value = [&g](const std::vector<double>& theta, std::vector<double>*) {
    return ParetoNbdLogLikelihood(g, theta);
  };
  internal::LogLikelihoodFn f = [&g, &value](const std::vector<double>& theta, std::vector<double>* grad) {
    if (grad != nullptr) internal::NumericalGradient(value, theta, grad);
    return ParetoNbdLogLikelihood(g, theta);
  };
  double mean_t = MeanT(customers);
  RP_ASSIGN_OR_RETURN(internal::Maximum m, internal::Maximize("Pareto/NBD", {"r", "alpha", "s", "beta"}, f,
                                                               LogOf({1, mean_t, 1, mean_t}), g.customers, options));
  return ParetoNbdFit{{m.params[0], m.params[1], m.params[2], m.params[3]}, m.info};
}

Result<GammaGammaFit> FitGammaGamma(const std::vector<CustomerSummary>& customers, const FitOptions& options) {
  Buyers b = RepeatBuyers(customers);
  if (b.rows.empty()) {
    return Status::Unprocessable("Gamma-Gamma: no customer has a repeat purchase with a positive value", "customers");
  }
  double mean_m = 0;
  for (const Buyers::One& c : b.rows) mean_m += c.m;
  mean_m /= static_cast<double>(b.rows.size());
  internal::LogLikelihoodFn f = [&b](const std::vector<double>& theta, std::vector<double>* grad) {
    return GammaGammaLogLikelihood(b, theta, grad);
  };
  RP_ASSIGN_OR_RETURN(internal::Maximum m,
                      internal::Maximize("Gamma-Gamma", {"p", "q", "gamma"}, f, LogOf({1, 2, mean_m}),
                                         static_cast<double>(b.rows.size()), options));
  return GammaGammaFit{{m.params[0], m.params[1], m.params[2]}, m.info, static_cast<int64_t>(b.rows.size())};
}

double LogLikelihood(const BgNbdParams& p, const std::vector<CustomerSummary>& customers) {
  return BgNbdLogLikelihood(GroupCustomers(customers), LogOf({p.r, p.alpha, p.a, p.b}), nullptr);
}
double LogLikelihood(const ParetoNbdParams& p, const std::vector<CustomerSummary>& customers) {
  return ParetoNbdLogLikelihood(GroupCustomers(customers), LogOf({p.r, p.alpha, p.s, p.beta}));
}
double LogLikelihood(const GammaGammaParams& p, const std::vector<CustomerSummary>& customers) {
  return GammaGammaLogLikelihood(RepeatBuyers(customers), LogOf({p.p, p.q, p.gamma}), nullptr);
}

// ---- predictions -----------------------------------------------------------

double ExpectedPurchases(const BgNbdParams& p, double t) {
  if (t <= 0) return 0;
  double hyp = Hypergeometric2F1(p.r, p.b, p.a + p.b - 1, t / (p.alpha + t));
  return (p.a + p.b - 1) / (p.a - 1) * (1 - std::pow(p.alpha / (p.alpha + t), p.r) * hyp);
}

double ConditionalExpectedPurchases(const BgNbdParams& p, double x, double t_x, double T, double t) {
  if (t <= 0) return 0;
  double rx = p.r + x;
  double hyp = Hypergeometric2F1(rx, p.b + x, p.a + p.b + x - 1, t / (p.alpha + T + t));
  double num = (p.a + p.b + x - 1) / (p.a - 1) * (1 - std::pow((p.alpha + T) / (p.alpha + T + t), rx) * hyp);
  double den = 1;
  if (x > 0) den += p.a / (p.b + x - 1) * std::pow((p.alpha + T) / (p.alpha + t_x), rx);
  return num / den;
}

double ProbabilityAlive(const BgNbdParams& p, double x, double t_x, double T) {
  if (x <= 0) return 1;
  double log_odds = std::log(p.a / (p.b + x - 1)) + (p.r + x) * (std::log(p.alpha + T) - std::log(p.alpha + t_x));
  return 1 / (1 + std::exp(log_odds));
}

double ExpectedPurchases(const ParetoNbdParams& p, double t) {
  if (t <= 0) return 0;
  double s1 = p.s - 1;
  if (std::abs(s1) < 1e-9) return p.r * p.beta / p.alpha * std::log((p.beta + t) / p.beta);
  return p.r * p.beta / (p.alpha * s1) * (1 - std::pow(p.beta / (p.beta + t), s1));
}

double ProbabilityAlive(const ParetoNbdParams& p, double x, double t_x, double T) {
  double log_a0 = ParetoLogA0(p.r, p.alpha, p.s, p.beta, x, t_x, T);
  if (log_a0 == -INFINITY) return 1;
  double log_odds = std::log(p.s / (p.r + p.s + x)) + (p.r + x) * std::log(p.alpha + T) +
                    p.s * std::log(p.beta + T) + log_a0;
  return 1 / (1 + std::exp(log_odds));
}

double ConditionalExpectedPurchases(const ParetoNbdParams& p, double x, double t_x, double T, double t) {
  if (t <= 0) return 0;
  double s1 = p.s - 1;
  double rate = (p.r + x) / (p.alpha + T);  // expected purchase rate of an active customer
  double life;  // expected active time in (T, T + t] of a customer active at T
  if (std::abs(s1) < 1e-9) {
    life = (p.beta + T) * std::log((p.beta + T + t) / (p.beta + T));
  } else {
    life = (p.beta + T) / s1 * (1 - std::pow((p.beta + T) / (p.beta + T + t), s1));
  }
  return ProbabilityAlive(p, x, t_x, T) * rate * life;
}

double ExpectedOrderValue(const GammaGammaParams& g, double x, double monetary) {
  if (x <= 0) return g.p * g.gamma / (g.q - 1);
  return g.p * (g.gamma + x * monetary) / (g.p * x + g.q - 1);
}

namespace {

template <typename Params>
double Clv(const Params& p, const GammaGammaParams& g, const CustomerSummary& c, const ClvOptions& o) {
  double value = ExpectedOrderValue(g, c.x, c.monetary) * o.margin;
  double clv = 0, before = 0;
  for (int k = 1; k <= o.steps; ++k) {
    double upto = ConditionalExpectedPurchases(p, c.x, c.t_x, c.T, k * o.step_length);
    clv += (upto - before) * value / std::pow(1 + o.discount_rate, k);
    before = upto;
  }
  return clv;
}

template <typename Params>
HoldoutReport Validate(const Params& p, const SummaryTable& table, int max_group) {
  HoldoutReport report;
  report.holdout_length = table.holdout_length;
  max_group = std::max(max_group, 1);
  report.groups.resize(static_cast<size_t>(max_group) + 1);
  for (int i = 0; i <= max_group; ++i) {
    report.groups[static_cast<size_t>(i)].frequency = i;
    report.groups[static_cast<size_t>(i)].or_more = i == max_group;
  }
  for (const CustomerSummary& c : table.customers) {
    int k = static_cast<int>(std::min<double>(c.x, max_group));
    HoldoutGroup& group = report.groups[static_cast<size_t>(k)];
    double predicted = ConditionalExpectedPurchases(p, c.x, c.t_x, c.T, table.holdout_length);
    group.customers += 1;
    group.predicted += predicted;
    group.actual += c.holdout_x;
    report.predicted_total += predicted;
    report.actual_total += c.holdout_x;
  }
  double weighted = 0, n = 0;
  for (HoldoutGroup& group : report.groups) {
    if (group.customers == 0) continue;
    group.predicted /= static_cast<double>(group.customers);
    group.actual /= static_cast<double>(group.customers);
    weighted += std::abs(group.error()) * static_cast<double>(group.customers);
    n += static_cast<double>(group.customers);
  }
  report.mean_absolute_error = n > 0 ? weighted / n : 0;
  return report;
}

}  // namespace

double DiscountedClv(const BgNbdParams& p, const GammaGammaParams& g, const CustomerSummary& c,
                     const ClvOptions& options) {
  return Clv(p, g, c, options);
}
double DiscountedClv(const ParetoNbdParams& p, const GammaGammaParams& g, const CustomerSummary& c,
                     const ClvOptions& options) {
  return Clv(p, g, c, options);
}

std::vector<CustomerValue> ScoreCustomers(const BgNbdParams& p, const GammaGammaParams& g,
                                          const std::vector<CustomerSummary>& customers, double horizon,
                                          const ClvOptions& options) {
  std::vector<CustomerValue> out;
  out.reserve(customers.size());
  for (const CustomerSummary& c : customers) {
    out.push_back({c.customer, ProbabilityAlive(p, c.x, c.t_x, c.T),
                   ConditionalExpectedPurchases(p, c.x, c.t_x, c.T, horizon), ExpectedOrderValue(g, c.x, c.monetary),
                   DiscountedClv(p, g, c, options)});
  }
  return out;
}

HoldoutReport ValidateHoldout(const BgNbdParams& p, const SummaryTable& table, int max_group) {
  return Validate(p, table, max_group);
}
HoldoutReport ValidateHoldout(const ParetoNbdParams& p, const SummaryTable& table, int max_group) {
  return Validate(p, table, max_group);
}

}  // namespace rapport::analytics
