#pragma once
// Calendar and clock arithmetic for FEEL dates, times, date-and-times and
// durations: ISO 8601 parsing/formatting and IANA zone offsets (date/tz with
// the OS tz database). Stateless functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "feel/feel.h"

namespace rapport::feel::internal {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

struct TimeParts {
  int64_t nanos_of_day = 0;
  ZoneKind zone = ZoneKind::kLocal;
  int32_t offset_seconds = 0;
  std::string zone_id;
};

bool IsValidDate(int64_t year, int64_t month, int64_t day);
int DaysInMonth(int64_t year, int64_t month);
// "2020-01-31", "-0044-03-15", "999999999-12-31"; nullopt if malformed.
std::optional<int64_t> ParseDate(std::string_view s);
// "10:30:00", "10:30:00.123", "10:30:00Z", "10:30:00+02:00", "10:30:00@Europe/Paris".
std::optional<TimeParts> ParseTime(std::string_view s);
// Date and time text (or a bare date: midnight, local).
std::optional<Value> ParseDateTime(std::string_view s);
// ISO 8601 duration: years-months ("P1Y2M") or days-time ("P1DT2H3M4.5S").
std::optional<Value> ParseDuration(std::string_view s);

std::string FormatDate(int64_t epoch_days);
std::string FormatTime(int64_t nanos_of_day, ZoneKind zone, int32_t offset, const std::string& zone_id);
std::string FormatDaysTime(__int128 nanos);
std::string FormatYearsMonths(int64_t months);

// UTC offset in seconds of zone_id at the given local date-time; nullopt if
// the zone is unknown.
std::optional<int32_t> ZoneOffsetAtLocal(const std::string& zone_id, int64_t epoch_days, int64_t nanos_of_day);
bool IsKnownZone(const std::string& zone_id);

// Builds a date and time value from local fields; kZone resolves the offset.
Value MakeDateTime(int64_t days, int64_t nanos, ZoneKind zone, int32_t offset, std::string zone_id);

int64_t FloorDiv(int64_t a, int64_t b);
int64_t FloorMod(int64_t a, int64_t b);

}  // namespace rapport::feel::internal
