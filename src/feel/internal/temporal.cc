// ISO 8601 parsing/formatting and zone lookups for FEEL temporal values.

#include "feel/internal/temporal.h"

#include <date/tz.h>

#include <cstdio>

namespace rapport::feel::internal {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

static bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int64_t month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeap(year)) return 29;
  return kDays[(month - 1) % 12];
}

bool IsValidDate(int64_t year, int64_t month, int64_t day) {
  return year >= -999'999'999 && year <= 999'999'999 && month >= 1 && month <= 12 && day >= 1 &&
         day <= DaysInMonth(year, month);
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Parses a date prefix; returns the length consumed or 0.
size_t ParseDatePrefix(std::string_view s, int64_t* days) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  size_t ylen = i - start;
  if (ylen < 4 || ylen > 9) return 0;
  if (ylen > 4 && s[start] == '0') return 0;
  int64_t year, month, day;
  if (!Digits(s, start, ylen, &year)) return 0;
  if (neg) year = -year;
  if (i >= s.size() || s[i] != '-') return 0;
  if (!Digits(s, i + 1, 2, &month) || i + 3 >= s.size() || s[i + 3] != '-' || !Digits(s, i + 4, 2, &day)) return 0;
  if (!IsValidDate(year, month, day)) return 0;
  *days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return i + 6;
}

}  // namespace

std::optional<int64_t> ParseDate(std::string_view s) {
  int64_t days;
  size_t n = ParseDatePrefix(s, &days);
  if (n == 0 || n != s.size()) return std::nullopt;
  return days;
}

bool IsKnownZone(const std::string& zone_id) {
  try {
    return date::locate_zone(zone_id) != nullptr;
  } catch (...) {
    return false;
  }
}

std::optional<int32_t> ZoneOffsetAtLocal(const std::string& zone_id, int64_t epoch_days, int64_t nanos_of_day) {
  try {
    const date::time_zone* tz = date::locate_zone(zone_id);
    if (tz == nullptr) return std::nullopt;
    using namespace std::chrono;
    date::local_seconds lt{seconds(epoch_days * 86400 + nanos_of_day / kNanosPerSecond)};
    auto info = tz->get_info(lt);
    const date::sys_info& si = info.result == date::local_info::ambiguous ? info.first : info.first;
    return static_cast<int32_t>(si.offset.count());
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<TimeParts> ParseTime(std::string_view s) {
  TimeParts t;
  int64_t h, m, sec;
  if (!Digits(s, 0, 2, &h) || s.size() < 8 || s[2] != ':' || !Digits(s, 3, 2, &m) || s[5] != ':' ||
      !Digits(s, 6, 2, &sec))
    return std::nullopt;
  size_t i = 8;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100'000'000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  if (h > 24 || m > 59 || sec > 59 || (h == 24 && (m != 0 || sec != 0 || frac != 0))) return std::nullopt;
  if (h == 24) h = 0;
  t.nanos_of_day = ((h * 60 + m) * 60 + sec) * kNanosPerSecond + frac;
  if (i == s.size()) return t;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return std::nullopt;
    t.zone = ZoneKind::kOffset;
    return t;
  }
  if (s[i] == '+' || s[i] == '-') {
    int sign = s[i] == '-' ? -1 : 1;
    int64_t oh, om, os = 0;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, &om))
      return std::nullopt;
    size_t end = i + 6;
    if (end < s.size()) {
      if (s[end] != ':' || !Digits(s, end + 1, 2, &os)) return std::nullopt;
      end += 3;
    }
    if (end != s.size() || oh > 18 || om > 59 || os > 59) return std::nullopt;
    t.zone = ZoneKind::kOffset;
    t.offset_seconds = static_cast<int32_t>(sign * (oh * 3600 + om * 60 + os));
    return t;
  }
  if (s[i] == '@') {
    t.zone_id = std::string(s.substr(i + 1));
    if (t.zone_id.empty() || !IsKnownZone(t.zone_id)) return std::nullopt;
    t.zone = ZoneKind::kZone;
    return t;
  }
  return std::nullopt;
}

Value MakeDateTime(int64_t days, int64_t nanos, ZoneKind zone, int32_t offset, std::string zone_id) {
  return Value::DateTime(days, nanos, zone, offset, std::move(zone_id));
}

std::optional<Value> ParseDateTime(std::string_view s) {
  int64_t days;
  size_t n = ParseDatePrefix(s, &days);
  if (n == 0) return std::nullopt;
  if (n == s.size()) return Value::DateTime(days, 0);
  if (s[n] != 'T' && s[n] != 't') return std::nullopt;
  std::string time_text(s.substr(n + 1));
  bool is_24 = time_text.rfind("24:00:00", 0) == 0;
  auto t = ParseTime(time_text);
  if (!t) return std::nullopt;
  if (is_24) ++days;
  return Value::DateTime(days, t->nanos_of_day, t->zone, t->offset_seconds, t->zone_id);
}

