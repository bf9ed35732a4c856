// Decimal: IEEE 754-2008 decimal128 in BID encoding. Basic arithmetic runs on
// libgcc's decimal float routines (correctly rounded to 34 digits, half
// even); text conversion is done here; transcendental functions live in
// internal/decmath.cc (decNumber).

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "feel/feel.h"

namespace rapport::feel {
namespace {

using u128 = unsigned __int128;

// libgcc's BID decimal128 routines, which GCC calls for its native
// _Decimal128. They are called by name so that clang (which has no decimal
// float type) builds this file too: the fuzz targets are built with clang.
// A _Decimal128 is passed and returned in one SSE register on x86-64, as a
// 16-byte vector is.
typedef float D128 __attribute__((vector_size(16)));
extern "C" {
D128 __bid_addtd3(D128, D128);
D128 __bid_subtd3(D128, D128);
D128 __bid_multd3(D128, D128);
D128 __bid_divtd3(D128, D128);
int __bid_lttd2(D128, D128);  // < 0 when a < b (not when unordered)
int __bid_gttd2(D128, D128);  // > 0 when a > b (not when unordered)
}

constexpr int kBias = 6176;
constexpr int kMaxExp = 6111;
constexpr int kMinExp = -6176;
constexpr uint64_t kCoeffHighMask = (1ULL << 49) - 1;

D128 ToNative(Decimal d) {
  D128 x;
  uint64_t w[2] = {d.low_bits(), d.high_bits()};
  std::memcpy(&x, w, 16);
  return x;
}
Decimal FromNative(D128 x) {
  uint64_t w[2];
  std::memcpy(w, &x, 16);
  return Decimal::FromBits(w[1], w[0]);
}

struct Unpacked {
  bool negative = false;
  bool special = false;  // inf or nan
  int exponent = 0;
  u128 coefficient = 0;
};

Unpacked Unpack(Decimal d) {
  Unpacked u;
  uint64_t hi = d.high_bits();
  u.negative = (hi >> 63) != 0;
  if (((hi >> 61) & 3) == 3) {
    if (((hi >> 59) & 0xF) == 0xF) {
      u.special = true;
      return u;
    }
    // Non-canonical (coefficient >= 2^113): value is zero.
    u.exponent = static_cast<int>((hi >> 47) & 0x3FFF) - kBias;
    return u;
  }
  u.exponent = static_cast<int>((hi >> 49) & 0x3FFF) - kBias;
  u.coefficient = (static_cast<u128>(hi & kCoeffHighMask) << 64) | d.low_bits();
  if (u.coefficient >= static_cast<u128>(1) << 113) u.coefficient = 0;
  return u;
}

u128 Pow10(int n) {
  u128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}
const u128 kMaxCoeff = Pow10(34);

Decimal Pack(bool negative, u128 coefficient, int exponent) {
  // Clamp exponent into range; coefficient must be < 10^34.
  while (exponent > kMaxExp && coefficient < kMaxCoeff / 10 && coefficient != 0) {
    coefficient *= 10;
    --exponent;
  }
  if (coefficient == 0) exponent = std::max(kMinExp, std::min(kMaxExp, exponent));
  if (exponent > kMaxExp) {  // overflow: infinity
    return Decimal::FromBits((negative ? 1ULL << 63 : 0) | 0x7800000000000000ULL, 0);
  }
  while (exponent < kMinExp) {  // underflow: round toward zero (subnormal)
    coefficient /= 10;
    ++exponent;
  }
  uint64_t hi = (negative ? 1ULL << 63 : 0) |
                (static_cast<uint64_t>(exponent + kBias) << 49) |
                static_cast<uint64_t>(coefficient >> 64);
  return Decimal::FromBits(hi, static_cast<uint64_t>(coefficient));
}

std::string CoefficientDigits(u128 c) {
  if (c == 0) return "0";
  char buf[48];
  int n = 0;
  while (c > 0) {
    buf[n++] = static_cast<char>('0' + static_cast<int>(c % 10));
    c /= 10;
  }
  std::string s(n, '0');
  for (int i = 0; i < n; ++i) s[i] = buf[n - 1 - i];
  return s;
}

}  // namespace

Decimal Decimal::FromInt(int64_t v) {
  bool neg = v < 0;
  u128 c = neg ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
  return Pack(neg, c, 0);
}

Decimal Decimal::FromDouble(double v) {
  if (!std::isfinite(v)) return Decimal::FromBits(0x7C00000000000000ULL, 0);
  // The shortest text that reads back as v (std::to_chars without a
  // precision guarantees the round trip); was up to 17 printf/strtod tries,
  // a quarter of a decision's time when it read numbers from the profile.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return Decimal();
  auto r = Parse(std::string_view(buf, static_cast<size_t>(end - buf)));
  return r.ok() ? *r : Decimal();
}

Result<Decimal> Decimal::Parse(std::string_view text) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  std::string digits;
  int exponent = 0;
  bool any = false, dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (!(digits.empty() && c == '0')) digits.push_back(c);
      if (dot) --exponent;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!any) return Status::InvalidArgument("not a number: " + std::string(text));
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    if (i >= text.size()) return Status::InvalidArgument("bad exponent: " + std::string(text));
    int64_t e = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (e < 100000) e = e * 10 + (text[i] - '0');
    }
    exponent += static_cast<int>(eneg ? -e : e);
  }
  if (i != text.size()) return Status::InvalidArgument("not a number: " + std::string(text));
  // Round to 34 significant digits, half even.
  if (digits.size() > 34) {
    size_t drop = digits.size() - 34;
    char first_dropped = digits[34];
    bool rest_nonzero = digits.find_first_not_of('0', 35) != std::string::npos;
    digits.resize(34);
    exponent += static_cast<int>(drop);
    bool round_up = first_dropped > '5' || (first_dropped == '5' && (rest_nonzero || ((digits.back() - '0') % 2 == 1)));
    u128 c = 0;
    for (char d : digits) c = c * 10 + static_cast<u128>(d - '0');
    if (round_up) ++c;
    if (c == kMaxCoeff) {
      c /= 10;
      ++exponent;
    }
    return Pack(neg, c, exponent);
  }
  u128 c = 0;
  for (char d : digits) c = c * 10 + static_cast<u128>(d - '0');
  Decimal r = Pack(neg, c, exponent);
  if (!r.IsFinite()) return Status::InvalidArgument("number out of range: " + std::string(text));
  return r;
}

