#pragma once
// Maximum likelihood over log-parameters with NLopt: L-BFGS with the model's
// analytic (or numerical) gradient, or Nelder-Mead without one. The result is
// accepted only when the gradient at the end is within tolerance; otherwise an
// Unprocessable status names the log-likelihood and that gradient.

#include <functional>
#include <string>
#include <vector>

#include "analytics/clv.h"

namespace rapport::analytics::internal {

// The log-likelihood at parameters exp(theta); fills *grad with dLL/dtheta
// when grad is not null. May return NaN or -inf where the model is undefined.
using LogLikelihoodFn = std::function<double(const std::vector<double>& theta, std::vector<double>* grad)>;

struct Maximum {
  std::vector<double> params;  // exp(theta)
  FitInfo info;
};

Result<Maximum> Maximize(const std::string& model, const std::vector<std::string>& names, const LogLikelihoodFn& f,
                         std::vector<double> theta0, double scale, const FitOptions& options);

// Central differences of f in theta (for the Pareto/NBD, whose likelihood has
// 2F1 terms without a cheap closed-form derivative).
void NumericalGradient(const LogLikelihoodFn& f, const std::vector<double>& theta, std::vector<double>* grad);

}  // namespace rapport::analytics::internal
