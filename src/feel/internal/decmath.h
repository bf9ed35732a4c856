#pragma once
// Decimal functions beyond + - * / (powers, roots, logarithms, rounding) on
// decNumber at 34 digits. Stateless; thread-safe.

#include <optional>

#include "feel/feel.h"

namespace rapport::feel::internal {

enum class Rounding { kUp, kDown, kCeiling, kFloor, kHalfUp, kHalfDown, kHalfEven };

std::optional<Decimal> DecPow(Decimal base, Decimal exponent);
std::optional<Decimal> DecSqrt(Decimal x);
std::optional<Decimal> DecExp(Decimal x);
std::optional<Decimal> DecLn(Decimal x);
// Rounds to `scale` digits after the point (negative: to tens, hundreds...).
std::optional<Decimal> DecRound(Decimal x, int64_t scale, Rounding mode);

}  // namespace rapport::feel::internal