std::string Decimal::ToString() const {
  Unpacked u = Unpack(*this);
  if (u.special) return "NaN";
  std::string digits = CoefficientDigits(u.coefficient);
  std::string out;
  if (u.negative && u.coefficient != 0) out.push_back('-');
  if (u.exponent >= 0) {
    out += digits;
    if (u.coefficient != 0) out.append(std::min(u.exponent, 7000), '0');
    return out;
  }
  int point = static_cast<int>(digits.size()) + u.exponent;  // digits before '.'
  if (point > 0) {
    out += digits.substr(0, point);
    out.push_back('.');
    out += digits.substr(point);
  } else {
    out += "0.";
    out.append(std::min(-point, 7000), '0');
    out += digits;
  }
  return out;
}

Decimal Decimal::Normalized() const {
  Unpacked u = Unpack(*this);
  if (u.special) return *this;
  if (u.coefficient == 0) return Decimal();
  while (u.exponent < 0 && u.coefficient % 10 == 0) {
    u.coefficient /= 10;
    ++u.exponent;
  }
  return Pack(u.negative, u.coefficient, u.exponent);
}

int64_t Decimal::ToInt64(bool* exact) const {
  Unpacked u = Unpack(*this);
  bool ok = !u.special;
  u128 c = u.coefficient;
  int e = u.exponent;
  while (ok && e < 0) {
    if (c % 10 != 0) ok = false;
    c /= 10;
    ++e;
  }
  if (u.special) c = 0;
  while (e > 0 && c != 0 && c < (static_cast<u128>(1) << 64)) {
    c *= 10;
    --e;
  }
  bool fits = e == 0 || c == 0;
  if (c > static_cast<u128>(INT64_MAX)) fits = false;
  if (exact) *exact = ok && fits;
  if (!fits) return u.negative ? INT64_MIN : INT64_MAX;
  int64_t v = static_cast<int64_t>(c);
  return u.negative ? -v : v;
}

double Decimal::ToDouble() const { return std::strtod(ToString().c_str(), nullptr); }

bool Decimal::IsZero() const {
  Unpacked u = Unpack(*this);
  return !u.special && u.coefficient == 0;
}
bool Decimal::IsNegative() const {
  Unpacked u = Unpack(*this);
  return u.negative && (u.special || u.coefficient != 0);
}
bool Decimal::IsInteger() const {
  Unpacked u = Unpack(*this);
  if (u.special) return false;
  u128 c = u.coefficient;
  for (int e = u.exponent; e < 0; ++e) {
    if (c % 10 != 0) return false;
    c /= 10;
  }
  return true;
}
bool Decimal::IsFinite() const { return ((hi_ >> 59) & 0xF) != 0xF; }

Decimal operator+(Decimal a, Decimal b) { return FromNative(__bid_addtd3(ToNative(a), ToNative(b))); }
Decimal operator-(Decimal a, Decimal b) { return FromNative(__bid_subtd3(ToNative(a), ToNative(b))); }
Decimal operator*(Decimal a, Decimal b) { return FromNative(__bid_multd3(ToNative(a), ToNative(b))); }
Decimal operator/(Decimal a, Decimal b) { return FromNative(__bid_divtd3(ToNative(a), ToNative(b))); }
Decimal Decimal::operator-() const {
  if (IsZero()) return *this;
  return FromBits(hi_ ^ (1ULL << 63), lo_);
}

int Decimal::Compare(Decimal a, Decimal b) {
  // Fast path: both canonical finite with equal exponents and 64-bit
  // coefficients (the common case: integers, money with 2 decimals).
  uint64_t ah = a.hi_, bh = b.hi_;
  if (((ah >> 61) & 3) != 3 && ((bh >> 61) & 3) != 3 &&
      ((ah >> 49) & 0x3FFF) == ((bh >> 49) & 0x3FFF) &&
      (ah & kCoeffHighMask) == 0 && (bh & kCoeffHighMask) == 0) {
    bool an = (ah >> 63) && a.lo_ != 0, bn = (bh >> 63) && b.lo_ != 0;
    if (an != bn) return an ? -1 : 1;
    int c = a.lo_ < b.lo_ ? -1 : (a.lo_ > b.lo_ ? 1 : 0);
    return an ? -c : c;
  }
  D128 x = ToNative(a), y = ToNative(b);
  if (__bid_lttd2(x, y) < 0) return -1;
  if (__bid_gttd2(x, y) > 0) return 1;
  return 0;
}

}  // namespace rapport::feel
