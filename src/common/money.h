#pragma once
// Money as an exact decimal: a count of 10^-4 of the currency unit in an
// int64, so 0.1 + 0.2 is 0.3 and a sum of cents is the sum a ledger shows.
// Amounts are at most 10^11 currency units in magnitude with at most four
// decimal places: at most 15 significant digits, which is also what a
// binary double carries exactly, so a JSON number read by any parser gives
// back its own digits. And the ISO 4217 currency table with each code's
// minor unit. Values; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rapport {

class Money {
 public:
  static constexpr int kDecimals = 4;
  static constexpr int64_t kUnitsPerWhole = 10'000;
  static constexpr int64_t kMaxUnits = 100'000'000'000LL * kUnitsPerWhole;  // |amount| <= 10^11

  constexpr Money() = default;
  static constexpr Money FromUnits(int64_t units) { return Money(units); }
  static constexpr Money FromWhole(int64_t whole) { return Money(whole * kUnitsPerWhole); }

  // Decimal text: "-12.34", "1200", "1.5e3". InvalidArgument (without a
  // field) when it is no number, has more than four decimal places
  // ("0.00001") or lies beyond +-10^11.
  static Result<Money> Parse(std::string_view text);
  // The decimal of the shortest text that reads back as v (exact for every
  // amount within range); InvalidArgument for NaN, infinity or what Parse refuses.
  static Result<Money> FromDouble(double v);

  int64_t units() const { return units_; }
  // The nearest double (for columnar scans and FEEL numbers, not for storage).
  double ToDouble() const { return static_cast<double>(units_) / kUnitsPerWhole; }
  // The shortest exact decimal text: "753811.93", "-0.5", "12".
  std::string ToString() const;

  // This amount times a quantity, rounded half away from zero to 10^-4;
  // InvalidArgument when the product is beyond range.
  Result<Money> Times(double quantity) const;

  auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(int64_t units) : units_(units) {}
  int64_t units_ = 0;
};

// A running total of amounts. Sums of in-range amounts are exact up to
// +-9.2 * 10^14 currency units (the int64 range of 10^-4 units); beyond
// that the total saturates there instead of wrapping.
class MoneySum {
 public:
  void Add(Money m);
  void AddUnits(int64_t units);
  Money total() const { return Money::FromUnits(total_); }

 private:
  int64_t total_ = 0;
};

// The minor unit (decimal places) of an active ISO 4217 currency code
// ("EUR" -> 2, "JPY" -> 0, "KWD" -> 3), or nullopt for anything else.
std::optional<int> CurrencyMinorUnit(std::string_view code);

// An ISO 4217 code, upper-cased ("eur" -> "EUR"); InvalidArgument (without a
// field) for anything that is not an active code ("DOGECOIN", "XYZ").
Result<std::string> NormalizeCurrency(std::string_view code);

}  // namespace rapport