std::optional<Value> ParseDuration(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  if (i >= s.size() || s[i] != 'P') return std::nullopt;
  ++i;
  if (i >= s.size()) return std::nullopt;
  int64_t years = 0, months = 0, days = 0, hours = 0, minutes = 0;
  __int128 sec_nanos = 0;
  bool any = false, in_time = false, ym = false, dt = false;
  int last_rank = -1;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      if (i >= s.size()) return std::nullopt;
      continue;
    }
    size_t start = i;
    int64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (v > 100'000'000'000'000LL) return std::nullopt;
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return std::nullopt;
    int64_t frac = 0;
    bool has_frac = false;
    if (i < s.size() && s[i] == '.') {
      has_frac = true;
      ++i;
      // "PT0.S": XML Schema allows a decimal point with no fraction digits.
      int64_t scale = 100'000'000;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        frac += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
    }
    if (i >= s.size()) return std::nullopt;
    char u = s[i++];
    int rank;
    if (!in_time) {
      if (u == 'Y') rank = 0, years = v, ym = true;
      else if (u == 'M') rank = 1, months = v, ym = true;
      else if (u == 'D') rank = 3, days = v, dt = true;
      else return std::nullopt;
    } else {
      if (u == 'H') rank = 4, hours = v, dt = true;
      else if (u == 'M') rank = 5, minutes = v, dt = true;
      else if (u == 'S') rank = 6, sec_nanos = static_cast<__int128>(v) * kNanosPerSecond + frac, dt = true;
      else return std::nullopt;
    }
    if (has_frac && u != 'S') return std::nullopt;
    if (rank <= last_rank) return std::nullopt;
    last_rank = rank;
    any = true;
  }
  if (!any) return std::nullopt;
  if (ym && dt) return std::nullopt;
  if (ym) {
    int64_t total = years * 12 + months;
    return Value::YearsMonthsDuration(neg ? -total : total);
  }
  __int128 total = ((static_cast<__int128>(days) * 24 + hours) * 60 + minutes) * 60 * kNanosPerSecond + sec_nanos;
  return Value::DaysTimeDuration(neg ? -total : total);
}

std::string FormatDate(int64_t epoch_days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(epoch_days, &y, &m, &d);
  char buf[40];
  if (y < 0)
    std::snprintf(buf, sizeof buf, "-%04lld-%02u-%02u", static_cast<long long>(-y), m, d);
  else
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

static std::string FormatFraction(int64_t nanos) {
  if (nanos == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(nanos));
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  return s;
}

std::string FormatTime(int64_t nanos_of_day, ZoneKind zone, int32_t offset, const std::string& zone_id) {
  int64_t secs = nanos_of_day / kNanosPerSecond;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string s = buf;
  s += FormatFraction(nanos_of_day % kNanosPerSecond);
  if (zone == ZoneKind::kOffset) {
    if (offset == 0) {
      s += "Z";
    } else {
      int32_t a = offset < 0 ? -offset : offset;
      std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
      s += buf;
      if (a % 60) {
        std::snprintf(buf, sizeof buf, ":%02d", a % 60);
        s += buf;
      }
    }
  } else if (zone == ZoneKind::kZone) {
    s += "@" + zone_id;
  }
  return s;
}

std::string FormatDaysTime(__int128 nanos) {
  std::string s;
  if (nanos < 0) {
    s = "-";
    nanos = -nanos;
  }
  s += "P";
  __int128 secs = nanos / kNanosPerSecond;
  int64_t frac = static_cast<int64_t>(nanos % kNanosPerSecond);
  int64_t days = static_cast<int64_t>(secs / 86400);
  int64_t h = static_cast<int64_t>(secs / 3600 % 24), m = static_cast<int64_t>(secs / 60 % 60),
          sec = static_cast<int64_t>(secs % 60);
  if (days) s += std::to_string(days) + "D";
  if (h || m || sec || frac) {
    s += "T";
    if (h) s += std::to_string(h) + "H";
    if (m) s += std::to_string(m) + "M";
    if (sec || frac) s += std::to_string(sec) + FormatFraction(frac) + "S";
  }
  if (s == "P" || s == "-P") s = "PT0S";
  return s;
}

std::string FormatYearsMonths(int64_t months) {
  std::string s;
  if (months < 0) {
    s = "-";
    months = -months;
  }
  s += "P";
  if (months / 12) s += std::to_string(months / 12) + "Y";
  if (months % 12 || months == 0) s += std::to_string(months % 12) + "M";
  return s;
}

}  // namespace rapport::feel::internal
