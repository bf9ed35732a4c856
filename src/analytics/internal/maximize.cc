#include "analytics/internal/maximize.h"

#include <nlopt.h>

#include <cmath>
#include <cstdio>

namespace rapport::analytics::internal {
namespace {

// exp(+-15): 3.3e6 and 3.1e-7, beyond any parameter of a real purchase or
// spend process measured in periods and currency units.
constexpr double kIdentifiedLogBound = 15;

struct Context {
  const LogLikelihoodFn* f = nullptr;
  double scale = 1;  // the objective is -LL / scale, so its size does not depend on the customer count
  int evaluations = 0;
  std::vector<double> theta, grad;
};

double Objective(unsigned n, const double* x, double* grad, void* data) {
  auto* c = static_cast<Context*>(data);
  ++c->evaluations;
  c->theta.assign(x, x + n);
  double ll = (*c->f)(c->theta, grad != nullptr ? &c->grad : nullptr);
  if (!std::isfinite(ll)) {
    // Outside where the model is defined: a wall the optimizer backs off from.
    if (grad != nullptr) {
      for (unsigned i = 0; i < n; ++i) grad[i] = 0;
    }
    return HUGE_VAL;
  }
  if (grad != nullptr) {
    for (unsigned i = 0; i < n; ++i) grad[i] = -c->grad[i] / c->scale;
  }
  return -ll / c->scale;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void NumericalGradient(const LogLikelihoodFn& f, const std::vector<double>& theta, std::vector<double>* grad) {
  grad->assign(theta.size(), 0);
  std::vector<double> t = theta;
  for (size_t i = 0; i < theta.size(); ++i) {
    const double h = 1e-5;
    t[i] = theta[i] + h;
    double up = f(t, nullptr);
    t[i] = theta[i] - h;
    double down = f(t, nullptr);
    t[i] = theta[i];
    (*grad)[i] = (up - down) / (2 * h);
  }
}

Result<Maximum> Maximize(const std::string& model, const std::vector<std::string>& names, const LogLikelihoodFn& f,
                         std::vector<double> theta, double scale, const FitOptions& options) {
  const unsigned n = static_cast<unsigned>(theta.size());
  Context c;
  c.f = &f;
  c.scale = scale > 0 ? scale : 1;
  nlopt_opt opt = nlopt_create(options.gradient_free ? NLOPT_LN_NELDERMEAD : NLOPT_LD_LBFGS, n);
  std::vector<double> lower(n, -30), upper(n, 30);  // exp(+-30): far beyond any sensible parameter
  nlopt_set_lower_bounds(opt, lower.data());
  nlopt_set_upper_bounds(opt, upper.data());
  nlopt_set_min_objective(opt, Objective, &c);
  nlopt_set_ftol_rel(opt, 1e-13);
  nlopt_set_xtol_rel(opt, options.gradient_free ? 1e-9 : 1e-11);
  nlopt_set_maxeval(opt, options.max_evaluations);
  if (options.gradient_free) {
    std::vector<double> step(n, 0.5);
    nlopt_set_initial_step(opt, step.data());
  } else {
    nlopt_set_vector_storage(opt, 10);
  }
  double value = 0;
  nlopt_result r = nlopt_optimize(opt, theta.data(), &value);
  nlopt_destroy(opt);

  Maximum out;
  std::vector<double> grad;
  out.info.log_likelihood = f(theta, &grad);
  out.info.evaluations = c.evaluations + 1;
  out.info.gradient = grad;
  double worst = 0;
  for (double g : grad) worst = std::max(worst, std::isfinite(g) ? std::abs(g) : HUGE_VAL);
  // NLopt's own verdict is not enough (L-BFGS often ends "roundoff limited"
  // at the optimum, and a tolerance stop can be far from it): the gradient is.
  if (!std::isfinite(out.info.log_likelihood) || worst > options.gradient_tolerance) {
    std::string msg = model + " fit did not converge after " + std::to_string(out.info.evaluations) +
                      " evaluations (NLopt " + nlopt_result_to_string(r) + "): log-likelihood " +
                      Number(out.info.log_likelihood) + ", last gradient in log-parameters";
    for (size_t i = 0; i < names.size() && i < grad.size(); ++i) {
      msg += (i == 0 ? " " : ", ") + names[i] + " " + Number(grad[i]);
    }
    msg += " (tolerance " + Number(options.gradient_tolerance) + "); nothing fitted";
    return Status::Unprocessable(msg, "fit");
  }
  // A likelihood still rising towards zero or infinity in some parameter
  // has no maximum: the data do not identify the model.
  for (unsigned i = 0; i < n; ++i) {
    if (std::abs(theta[i]) > kIdentifiedLogBound) {
      return Status::Unprocessable(model + " fit has no maximum: " + names[i] + " runs off to " +
                                       Number(std::exp(theta[i])) +
                                       " (the data do not identify the model: too few customers, or too regular ones); "
                                       "nothing fitted",
                                   "fit");
    }
  }
  out.params.resize(n);
  for (unsigned i = 0; i < n; ++i) out.params[i] = std::exp(theta[i]);
  return out;
}

}  // namespace rapport::analytics::internal
