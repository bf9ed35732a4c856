// RFC 4180 reading, and the number and date readers the mappings use.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "ingest/import.h"

namespace rapport::ingest {

CsvReader::CsvReader(std::string_view text, char delimiter) : text_(text), delim_(delimiter) {
  if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::Next(std::vector<std::string_view>* fields) {
  fields->clear();
  error_.clear();
  size_t used_scratch = 0;
  if (pos_ >= text_.size()) return false;
  record_line_ = next_line_;
  const char* p = text_.data();
  const size_t n = text_.size();
  size_t i = pos_;
  while (true) {
    if (i < n && p[i] == '"') {
      // Quoted field: find the closing quote, unescaping doubled quotes.
      size_t start = ++i;
      bool doubled = false;
      bool closed = false;
      while (i < n) {
        char c = p[i];
        if (c == '"') {
          if (i + 1 < n && p[i + 1] == '"') {
            doubled = true;
            i += 2;
            continue;
          }
          closed = true;
          break;
        }
        if (c == '\n') ++next_line_;
        ++i;
      }
      std::string_view raw(p + start, i - start);
      if (!closed) {
        if (error_.empty()) error_ = "unterminated quoted field";
        fields->push_back(raw);
        pos_ = n;
        return true;
      }
      ++i;  // past the closing quote
      if (doubled) {
        if (used_scratch == scratch_.size()) scratch_.emplace_back();
        std::string& s = scratch_[used_scratch++];
        s.clear();
        for (size_t k = 0; k < raw.size(); ++k) {
          s.push_back(raw[k]);
          if (raw[k] == '"') ++k;  // skip the second quote of a pair
        }
        fields->push_back(s);
      } else {
        fields->push_back(raw);
      }
      // After a closing quote: delimiter, end of record, or garbage.
      if (i < n && p[i] != delim_ && p[i] != '\n' && p[i] != '\r') {
        if (error_.empty()) error_ = "text after closing quote in field " + std::to_string(fields->size());
        while (i < n && p[i] != delim_ && p[i] != '\n') ++i;
        if (i < n && p[i] == delim_) {
          ++i;
          continue;
        }
      }
    } else {
      size_t start = i;
      while (i < n && p[i] != delim_ && p[i] != '\n') {
        if (p[i] == '"' && error_.empty()) error_ = "quote inside unquoted field " + std::to_string(fields->size() + 1);
        ++i;
      }
      size_t end = i;
      if ((i >= n || p[i] == '\n') && end > start && p[end - 1] == '\r') --end;
      fields->push_back(std::string_view(p + start, end - start));
    }
    if (i < n && p[i] == delim_) {
      ++i;
      continue;
    }
    // End of record: CRLF, LF or end of input.
    if (i < n && p[i] == '\r') ++i;
    if (i < n && p[i] == '\n') {
      ++i;
      ++next_line_;
    }
    pos_ = i;
    return true;
  }
}

namespace {

// The number in text without thousands separators, with '.' as the decimal
// mark and without a leading '+': what from_chars and Money::Parse read.
Result<std::string> PlainNumber(std::string_view text, bool decimal_comma) {
  // Trim spaces.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return Status::InvalidArgument("empty number");
  std::string out;
  const char decimal = decimal_comma ? ',' : '.';
  const char thousands = decimal_comma ? '.' : ',';
  bool seen_decimal = false;
  for (char c : text) {
    if (out.size() + 1 >= 64) return Status::InvalidArgument("number too long: " + std::string(text.substr(0, 40)));
    if (c == decimal) {
      if (seen_decimal) return Status::InvalidArgument("not a number: " + std::string(text));
      seen_decimal = true;
      out.push_back('.');
    } else if (c == thousands || (decimal_comma && c == ' ') || c == '\'') {
      if (seen_decimal) return Status::InvalidArgument("not a number: " + std::string(text));
    } else if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
      out.push_back(c);
    } else {
      return Status::InvalidArgument("not a number: " + std::string(text));
    }
  }
  if (out[0] == '+') out.erase(0, 1);
  return out;
}

}  // namespace

Result<double> ParseNumber(std::string_view text, bool decimal_comma) {
  RP_ASSIGN_OR_RETURN(std::string plain, PlainNumber(text, decimal_comma));
  double v = 0;
  auto [ptr, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), v);
  if (ec != std::errc() || ptr != plain.data() + plain.size() || !std::isfinite(v)) {
    return Status::InvalidArgument("not a number: " + std::string(text));
  }
  return v;
}

