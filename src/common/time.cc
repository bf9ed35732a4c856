#include "common/time.h"

#include <atomic>
#include <chrono>
#include <cstdio>

namespace rapport {
namespace {

bool ReadDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("'" + std::string(text.substr(0, 64)) +
                                 "' is not an RFC 3339 timestamp: " + std::string(why));
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::atomic<int> accepted_min_year{YearRange{}.min};
std::atomic<int> accepted_max_year{YearRange{}.max};

}  // namespace

void SetAcceptedYears(YearRange years) {
  accepted_min_year.store(years.min);
  accepted_max_year.store(years.max);
}

YearRange AcceptedYears() { return {accepted_min_year.load(), accepted_max_year.load()}; }

Status CheckYear(int64_t year) {
  YearRange r = AcceptedYears();
  if (year >= r.min && year <= r.max) return Status::Ok();
  return Status::InvalidArgument("the year " + std::to_string(year) + " is outside the accepted years " +
                                 std::to_string(r.min) + ".." + std::to_string(r.max));
}

Result<YearRange> ParseYearRange(std::string_view text) {
  size_t dots = text.find("..");
  int64_t lo = 0, hi = 0;
  if (dots == std::string_view::npos || dots == 0 || dots > 4 || text.size() - dots - 2 == 0 ||
      text.size() - dots - 2 > 4 || !ReadDigits(text, 0, dots, &lo) ||
      !ReadDigits(text, dots + 2, text.size() - dots - 2, &hi) || lo > hi) {
    return Status::InvalidArgument("accepted years are written MIN..MAX, e.g. 1900..2200");
  }
  return YearRange{static_cast<int>(lo), static_cast<int>(hi)};
}

// Howard Hinnant's days_from_civil, the algorithm behind std::chrono's calendar.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (m <= 2);
  *month = m;
  *day = d;
}

Result<Timestamp> ParseRfc3339(std::string_view s) {
  int64_t y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
  if (!ReadDigits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !ReadDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &d)) {
    return Bad(s, "expected YYYY-MM-DD");
  }
  if (Status year = CheckYear(y); !year.ok()) return Bad(s, year.message());
  if (mo < 1 || mo > 12) return Bad(s, "month out of range");
  if (d < 1 || d > DaysInMonth(y, static_cast<unsigned>(mo))) return Bad(s, "day out of range");
  size_t pos = 10;
  int64_t offset_minutes = 0;
  if (pos < s.size()) {
    char t = s[pos];
    if (t != 'T' && t != 't' && t != ' ') return Bad(s, "expected 'T' after the date");
    if (!ReadDigits(s, 11, 2, &h) || s.size() < 19 || s[13] != ':' || !ReadDigits(s, 14, 2, &mi) ||
        s[16] != ':' || !ReadDigits(s, 17, 2, &se)) {
      return Bad(s, "expected hh:mm:ss");
    }
    if (h > 23 || mi > 59 || se > 60) return Bad(s, "time out of range");
    if (se == 60) se = 59;  // leap second: clamp
    pos = 19;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t start = pos;
      int digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 6) {
          frac = frac * 10 + (s[pos] - '0');
          ++digits;
        }
        ++pos;
      }
      if (pos == start) return Bad(s, "empty fraction");
      for (; digits < 6; ++digits) frac *= 10;
    }
    if (pos >= s.size()) return Bad(s, "missing time zone offset ('Z' or +hh:mm)");
    char z = s[pos];
    if (z == 'Z' || z == 'z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      int64_t oh, om;
      if (!ReadDigits(s, pos + 1, 2, &oh)) return Bad(s, "bad offset");
      size_t mpos = pos + 3;
      if (mpos < s.size() && s[mpos] == ':') ++mpos;
      if (!ReadDigits(s, mpos, 2, &om)) return Bad(s, "bad offset");
      if (oh > 23 || om > 59) return Bad(s, "offset out of range");
      offset_minutes = (oh * 60 + om) * (z == '-' ? -1 : 1);
      pos = mpos + 2;
    } else {
      return Bad(s, "bad time zone offset");
    }
    if (pos != s.size()) return Bad(s, "trailing characters");
  }
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_minutes * 60;
  return Timestamp{secs * kMicrosPerSecond + frac};
}

std::string FormatRfc3339(Timestamp t) {
  int64_t micros = t.micros;
  int64_t days = micros >= 0 ? micros / kMicrosPerDay : -((-micros + kMicrosPerDay - 1) / kMicrosPerDay);
  int64_t rem = micros - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                        static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                        static_cast<long long>(secs % 60));
  if (frac != 0) {
    if (frac % 1000 == 0) {
      n += std::snprintf(buf + n, sizeof buf - n, ".%03lld", static_cast<long long>(frac / 1000));
    } else {
      n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(frac));
    }
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

std::string FormatDate(Timestamp t) { return FormatRfc3339(t).substr(0, 10); }

Timestamp SystemClock::Now() const {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return {std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
}

SystemClock* SystemClock::Default() {
  static SystemClock clock;
  return &clock;
}

}  // namespace rapport
