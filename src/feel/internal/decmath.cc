// decNumber glue: Decimal -> text -> decNumber, compute, and back.

#include "feel/internal/decmath.h"

#define DECNUMDIGITS 34
extern "C" {
#include <decnumber/decContext.h>
#include <decnumber/decNumber.h>
}

#include <string>

namespace rapport::feel::internal {
namespace {

decContext MakeContext() {
  decContext ctx;
  decContextDefault(&ctx, DEC_INIT_DECIMAL128);
  ctx.traps = 0;
  return ctx;
}

decNumber ToDec(Decimal d, decContext* ctx) {
  decNumber n;
  std::string s = d.ToString();
  decNumberFromString(&n, s.c_str(), ctx);
  return n;
}

std::optional<Decimal> FromDec(const decNumber& n) {
  if (decNumberIsNaN(&n) || decNumberIsInfinite(&n)) return std::nullopt;
  char buf[DECNUMDIGITS + 64];
  decNumberToString(&n, buf);
  auto r = Decimal::Parse(buf);
  if (!r.ok()) return std::nullopt;
  return *r;
}

}  // namespace

std::optional<Decimal> DecPow(Decimal base, Decimal exponent) {
  decContext ctx = MakeContext();
  decNumber a = ToDec(base, &ctx), b = ToDec(exponent, &ctx), r;
  bool exact = false;
  int64_t e = exponent.ToInt64(&exact);
  if (exact && e >= -999'999'999 && e <= 999'999'999) {
    decNumberPower(&r, &a, &b, &ctx);
  } else {
    if (base.IsNegative()) return std::nullopt;
    decNumberPower(&r, &a, &b, &ctx);
  }
  if (ctx.status & (DEC_Invalid_operation | DEC_Division_by_zero | DEC_Overflow)) return std::nullopt;
  return FromDec(r);
}

std::optional<Decimal> DecSqrt(Decimal x) {
  if (x.IsNegative()) return std::nullopt;
  decContext ctx = MakeContext();
  decNumber a = ToDec(x, &ctx), r;
  decNumberSquareRoot(&r, &a, &ctx);
  return FromDec(r);
}

std::optional<Decimal> DecExp(Decimal x) {
  decContext ctx = MakeContext();
  decNumber a = ToDec(x, &ctx), r;
  decNumberExp(&r, &a, &ctx);
  if (ctx.status & DEC_Overflow) return std::nullopt;
  return FromDec(r);
}

std::optional<Decimal> DecLn(Decimal x) {
  if (x.IsNegative() || x.IsZero()) return std::nullopt;
  decContext ctx = MakeContext();
  decNumber a = ToDec(x, &ctx), r;
  decNumberLn(&r, &a, &ctx);
  return FromDec(r);
}

std::optional<Decimal> DecRound(Decimal x, int64_t scale, Rounding mode) {
  if (scale < -6111 || scale > 6176) return std::nullopt;
  decContext ctx = MakeContext();
  switch (mode) {
    case Rounding::kUp: ctx.round = DEC_ROUND_UP; break;
    case Rounding::kDown: ctx.round = DEC_ROUND_DOWN; break;
    case Rounding::kCeiling: ctx.round = DEC_ROUND_CEILING; break;
    case Rounding::kFloor: ctx.round = DEC_ROUND_FLOOR; break;
    case Rounding::kHalfUp: ctx.round = DEC_ROUND_HALF_UP; break;
    case Rounding::kHalfDown: ctx.round = DEC_ROUND_HALF_DOWN; break;
    case Rounding::kHalfEven: ctx.round = DEC_ROUND_HALF_EVEN; break;
  }
  decNumber a = ToDec(x, &ctx), s, r;
  decNumberFromInt32(&s, static_cast<int32_t>(-scale));
  decNumberRescale(&r, &a, &s, &ctx);
  if (ctx.status & DEC_Invalid_operation) {
    // Rescaling to a large scale needs more than 34 digits (round up(5.5,
    // 6176)); a number with no more fractional digits than the scale is
    // unchanged by rounding.
    if (a.exponent >= -scale) return x;
    return std::nullopt;
  }
  return FromDec(r);
}

}  // namespace rapport::feel::internal