Result<Money> ParseMoney(std::string_view text, bool decimal_comma) {
  RP_ASSIGN_OR_RETURN(std::string plain, PlainNumber(text, decimal_comma));
  return Money::Parse(plain);
}

namespace {

bool ReadDigits(std::string_view text, size_t* i, int count, int64_t* out) {
  int64_t v = 0;
  int got = 0;
  while (got < count && *i < text.size() && text[*i] >= '0' && text[*i] <= '9') {
    v = v * 10 + (text[*i] - '0');
    ++*i;
    ++got;
  }
  // Day, month and hour fields accept one digit ("1.3.2024").
  if (got == 0 || (got < count && count != 2)) return false;
  *out = v;
  return true;
}

}  // namespace

Result<Timestamp> ParseTime(std::string_view text, std::string_view pattern) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.empty()) return Status::InvalidArgument("empty date");
  if (pattern.empty()) return ParseRfc3339(text);
  if (pattern == "epoch" || pattern == "epochMillis") {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return Status::InvalidArgument("not a Unix time: " + std::string(text));
    }
    const int64_t limit = pattern == "epoch" ? 9'000'000'000'000LL : 9'000'000'000'000'000LL;
    if (v > limit || v < -limit) {
      return Status::InvalidArgument("Unix time out of range: " + std::string(text));
    }
    Timestamp t = pattern == "epoch" ? Timestamp::FromSeconds(v) : Timestamp::FromMillis(v);
    int64_t y;
    unsigned m, d;
    CivilFromDays(t.seconds() / 86'400, &y, &m, &d);
    RP_RETURN_IF_ERROR(CheckYear(y));
    return t;
  }
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, micros = 0;
  size_t i = 0;
  size_t k = 0;
  auto fail = [&] {
    return Status::InvalidArgument("'" + std::string(text) + "' does not match date format " + std::string(pattern));
  };
  while (k < pattern.size()) {
    std::string_view rest = pattern.substr(k);
    bool ok = true;
    if (rest.starts_with("YYYY")) {
      ok = ReadDigits(text, &i, 4, &year);
      k += 4;
    } else if (rest.starts_with("YY")) {
      ok = ReadDigits(text, &i, 2, &year);
      year += year < 70 ? 2000 : 1900;
      k += 2;
    } else if (rest.starts_with("MM")) {
      ok = ReadDigits(text, &i, 2, &month);
      k += 2;
    } else if (rest.starts_with("DD")) {
      ok = ReadDigits(text, &i, 2, &day);
      k += 2;
    } else if (rest.starts_with("HH")) {
      ok = ReadDigits(text, &i, 2, &hour);
      k += 2;
    } else if (rest.starts_with("mm")) {
      ok = ReadDigits(text, &i, 2, &minute);
      k += 2;
    } else if (rest.starts_with("ss")) {
      ok = ReadDigits(text, &i, 2, &second);
      k += 2;
    } else if (rest.starts_with("SSS")) {
      size_t start = i;
      int64_t frac = 0;
      int digits = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (digits < 6) {
          frac = frac * 10 + (text[i] - '0');
          ++digits;
        }
        ++i;
      }
      ok = i > start;
      while (digits < 6) {
        frac *= 10;
        ++digits;
      }
      micros = frac;
      k += 3;
    } else {
      ok = i < text.size() && text[i] == pattern[k];
      ++i;
      ++k;
    }
    if (!ok) return fail();
  }
  if (i != text.size()) return fail();
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return fail();
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return fail();
  RP_RETURN_IF_ERROR(CheckYear(year));
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return Timestamp{days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + micros};
}

}  // namespace rapport::ingest
