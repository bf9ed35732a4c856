#pragma once
// Instants and their RFC 3339 text form. Rapport keeps every instant as UTC
// microseconds since the Unix epoch; the API speaks RFC 3339 in UTC.
// Clock is the seam that lets tests control time.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rapport {

// Microseconds since 1970-01-01T00:00:00Z.
struct Timestamp {
  int64_t micros = 0;

  static Timestamp FromSeconds(int64_t s) { return {s * 1'000'000}; }
  static Timestamp FromMillis(int64_t ms) { return {ms * 1'000}; }
  int64_t seconds() const { return micros >= 0 ? micros / 1'000'000 : -((-micros + 999'999) / 1'000'000); }
  auto operator<=>(const Timestamp&) const = default;
};

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400LL * kMicrosPerSecond;

// The years a timestamp or date given to Rapport may fall in, 1900..2200
// unless configured (rapport serve --accepted-years): outside them a value is
// a typo or an attack (year 0000), not an instant. Thread-safe; set at startup.
struct YearRange {
  int min = 1900;
  int max = 2200;
};
void SetAcceptedYears(YearRange years);
YearRange AcceptedYears();
// InvalidArgument (without a field) unless year is within AcceptedYears().
Status CheckYear(int64_t year);
// "1900..2200" -> {1900, 2200}; InvalidArgument unless min <= max, both in 0..9999.
Result<YearRange> ParseYearRange(std::string_view text);

// Accepts "2026-03-01T12:30:00Z", fractional seconds up to microseconds,
// numeric offsets ("+02:00", "-0500"), lower-case 't'/'z', a space instead of
// 'T', and a bare date ("2026-03-01", midnight UTC). The year must be
// within AcceptedYears().
Result<Timestamp> ParseRfc3339(std::string_view text);

// "2026-03-01T12:30:00Z", with ".123" or ".123456" when there is a fraction.
std::string FormatRfc3339(Timestamp t);

// "2026-03-01" (UTC calendar date of t).
std::string FormatDate(Timestamp t);

// Days since the epoch of a civil date and back (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

// The source of "now". Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  static SystemClock* Default();
};

// A clock tests set and advance by hand. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start.micros) {}
  Timestamp Now() const override { return {now_.load()}; }
  void Set(Timestamp t) { now_.store(t.micros); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace rapport
