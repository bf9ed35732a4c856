#include "common/money.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace rapport {
namespace {

Status NotAnAmount(std::string_view text) {
  return Status::InvalidArgument("'" + std::string(text.substr(0, 64)) + "' is not a decimal number");
}

Status OutOfRange() {
  return Status::InvalidArgument("amounts are at most 100000000000 in magnitude");
}

}  // namespace

Result<Money> Money::Parse(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string digits;  // significant digits, without leading zeros
  int64_t exp10 = 0;   // value = digits * 10^exp10
  size_t int_digits = 0, frac_digits = 0;
  auto take = [&](char c) {
    if (!digits.empty() || c != '0') digits.push_back(c);
  };
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    take(text[i++]);
    ++int_digits;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      take(text[i++]);
      ++frac_digits;
      --exp10;
    }
  }
  if (int_digits + frac_digits == 0) return NotAnAmount(text);
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool neg_exp = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg_exp = text[i++] == '-';
    size_t start = i;
    int64_t e = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      e = std::min<int64_t>(e * 10 + (text[i++] - '0'), 100'000);  // beyond range either way
    }
    if (i == start) return NotAnAmount(text);
    exp10 += neg_exp ? -e : e;
  }
  if (i != text.size()) return NotAnAmount(text);
  if (digits.empty()) return Money();
  while (digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  int64_t scale = exp10 + kDecimals;  // units = digits * 10^scale
  if (scale < 0) return Status::InvalidArgument("amounts have at most 4 decimal places");
  if (static_cast<int64_t>(digits.size()) + scale > 16) return OutOfRange();
  int64_t units = 0;
  for (char c : digits) units = units * 10 + (c - '0');
  for (int64_t k = 0; k < scale; ++k) units *= 10;
  if (units > kMaxUnits) return OutOfRange();
  return Money(negative ? -units : units);
}

Result<Money> Money::FromDouble(double v) {
  if (!std::isfinite(v)) return Status::InvalidArgument("an amount must be a finite number");
  if (std::fabs(v) > 1e12) return OutOfRange();  // no text needed to know
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return Parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

std::string Money::ToString() const {
  // Magnitude as unsigned: |INT64_MIN| (a saturated sum) has no int64.
  uint64_t mag = units_ < 0 ? 0 - static_cast<uint64_t>(units_) : static_cast<uint64_t>(units_);
  std::string out = units_ < 0 ? "-" : "";
  out += std::to_string(mag / kUnitsPerWhole);
  uint64_t frac = mag % kUnitsPerWhole;
  if (frac != 0) {
    char f[kDecimals + 1] = {};
    for (int k = kDecimals - 1; k >= 0; --k) {
      f[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    std::string_view fv(f, kDecimals);
    while (fv.back() == '0') fv.remove_suffix(1);
    out += '.';
    out += fv;
  }
  return out;
}

Result<Money> Money::Times(double quantity) const {
  if (!std::isfinite(quantity)) return Status::InvalidArgument("a quantity must be a finite number");
  long double product = static_cast<long double>(units_) * quantity;
  if (std::fabs(product) > static_cast<long double>(kMaxUnits)) return OutOfRange();
  return Money(static_cast<int64_t>(std::llround(product)));
}

void MoneySum::Add(Money m) { AddUnits(m.units()); }

void MoneySum::AddUnits(int64_t units) {
  if (__builtin_add_overflow(total_, units, &total_)) {
    total_ = units > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
}

namespace {

struct Currency {
  std::string_view code;
  int minor_unit;
};

// ISO 4217 list one (active codes), those with a minor unit: precious
// metals, SDRs and test codes (XAU, XDR, XTS, XXX ...) have none and are no
// money an order is paid in. Sorted by code for binary search.
constexpr std::array kCurrencies = std::to_array<Currency>({
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2},
    {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
    {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2},
    {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2},
    {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
    {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2},
    {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2},
    {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
    {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2},
    {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
    {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2},
    {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
    {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2},
    {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4},
    {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2},
    {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
});

}  // namespace

std::optional<int> CurrencyMinorUnit(std::string_view code) {
  auto it = std::lower_bound(kCurrencies.begin(), kCurrencies.end(), code,
                             [](const Currency& c, std::string_view k) { return c.code < k; });
  if (it == kCurrencies.end() || it->code != code) return std::nullopt;
  return it->minor_unit;
}

Result<std::string> NormalizeCurrency(std::string_view code) {
  std::string upper(code.substr(0, 8));
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (code.size() != 3 || !CurrencyMinorUnit(upper)) {
    return Status::InvalidArgument("currency must be an ISO 4217 code such as EUR, got '" +
                                   std::string(code.substr(0, 32)) + "'");
  }
  return upper;
}

}  // namespace rapport
