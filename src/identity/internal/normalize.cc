// Normalizers: the forms in which values are compared and blocked. Names and
// addresses go through ICU ("Any-Latin; Latin-ASCII") so "Müller", "Muller"
// and "Мюллер" meet; plain ASCII skips ICU, which is most input and much faster.
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <array>
#include <cstdio>
#include <vector>
#include <memory>
#include <mutex>

#include "identity/identity.h"

namespace rapport::identity {
namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string ToAscii(std::string_view s) {
  if (IsAscii(s)) return std::string(s);
  // One transliterator per thread: ICU transliterators are not thread-safe.
  thread_local std::unique_ptr<icu::Transliterator> translit = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        icu::UnicodeString::fromUTF8("Any-Latin; Latin-ASCII"), UTRANS_FORWARD, status));
    if (U_FAILURE(status)) t.reset();
    return t;
  }();
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  if (translit) translit->transliterate(u);
  std::string out;
  u.toUTF8String(out);
  // Whatever ICU could not map stays non-ASCII and is dropped by the caller.
  return out;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Lower-case letters and digits; every run of anything else becomes one space.
std::string Simplify(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char raw : s) {
    char c = Lower(raw);
    if (IsAlnum(c)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(c);
    } else if (c != '\'') {  // "o'brien" -> "obrien"
      space = true;
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

struct Abbreviation {
  std::string_view word, full;
};
constexpr std::array<Abbreviation, 18> kAddressWords = {{
    {"st", "street"}, {"str", "strasse"}, {"rd", "road"}, {"ave", "avenue"}, {"av", "avenue"},
    {"dr", "drive"}, {"ln", "lane"}, {"cres", "crescent"}, {"cct", "circuit"}, {"pl", "place"},
    {"ct", "court"}, {"hwy", "highway"}, {"blvd", "boulevard"}, {"sq", "square"}, {"tce", "terrace"},
    {"pde", "parade"}, {"apt", "apartment"}, {"mt", "mount"},
}};

std::string ExpandAddress(const std::string& simple) {
  std::string out;
  size_t i = 0;
  while (i <= simple.size()) {
    size_t j = simple.find(' ', i);
    if (j == std::string::npos) j = simple.size();
    std::string_view word(simple.data() + i, j - i);
    // "hauptstr" -> "hauptstrasse" (German compounds end in the abbreviation).
    if (word.size() > 4 && word.substr(word.size() - 3) == "str") {
      out.append(word).append("asse");
    } else {
      std::string_view full = word;
      for (const Abbreviation& a : kAddressWords) {
        if (a.word == word) full = a.full;
      }
      out.append(full);
    }
    if (j < simple.size()) out.push_back(' ');
    i = j + 1;
  }
  return out;
}

bool ValidDate(int y, int m, int d) {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kDays[m - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

std::string NormalizeDate(std::string_view s) {
  s = Trim(s);
  std::vector<int> parts;
  std::vector<size_t> widths;
  int cur = 0;
  size_t width = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (width >= 8) return "";
      cur = cur * 10 + (c - '0');
      ++width;
    } else if (c == '-' || c == '.' || c == '/') {
      if (width == 0) return "";
      parts.push_back(cur);
      widths.push_back(width);
      cur = 0;
      width = 0;
    } else {
      return "";
    }
  }
  if (width == 0) return "";
  parts.push_back(cur);
  widths.push_back(width);
  int y, m, d;
  if (parts.size() == 1 && widths[0] == 8) {
    y = parts[0] / 10000, m = parts[0] / 100 % 100, d = parts[0] % 100;
  } else if (parts.size() == 3 && widths[0] == 4) {
    y = parts[0], m = parts[1], d = parts[2];
  } else if (parts.size() == 3 && widths[2] == 4) {
    d = parts[0], m = parts[1], y = parts[2];
  } else {
    return "";
  }
  if (!ValidDate(y, m, d)) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
  return buf;
}

std::string NormalizePhone(std::string_view s, const NormalizeOptions& options) {
  s = Trim(s);
  bool plus = !s.empty() && s.front() == '+';
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (digits.size() < 5 || digits.size() > 17) return "";
  if (plus) return "+" + digits;
  if (digits.compare(0, 2, "00") == 0) return "+" + digits.substr(2);
  if (digits.front() == '0') return "+" + options.default_country_code + digits.substr(1);
  // Without a trunk prefix: an international number missing its "+" when it
  // already starts with the country code and is long enough, else national.
  const std::string& cc = options.default_country_code;
  if (digits.size() >= 11 && digits.compare(0, cc.size(), cc) == 0) return "+" + digits;
  return "+" + cc + digits;
}

std::string NormalizeEmail(std::string_view s) {
  std::string e;
  for (char c : Trim(s)) e.push_back(Lower(c));
  size_t at = e.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= e.size() || e.find('@', at + 1) != std::string::npos) return "";
  size_t plus = e.find('+');
  if (plus != std::string::npos && plus < at) e.erase(plus, at - plus);
  return e;
}

}  // namespace

Result<Normalizer> ParseNormalizer(std::string_view name) {
  static constexpr std::pair<std::string_view, Normalizer> kNames[] = {
      {"none", Normalizer::kNone},   {"text", Normalizer::kText},     {"name", Normalizer::kName},
      {"address", Normalizer::kAddress}, {"email", Normalizer::kEmail}, {"phone", Normalizer::kPhone},
      {"digits", Normalizer::kDigits}, {"date", Normalizer::kDate},
  };
  for (const auto& [n, v] : kNames) {
    if (n == name) return v;
  }
  return Status::InvalidArgument("unknown normalizer \"" + std::string(name) +
                                 "\"; expected none, text, name, address, email, phone, digits or date");
}

std::string_view NormalizerName(Normalizer n) {
  switch (n) {
    case Normalizer::kNone: return "none";
    case Normalizer::kText: return "text";
    case Normalizer::kName: return "name";
    case Normalizer::kAddress: return "address";
    case Normalizer::kEmail: return "email";
    case Normalizer::kPhone: return "phone";
    case Normalizer::kDigits: return "digits";
    case Normalizer::kDate: return "date";
  }
  return "none";
}

std::string Normalize(Normalizer n, std::string_view value, const NormalizeOptions& options) {
  switch (n) {
    case Normalizer::kNone:
      return std::string(Trim(value));
    case Normalizer::kText: {
      std::string out;
      bool space = false;
      for (char c : Trim(value)) {
        if (c == ' ' || c == '\t') {
          space = true;
          continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(Lower(c));
      }
      return out;
    }
    case Normalizer::kName:
      return Simplify(ToAscii(value));
    case Normalizer::kAddress:
      return ExpandAddress(Simplify(ToAscii(value)));
    case Normalizer::kEmail:
      return NormalizeEmail(value);
    case Normalizer::kPhone:
      return NormalizePhone(value, options);
    case Normalizer::kDigits: {
      std::string out;
      for (char c : value) {
        if (c >= '0' && c <= '9') out.push_back(c);
      }
      return out;
    }
    case Normalizer::kDate:
      return NormalizeDate(value);
  }
  return std::string(value);
}

}  // namespace rapport::identity
